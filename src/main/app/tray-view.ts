import { num } from '../../shared/narrow.js';
import type { GuardMode, RiskLevel, RiskReason } from '../../shared/risk.js';
import type { CeilingSource } from '../../shared/sample.js';
import type { StatusView } from '../../shared/status-view.js';
import type { GuardProfile } from '../core/actions/guard-profile.js';
import type { LoginItemView } from './login-item.js';
import type { BannerState } from './notification-controller.js';

/** What the menu bar shows: derived from the daemon's status each tick. */
export interface TrayView {
  level: RiskLevel;
  reasons: RiskReason[];
  freePercent: number | null;
  wiredBytes: number | null;
  gpuInUse: number | null;
  gpuCeiling: number | null;
  /** Where the ceiling came from (metal, wired-limit-sysctl, …, estimate); absent or null when not said. */
  gpuCeilingSource?: CeilingSource | null;
  exoReachable: boolean;
  model: string | null;
  processes: Array<{ pid: number; role: string; footprint: number | null }>;
  lastPanic: { id: number; kind: string | null; time: number } | null;
  guardMode: GuardMode;
  /** The hand-picked mode, or null when the guard follows the level. */
  guardOverride: GuardMode | null;
  hold: { reason: string } | null;
  /** The guard profile in effect (protect, balanced, observe); absent when the status does not say. */
  guardProfile?: GuardProfile;
  launchAtLogin: LoginItemView;
  /** The alert a banner could not show, until it is opened (set by the tray controller). */
  alert?: { title: string; body: string; time: number } | null;
  /** Whether banners reach the person (set by the tray controller from the notification controller). */
  banners?: BannerState;
}

export type TrayState = 'ok' | 'elevated' | 'high' | 'critical' | 'exo-down' | 'hold';

/** Icon file per state in assets/ (each has an @2x twin); calm is a template image macOS tints. */
export const TRAY_ICONS: Record<TrayState, string> = {
  ok: 'trayTemplate.png',
  elevated: 'tray-elevated.png',
  high: 'tray-high.png',
  critical: 'tray-critical.png',
  'exo-down': 'tray-exo-down.png',
  hold: 'tray-hold.png',
};

/** The icon to show: a hold or a raised level wins over "EXO not running"; calm is the template icon. */
export function trayState(v: TrayView): TrayState {
  if (v.hold) return 'hold';
  if (v.level !== 'ok') return v.level;
  if (!v.exoReachable) return 'exo-down';
  return 'ok';
}

/** The key figure: GPU in use as a percentage of the Metal ceiling. */
export function gpuPercent(v: Pick<TrayView, 'gpuInUse' | 'gpuCeiling'>): number | null {
  return v.gpuInUse !== null && v.gpuCeiling ? Math.round((100 * v.gpuInUse) / v.gpuCeiling) : null;
}

/** The menu's word on the ceiling: "estimated" when it is the guess from RAM, its source when read, else nothing. */
export function ceilingNote(v: Pick<TrayView, 'gpuCeiling' | 'gpuCeilingSource'>): string {
  if (v.gpuCeiling === null) return ' (ceiling unknown)';
  if (!v.gpuCeilingSource) return '';
  return v.gpuCeilingSource === 'estimate'
    ? ' (ceiling estimated from RAM)'
    : ` (ceiling: ${v.gpuCeilingSource})`;
}

/**
 * Builds the view from the daemon's status (the same object `/api/v1/status` returns). Figures are narrowed
 * once more (`num`): a reading that is not a finite number shows as unknown, never as NaN.
 */
export function trayViewFromStatus(status: StatusView, launchAtLogin: TrayView['launchAtLogin']): TrayView {
  const { sample, risk, exo, panics } = status;
  const latest = panics.latest;
  return {
    level: risk.level,
    reasons: risk.reasons,
    freePercent: num(sample?.memory.freePercent),
    wiredBytes: num(sample?.memory.wired),
    gpuInUse: num(sample?.gpu.inUseBytes),
    gpuCeiling: num(sample?.gpu.ceilingBytes),
    gpuCeilingSource: sample?.gpu.ceilingSource ?? null,
    exoReachable: exo.reachable,
    model: exo.instances[0]?.modelId ?? null,
    processes: (sample?.processes ?? []).map((p) => ({
      pid: p.pid,
      role: p.role,
      footprint: num(p.physFootprint),
    })),
    lastPanic: latest ? { id: latest.id, kind: latest.kind, time: latest.panicTime ?? latest.mtime } : null,
    guardMode: status.guardMode,
    guardOverride: status.guardOverride,
    hold: status.hold ? { reason: status.hold.reason } : null,
    guardProfile: status.guardProfile,
    launchAtLogin,
  };
}
