import type { MenuItemConstructorOptions } from 'electron';
import { formatBytes, formatPercent } from '../../shared/format.js';
import type { GuardMode } from '../../shared/risk.js';
import type { GuardProfile } from '../core/actions/guard-profile.js';
import { ceilingNote, gpuPercent, type TrayView } from './tray-view.js';

export interface MenuActions {
  openDashboard(view?: string): void;
  openReport(id: number): void;
  /** null: follow the risk level again. */
  setGuardMode(mode: GuardMode | null): void;
  /** Chooses the guard profile (the same call as `exo-sentinel guard profile`). */
  setGuardProfile?(profile: GuardProfile): void;
  acknowledge(): void;
  /** Launch at login clicked: register, unregister or open Login Items (see LoginItem.toggle). */
  toggleLaunchAtLogin(): void;
  /** Opens the sticky alert's view and clears it. */
  openAlert(): void;
  openNotificationSettings(): void;
  quit(): void;
}

/** The Notifications pane of System Settings, where banners for the app are allowed. */
export const NOTIFICATION_SETTINGS_URL =
  'x-apple.systempreferences:com.apple.Notifications-Settings.extension';

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The Launch at login item as macOS 13+ reports the state (registered but awaiting approval counts as on). */
function launchAtLoginItem(v: TrayView, a: MenuActions): MenuItemConstructorOptions {
  const l = v.launchAtLogin;
  if (l.status === 'requires-approval')
    return {
      label: 'Launch at login — allow in System Settings › Login Items…',
      type: 'checkbox',
      checked: true,
      click: () => a.toggleLaunchAtLogin(),
    };
  if (!l.enabled && l.problem)
    return { label: `Launch at login (${l.problem})`, type: 'checkbox', checked: false, enabled: false };
  return {
    label: l.status === 'not-found' ? 'Launch at login (not found: turn on again)' : 'Launch at login',
    type: 'checkbox',
    checked: l.enabled,
    click: () => a.toggleLaunchAtLogin(),
  };
}

/** The last alert a banner could not show, and how to get banners back. */
function alertItems(v: TrayView, a: MenuActions): MenuItemConstructorOptions[] {
  const items: MenuItemConstructorOptions[] = [];
  if (v.alert) {
    items.push({
      label: `⚠ Last alert: ${clip(v.alert.title, 40)} — ${clip(v.alert.body, 60)}`,
      click: () => a.openAlert(),
    });
  }
  if (v.banners === 'failed' || v.banners === 'unsupported') {
    items.push(
      { label: 'Notifications are not shown (unsigned build, or not allowed)', enabled: false },
      { label: 'Allow in System Settings › Notifications…', click: () => a.openNotificationSettings() },
    );
  }
  if (items.length > 0) items.push({ type: 'separator' });
  return items;
}

const GUARD_CHOICES: Array<[GuardMode, string]> = [
  ['open', 'Open'],
  ['serialise', 'Serialise requests'],
  ['refuse-new', 'Refuse new requests'],
];

/** The profiles as the menu names them: what each does, in a few words. */
export const PROFILE_CHOICES: Array<[GuardProfile, string]> = [
  ['protect', 'Protect — one request at a time while EXO wires GPU memory'],
  ['balanced', 'Balanced — the risk level decides'],
  ['observe', 'Observe — record only, never hold back'],
];

/** The guard profile as a radio group (only when the status says which one is in effect). */
function profileItems(v: TrayView, a: MenuActions): MenuItemConstructorOptions[] {
  const current = v.guardProfile;
  if (current === undefined) return [];
  return [
    {
      label: 'Guard profile',
      submenu: PROFILE_CHOICES.map(([profile, label]) => ({
        label,
        type: 'radio' as const,
        checked: current === profile,
        click: () => a.setGuardProfile?.(profile),
      })),
    },
  ];
}

/** The menu, from the view: level and reasons, figures, EXO, the last panic, the guard, and the app's items. */
export function buildMenuTemplate(v: TrayView, a: MenuActions): MenuItemConstructorOptions[] {
  const info = (label: string): MenuItemConstructorOptions => ({ label, enabled: false });
  const gpu = gpuPercent(v);
  const items: MenuItemConstructorOptions[] = [
    ...alertItems(v, a),
    info(`Level: ${v.level.toUpperCase()}`),
    ...v.reasons
      .slice(0, 4)
      .map((r) => info(`  ${r.message.length > 90 ? `${r.message.slice(0, 89)}…` : r.message}`)),
    { type: 'separator' },
    info(`Memory: free ${formatPercent(v.freePercent)}, wired ${formatBytes(v.wiredBytes)}`),
    info(
      `GPU: ${formatBytes(v.gpuInUse)} of ${formatBytes(v.gpuCeiling)}${gpu !== null ? ` (${gpu}%)` : ''}${ceilingNote(v)}`,
    ),
    { type: 'separator' },
    info(v.exoReachable ? `EXO: running${v.model ? ` — ${v.model}` : ''}` : 'EXO: not running'),
    ...v.processes
      .slice(0, 6)
      .map((p) =>
        info(`  ${p.role} pid ${p.pid}${p.footprint !== null ? ` — ${formatBytes(p.footprint)}` : ''}`),
      ),
    { type: 'separator' },
  ];
  if (v.lastPanic) {
    items.push(
      info(`Last panic: ${v.lastPanic.kind ?? 'unknown'} at ${new Date(v.lastPanic.time).toLocaleString()}`),
    );
    const id = v.lastPanic.id;
    items.push({ label: 'Open crash report', click: () => a.openReport(id) });
  } else items.push(info('No kernel panic recorded'));
  if (v.hold) {
    items.push({ type: 'separator' }, info(`Post-panic hold: ${v.hold.reason}`), {
      label: 'Acknowledge panic',
      click: () => a.acknowledge(),
    });
  }
  items.push(
    { type: 'separator' },
    {
      label: 'Guard',
      submenu: [
        {
          label: `Automatic, by level${v.guardOverride === null ? ` (${v.guardMode})` : ''}`,
          type: 'radio' as const,
          checked: v.guardOverride === null,
          click: () => a.setGuardMode(null),
        },
        { type: 'separator' as const },
        ...GUARD_CHOICES.map(([mode, label]) => ({
          label,
          type: 'radio' as const,
          checked: v.guardOverride === mode,
          click: () => a.setGuardMode(mode),
        })),
      ],
    },
    ...profileItems(v, a),
    { label: 'Open dashboard', click: () => a.openDashboard() },
    launchAtLoginItem(v, a),
    { type: 'separator' },
    { label: 'Quit exo-sentinel', click: () => a.quit() },
  );
  return items;
}
