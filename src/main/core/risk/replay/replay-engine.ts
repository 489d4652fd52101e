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
  const run = new ReplayRun(source, config);
  for (const tick of source.ticks()) run.tick(tick);
  return run.finish();
}

/** One replay: the engine, the policy's memory and what is counted, advanced one recorded tick at a time. */
class ReplayRun {
  private readonly context = new RiskContext();
  private readonly engine: RiskEngine;
  private readonly memory: PlannerMemory = { lastNotify: {}, lastUnload: null, guardMode: 'open' };
  private readonly levels = zeroLevels();
  private readonly modes = zeroModes();
  private readonly changes: ReplayChange[] = [];
  private readonly panics: ReplayPanicResult[] = [];
  private readonly iogpuTimes: number[];
  private readonly affected: boolean;
  private readonly wakeHoldSeconds: number;
  private ev = 0;
  private nextPanic = 0;
  private ticks = 0;
  private notifications = 0;
  private maxScore = 0;
  private falseAlarms = 0;
  /** The open stretch at high or above: its start, and whether a panic came during it. */
  private episode: { start: number; panicked: boolean } | null = null;
  private prev: { time: number; level: RiskLevel; mode: GuardMode } | null = null;
  private lastMode: GuardMode = 'open';
  /** The sleep/wake hold as the daemon keeps it; the data has no ticks while asleep, so it runs from the wake. */
  private wakeHold: WakeHold | null = null;

  constructor(
    private readonly source: ReplaySource,
    private readonly config: ReplayConfig,
  ) {
    this.engine = new RiskEngine(config.risk, source.from);
    this.iogpuTimes = [...source.priorIogpuPanics];
    this.affected = config.actions.guardProfilePlatforms === 'any' || source.platformAffected;
    this.wakeHoldSeconds = config.guard?.wakeHoldSeconds ?? 0;
  }

  tick(tick: ReplayTick): void {
    const now = tick.time;
    // A panic after the previous tick (up to this one) is judged on the level the previous tick left.
    this.panicsUpTo(now);
    this.eventsUpTo(now);
    const inputs = this.inputsAt(tick);
    const update = this.engine.update(inputs);
    this.plan(now, update.previous, update.state);
    this.account(now);
    const level = update.state.level;
    this.maxScore = Math.max(this.maxScore, update.state.score);
    const mode = this.guardMode(now, inputs.exo.wiredLimitActive);
    if (update.changed || mode !== this.lastMode) {
      this.changes.push({
        time: now,
        from: update.previous,
        to: level,
        guardMode: mode,
        score: update.state.score,
        reasons: update.state.reasons,
      });
    }
    this.trackEpisode(now, level);
    this.prev = { time: now, level, mode };
    this.lastMode = mode;
    this.ticks++;
  }

  finish(): ReplayResult {
    const { source, levels, modes, prev, episode } = this;
    this.panicsUpTo(Number.POSITIVE_INFINITY);
    if (prev) this.account(Math.min(source.to, prev.time + source.maxTickGapMs));
    if (episode && !episode.panicked) this.falseAlarms++;
    for (const l of LEVELS) levels[l] = round1(levels[l]);
    for (const m of Object.keys(modes) as GuardMode[]) modes[m] = round1(modes[m]);
    return {
      source: source.label,
      from: source.from,
      to: source.to,
      ticks: this.ticks,
      levels,
      guardModes: modes,
      changes: this.changes,
      panics: this.panics,
      falseAlarms: this.falseAlarms,
      notifications: this.notifications,
      maxScore: this.maxScore,
      notes: source.notes,
    };
  }

  /** Seconds at the previous tick's level and mode, up to `until` (a gap counts up to maxTickGapMs). */
  private account(until: number): void {
    const { prev } = this;
    if (!prev) return;
    const dt = Math.min(until - prev.time, this.source.maxTickGapMs) / 1000;
    if (dt > 0) {
      this.levels[prev.level] += dt;
      this.modes[prev.mode] += dt;
    }
  }

  /** Panics up to `time`, each with whether a warning stretch was on when it came and how early it began. */
  private panicsUpTo(time: number): void {
    const list = this.source.panics;
    while (this.nextPanic < list.length && list[this.nextPanic]!.time <= time) {
      const p = list[this.nextPanic++]!;
      const level = this.prev?.level ?? 'ok';
      const episode = this.episode;
      const warned = episode !== null && levelRank(level) >= levelRank(WARNING_LEVEL);
      if (warned) episode.panicked = true;
      this.panics.push({
        time: p.time,
        kind: p.kind,
        firstWarning: warned ? episode.start : null,
        leadSeconds: warned ? round1((p.time - episode.start) / 1000) : null,
        levelAtPanic: level,
      });
      if (isIogpuKind(p.kind as PanicKind)) this.iogpuTimes.push(p.time);
    }
  }

  /** Recorded events up to `now` reach the risk context; a wake starts the sleep/wake hold. */
  private eventsUpTo(now: number): void {
    const list = this.source.events;
    while (this.ev < list.length && list[this.ev]!.time <= now) {
      const e = list[this.ev++]!;
      this.context.observe(e.kind, e.time);
      if (e.kind === 'power.wake' && this.wakeHoldSeconds > 0)
        this.wakeHold = wakeNotice(null, e.time, this.wakeHoldSeconds, 'power-event');
    }
  }

  /** The engine's inputs at a tick: the sample, EXO's snapshot, recent IOGPU panics and the post-panic hold. */
  private inputsAt(tick: ReplayTick): ReturnType<RiskContext['inputs']> {
    const now = tick.time;
    const since = now - HOLD_WINDOW_MS;
    let recentPanics = 0;
    for (const t of this.iogpuTimes) if (t >= since && t <= now) recentPanics++;
    const h = this.source.holds.find((x) => x.since <= now && (x.until === null || x.until > now));
    const hold = h ? { since: h.since, reportId: null, kind: null, reason: h.reason } : null;
    return this.context.inputs(
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
  }

  /** The action policy's plan for the change: the level's guard mode and the notifications it would send. */
  private plan(now: number, previous: RiskLevel, state: Parameters<typeof planActions>[2]): void {
    for (const p of planActions(now, previous, state, this.memory, this.config.actions, [])) {
      if (p.action === 'guard-mode') this.memory.guardMode = p.to;
      else if (p.action === 'notify') {
        this.memory.lastNotify[p.level] = now;
        this.notifications++;
      }
    }
  }

  /** The guard's mode as the daemon decides it: the level's (with a hold), the profile, the sleep/wake hold. */
  private guardMode(now: number, wiredLimitActive: boolean): GuardMode {
    const profile = this.config.actions.guardProfile;
    return withWakeHold(
      {
        mode: profileMode(profile, this.memory.guardMode, { affected: this.affected, wiredLimitActive }).mode,
        modeSource: 'level',
      },
      this.wakeHold,
      now,
      profile,
    ).mode;
  }

  /** A stretch at high or above opens a warning; one that closes with no panic in it is a false alarm. */
  private trackEpisode(now: number, level: RiskLevel): void {
    const warning = levelRank(level) >= levelRank(WARNING_LEVEL);
    if (warning && !this.episode) this.episode = { start: now, panicked: false };
    else if (!warning && this.episode) {
      if (!this.episode.panicked) this.falseAlarms++;
      this.episode = null;
    }
  }
}
