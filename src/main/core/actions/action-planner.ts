import {
  type GuardMode,
  levelRank,
  type PostPanicHold,
  type RiskLevel,
  type RiskState,
} from '../../../shared/risk.js';
import type { ActionConfig } from './action-config.js';

export type PlannedAction =
  | { action: 'notify'; level: RiskLevel; reason: string; title: string; body: string }
  | { action: 'guard-mode'; level: RiskLevel; reason: string; from: GuardMode; to: GuardMode }
  | { action: 'unload'; level: RiskLevel; reason: string; instanceIds: string[] };

export interface PlannerMemory {
  /** When each kind of action last ran (epoch ms), for cool-downs. */
  lastNotify: Partial<Record<RiskLevel, number>>;
  lastUnload: number | null;
  guardMode: GuardMode;
}

const MODE_ORDER: GuardMode[] = ['open', 'serialise', 'refuse-new', 'cancel-newest'];
const stricter = (a: GuardMode, b: GuardMode): GuardMode =>
  MODE_ORDER.indexOf(b) > MODE_ORDER.indexOf(a) ? b : a;

/** The guard mode a level (and a post-panic hold) calls for. A hold serialises at least. */
export function guardModeFor(level: RiskLevel, hold: PostPanicHold | null, config: ActionConfig): GuardMode {
  const m = config.guardModes[level];
  return hold ? stricter(m, 'serialise') : m;
}

/**
 * Pure policy: what to do this tick. One notification per rise (per level, with a cool-down, so a level
 * does not notify every tick), the guard mode only when it changes, an unload only when enabled and past
 * its cool-down.
 */
export function planActions(
  now: number,
  previous: RiskLevel,
  state: RiskState,
  memory: PlannerMemory,
  config: ActionConfig,
  localInstanceIds: string[],
): PlannedAction[] {
  const out: PlannedAction[] = [];
  // The reason an action is taken for: the first signal above ok. Reasons at ok (an estimated Metal ceiling)
  // inform but never explain a change, so a return to ok says so rather than naming one of them.
  const top =
    state.reasons.find((r) => levelRank(r.level) > levelRank('ok'))?.message ??
    (state.level === 'ok' ? 'no signal above ok' : (state.reasons[0]?.message ?? 'no reason'));
  const rose = levelRank(state.level) > levelRank(previous);
  if (rose && levelRank(state.level) >= levelRank(config.notify.minLevel)) {
    const last = memory.lastNotify[state.level];
    // A time ahead of now (the clock was set back) ends the cool-down rather than stretching it.
    if (last === undefined || now < last || now - last >= config.notify.cooldownSeconds * 1000) {
      out.push({
        action: 'notify',
        level: state.level,
        reason: top,
        title: `EXO risk ${state.level}`,
        body: state.reasons
          .slice(0, 3)
          .map((r) => r.message)
          .join('; '),
      });
    }
  }
  const mode = guardModeFor(state.level, state.hold, config);
  if (mode !== memory.guardMode) {
    out.push({
      action: 'guard-mode',
      level: state.level,
      reason:
        state.hold && mode === 'serialise' && config.guardModes[state.level] !== mode
          ? state.hold.reason
          : top,
      from: memory.guardMode,
      to: mode,
    });
  }
  if (
    config.unload.enabled &&
    levelRank(state.level) >= levelRank(config.unload.minLevel) &&
    localInstanceIds.length > 0 &&
    (memory.lastUnload === null ||
      now < memory.lastUnload ||
      now - memory.lastUnload >= config.unload.cooldownSeconds * 1000)
  ) {
    out.push({ action: 'unload', level: state.level, reason: top, instanceIds: localInstanceIds });
  }
  return out;
}
