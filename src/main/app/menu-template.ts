import type { MenuItemConstructorOptions } from 'electron';
import { formatBytes, formatPercent } from '../../shared/format.js';
import type { GuardMode } from '../../shared/risk.js';
import { gpuPercent, type TrayView } from './tray-view.js';

export interface MenuActions {
  openDashboard(view?: string): void;
  openReport(id: number): void;
  /** null: follow the risk level again. */
  setGuardMode(mode: GuardMode | null): void;
  acknowledge(): void;
  setLaunchAtLogin(enabled: boolean): void;
  quit(): void;
}

const GUARD_CHOICES: Array<[GuardMode, string]> = [
  ['open', 'Open'],
  ['serialise', 'Serialise requests'],
  ['refuse-new', 'Refuse new requests'],
];

/** The menu, from the view: level and reasons, figures, EXO, the last panic, the guard, and the app's items. */
export function buildMenuTemplate(v: TrayView, a: MenuActions): MenuItemConstructorOptions[] {
  const info = (label: string): MenuItemConstructorOptions => ({ label, enabled: false });
  const gpu = gpuPercent(v);
  const items: MenuItemConstructorOptions[] = [
    info(`Level: ${v.level.toUpperCase()}`),
    ...v.reasons
      .slice(0, 4)
      .map((r) => info(`  ${r.message.length > 90 ? `${r.message.slice(0, 89)}…` : r.message}`)),
    { type: 'separator' },
    info(`Memory: free ${formatPercent(v.freePercent)}, wired ${formatBytes(v.wiredBytes)}`),
    info(
      `GPU: ${formatBytes(v.gpuInUse)} of ${formatBytes(v.gpuCeiling)}${gpu !== null ? ` (${gpu}%)` : ''}`,
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
    { label: 'Open dashboard', click: () => a.openDashboard() },
    {
      label: `Launch at login${v.launchAtLogin.status === 'requires-approval' ? ' (approve in System Settings › Login Items)' : ''}`,
      type: 'checkbox',
      checked: v.launchAtLogin.enabled,
      click: () => a.setLaunchAtLogin(!v.launchAtLogin.enabled),
    },
    { type: 'separator' },
    { label: 'Quit exo-sentinel', click: () => a.quit() },
  );
  return items;
}
