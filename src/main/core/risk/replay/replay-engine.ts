import {
  type GuardMode,
  LEVELS,
  levelRank,
  type RiskLevel,
  type RiskReason,
} from '../../../../shared/risk.js';
import type { ActionConfig } from '../../actions/action-config.js';
import { type PlannerMemory, planActions } from '../../actions/action-planner.js';
import { profileMode } from '../../actions/guard-profile.js';
import { type WakeHold, wakeNotice, withWakeHold } from '../../actions/wake-hold.js';
import type { ExoSnapshot } from '../../exo/exo-monitor.js';
import type { ExoInstance } from '../../exo/exo-state-parser.js';
import { isIogpuKind, type PanicKind } from '../../panics/panic-classifier.js';
import { RiskContext } from '../risk-context.js';
import { RiskEngine } from '../risk-engine.js';
import type { RiskThresholds } from '../risk-thresholds.js';
import type { ReplaySource, ReplayTick } from './replay-source.js';

const HOLD_WINDOW_MS = 72 * 3_600_000;

/** The level at which a rise counts as a warning (and, with no panic after it, as a false alarm). */
export const WARNING_LEVEL: RiskLevel = 'high';

export interface ReplayConfig {
  risk: RiskThresholds;
  actions: ActionConfig;
  /** The sleep/wake hold (guard.wakeHoldSeconds); absent or 0: none. */
  guard?: { wakeHoldSeconds: number };
}

export interface ReplayChange {
  time: number;
  from: RiskLevel;
  to: RiskLevel;
  guardMode: GuardMode;
  score: number;
  reasons: RiskReason[];
}

export interface ReplayPanicResult {
  time: number;
  kind: string;
  /** Start of the stretch at high or above that was still on when the panic came (null: none). */
  firstWarning: number | null;
  leadSeconds: number | null;
  levelAtPanic: RiskLevel;
}

export interface ReplayResult {
  source: string;
  from: number;
  to: number;
  ticks: number;
  /** Seconds spent at each level. */
  levels: Record<RiskLevel, number>;
  /** Seconds the guard spent in each mode. */
  guardModes: Record<GuardMode, number>;
  /** Every tick where the level or the guard mode changed, with the reasons. */
  changes: ReplayChange[];
  panics: ReplayPanicResult[];
  /** Stretches at high or above that no panic followed. */
  falseAlarms: number;
  /** Notifications the policy would have sent. */
  notifications: number;
  maxScore: number;
  notes: string[];
}

function instanceStub(i: number): ExoInstance {
  return { instanceId: `replay-${i}`, kind: 'replay', modelId: null, shards: [] };
}

/** The part of EXO's snapshot the risk context reads, rebuilt from a replay tick. */
function snapshotOf(t: ReplayTick): ExoSnapshot {
  return {
    url: 'replay',
    reachable: t.exo.reachable,
    error: null,
    nodeId: null,
    checkedAt: t.time,
    lastReachableAt: t.exo.reachable ? t.time : null,
    instances: Array.from({ length: t.exo.instances }, (_, i) => instanceStub(i)),
    runners: [],
    tasks: [],
    inFlight: t.exo.inFlight,
    nodeMemory: {},
    nodeIdentities: {},
    failures: [],
  };
}

const zeroLevels = (): Record<RiskLevel, number> => ({ ok: 0, elevated: 0, high: 0, critical: 0 });
const zeroModes = (): Record<GuardMode, number> => ({
  open: 0,
  serialise: 0,
  'refuse-new': 0,
  'cancel-newest': 0,
});
const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Runs the real risk engine (context, signals, hysteresis) and the real action policy over a timeline:
 * the levels, guard modes and actions the daemon would have produced with this configuration.
 */
export function replay(source: ReplaySource, config: ReplayConfig): ReplayResult {
  const context = new RiskContext();
  const engine = new RiskEngine(config.risk, source.from);
  const memory: PlannerMemory = { lastNotify: {}, lastUnload: null, guardMode: 'open' };
  const levels = zeroLevels();
  const modes = zeroModes();
  const changes: ReplayChange[] = [];
  const panics: ReplayPanicResult[] = [];
  const iogpuTimes = [...source.priorIogpuPanics];
  let ev = 0;
  let nextPanic = 0;
  let ticks = 0;
  let notifications = 0;
  let maxScore = 0;
  let falseAlarms = 0;
  /** The open stretch at high or above: its start, and whether a panic came during it. */
  let episode: { start: number; panicked: boolean } | null = null;
  let prev: { time: number; level: RiskLevel; mode: GuardMode } | null = null;
  const affected = config.actions.guardProfilePlatforms === 'any' || source.platformAffected;
  let lastMode: GuardMode = 'open';
  const wakeHoldSeconds = config.guard?.wakeHoldSeconds ?? 0;
  // The sleep/wake hold as the daemon keeps it; the data has no ticks while asleep, so it runs from the wake.
  let wakeHold: WakeHold | null = null;

  const account = (until: number): void => {
    if (!prev) return;
    const dt = Math.min(until - prev.time, source.maxTickGapMs) / 1000;
    if (dt > 0) {
      levels[prev.level] += dt;
      modes[prev.mode] += dt;
    }
  };
  const panicsUpTo = (time: number): void => {
    while (nextPanic < source.panics.length && source.panics[nextPanic]!.time <= time) {
      const p = source.panics[nextPanic++]!;
      const level = prev?.level ?? 'ok';
      const warned = episode !== null && levelRank(level) >= levelRank(WARNING_LEVEL);
      if (warned) episode!.panicked = true;
      panics.push({
        time: p.time,
        kind: p.kind,
        firstWarning: warned ? episode!.start : null,
        leadSeconds: warned ? round1((p.time - episode!.start) / 1000) : null,
        levelAtPanic: level,
      });
      if (isIogpuKind(p.kind as PanicKind)) iogpuTimes.push(p.time);
    }
  };

  for (const tick of source.ticks()) {
    const now = tick.time;
    // A panic after the previous tick (up to this one) is judged on the level the previous tick left.
    panicsUpTo(now);
    while (ev < source.events.length && source.events[ev]!.time <= now) {
      const e = source.events[ev++]!;
      context.observe(e.kind, e.time);
      if (e.kind === 'power.wake' && wakeHoldSeconds > 0)
        wakeHold = wakeNotice(null, e.time, wakeHoldSeconds, 'power-event');
    }
    const since = now - HOLD_WINDOW_MS;
    let recentPanics = 0;
    for (const t of iogpuTimes) if (t >= since && t <= now) recentPanics++;
    const h = source.holds.find((x) => x.since <= now && (x.until === null || x.until > now));
    const hold = h ? { since: h.since, reportId: null, kind: null, reason: h.reason } : null;
    const inputs = context.inputs(
      now,
      tick.sample,
      snapshotOf(tick),
      {
        kvBytes: tick.exo.kvInFlightBytes ?? 0,
        largestPromptTokens: tick.exo.largestPromptTokens,
        notes: [],
      },
      recentPanics,
      hold,
    );
    const update = engine.update(inputs);
    for (const p of planActions(now, update.previous, update.state, memory, config.actions, [])) {
      if (p.action === 'guard-mode') memory.guardMode = p.to;
      else if (p.action === 'notify') {
        memory.lastNotify[p.level] = now;
        notifications++;
      }
    }
    account(now);
    const level = update.state.level;
    maxScore = Math.max(maxScore, update.state.score);
    // The guard's mode as the daemon decides it: the level's (with a hold), through the guard profile,
    // then the sleep/wake hold.
    const profile = config.actions.guardProfile;
    const mode = withWakeHold(
      {
        mode: profileMode(profile, memory.guardMode, {
          affected,
          wiredLimitActive: inputs.exo.wiredLimitActive,
        }).mode,
        modeSource: 'level',
      },
      wakeHold,
      now,
      profile,
    ).mode;
    if (update.changed || mode !== lastMode) {
      changes.push({
        time: now,
        from: update.previous,
        to: level,
        guardMode: mode,
        score: update.state.score,
        reasons: update.state.reasons,
      });
    }
    const warning = levelRank(level) >= levelRank(WARNING_LEVEL);
    if (warning && !episode) episode = { start: now, panicked: false };
    else if (!warning && episode) {
      if (!episode.panicked) falseAlarms++;
      episode = null;
    }
    prev = { time: now, level, mode };
    lastMode = mode;
    ticks++;
  }
  panicsUpTo(Number.POSITIVE_INFINITY);
  if (prev) account(Math.min(source.to, prev.time + source.maxTickGapMs));
  if (episode && !episode.panicked) falseAlarms++;
  for (const l of LEVELS) levels[l] = round1(levels[l]);
  for (const m of Object.keys(modes) as GuardMode[]) modes[m] = round1(modes[m]);
  return {
    source: source.label,
    from: source.from,
    to: source.to,
    ticks,
    levels,
    guardModes: modes,
    changes,
    panics,
    falseAlarms,
    notifications,
    maxScore,
    notes: source.notes,
  };
}
