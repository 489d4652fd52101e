import { GuardChoice } from '../../../shared/guard-schemas.js';
import { GUARD_MODES, type GuardMode, isGuardMode } from '../../../shared/risk.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { AuditStore } from './audit-store.js';

const OVERRIDE_KEY = 'guard.override';

/** The mode pinned by hand (menu bar, CLI, API), or null when the guard follows the risk level. */
export function readGuardOverride(store: TimelineStore): GuardMode | null {
  const v = store.getMeta(OVERRIDE_KEY);
  return isGuardMode(v) ? v : null;
}

/** What a person may choose (CLI, API, dashboard, menu): a guard mode, or `auto` (→ null) to follow the level. */
export { GuardChoice };

export const GUARD_CHOICES_TEXT = `auto, ${GUARD_MODES.join(', ')}`;

/**
 * Pins the guard to `mode` (null: back to following the level). `auto` is the mode the level gives now.
 * Kept in the store (so it survives restarts and a running daemon sees a CLI change at its next tick),
 * recorded in the audit trail and the timeline. Returns false when nothing changed.
 */
export function pinGuardMode(
  store: TimelineStore,
  audit: AuditStore,
  mode: GuardMode | null,
  auto: GuardMode,
  now: number,
  by: string,
): boolean {
  const before = readGuardOverride(store);
  if (before === mode) return false;
  store.setMeta(OVERRIDE_KEY, mode ?? '');
  const reason = mode
    ? `guard pinned to ${mode} by ${by} (the level alone would give ${auto})`
    : `guard follows the risk level again (${by}): ${auto}`;
  audit.record({
    time: now,
    action: 'guard-mode',
    level: 'manual',
    reason,
    result: 'done',
    dryRun: false,
    detail: { override: mode, previous: before, auto, by },
  });
  store.writeEvent({
    time: now,
    kind: 'guard.override',
    severity: mode === 'open' && auto !== 'open' ? 'warning' : 'info',
    message: reason,
    data: { mode, from: before ?? auto, to: mode ?? auto, by },
  });
  return true;
}
