import type { TimelineEvent } from '../../../shared/events.js';
import {
  type GuardMode,
  isGuardMode,
  LEVELS,
  levelRank,
  type PostPanicHold,
  type RiskLevel,
} from '../../../shared/risk.js';
import type { ExoApiClient } from '../exo/exo-api-client.js';
import type { RiskUpdate } from '../risk/risk-engine.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { ActionConfig } from './action-config.js';
import { type PlannedAction, type PlannerMemory, planActions } from './action-planner.js';
import type { AuditStore } from './audit-store.js';
import type { Notifier } from './notifier.js';
import { readHold, writeHold } from './post-panic-hold.js';

const GUARD_KEY = 'guard-mode';

/** The admission mode the guard applies (persisted so `status` and the guard process see it). */
export function readGuardMode(store: TimelineStore): GuardMode {
  const v = store.getMeta(GUARD_KEY);
  return isGuardMode(v) ? v : 'open';
}

/** Carries out what the policy plans, records every action in the audit trail, and returns timeline events. */
export class ActionRunner {
  /** What the policy has planned (in a dry run too), so a plan is not made again every tick. */
  private readonly memory: PlannerMemory;
  /** The mode the guard applies, kept in the store for `status`. */
  private applied: GuardMode;
  /** The newest tick's update and time: a plan made from an older one waits behind slow actions. */
  private latest: { now: number; update: RiskUpdate } | null = null;
  /** The newest update an unload was already recorded as skipped for (queued plans skip it once). */
  private skippedFor: RiskUpdate | null = null;

  constructor(
    private config: ActionConfig,
    private readonly store: TimelineStore,
    private readonly audit: AuditStore,
    private readonly notifier: Notifier,
    private readonly exo: ExoApiClient | null,
    private readonly onGuardMode: (mode: GuardMode) => void = () => {},
  ) {
    this.applied = readGuardMode(store);
    this.memory = { lastNotify: {}, lastUnload: null, guardMode: this.applied };
    this.seedCooldowns();
    // Not told to the guard here: it reads the mode when it is built.
    if (config.dryRun) this.standDown(false);
  }

  /** The mode the guard applies for the level (in a dry run: none, beyond a post-panic hold's). */
  get guardMode(): GuardMode {
    return this.applied;
  }

  /**
   * A reloaded configuration: the policy (levels, cooldowns, dry run, guard modes) from the next plan. Into a
   * dry run, the guard stands down at once; out of one, the level's mode is set at once, for real (the
   * returned events), before any request is admitted or cancelled under a mode from before the dry run.
   */
  setConfig(config: ActionConfig): TimelineEvent[] {
    const entering = !this.config.dryRun && config.dryRun;
    const leaving = this.config.dryRun && !config.dryRun;
    this.config = config;
    if (entering) this.standDown();
    if (!leaving) return [];
    // What the dry run only planned is planned again, for real: the mode and the cool-downs.
    this.memory.guardMode = this.applied;
    this.seedCooldowns();
    return this.latest ? this.applyGuardMode(this.latest.now, this.latest.update) : [];
  }

  /**
   * The cool-downs from the audit trail's last real notification (per level) and unload: they hold across
   * restarts (a daemon restarted in a loop would otherwise unload EXO's model at every start), and what a dry
   * run only planned starts none.
   */
  private seedCooldowns(): void {
    const lastNotify: PlannerMemory['lastNotify'] = {};
    for (const level of LEVELS) {
      const t = this.audit.lastDone('notify', level);
      if (t !== null) lastNotify[level] = t;
    }
    this.memory.lastNotify = lastNotify;
    this.memory.lastUnload = this.audit.lastDone('unload');
  }

  /**
   * A dry run applies no mode for the level: it sets none itself, so any it kept would outlast the level that
   * called for it (cancel-newest long after a critical level fell). A post-panic hold still serialises.
   */
  private standDown(tell = true): void {
    const mode: GuardMode = readHold(this.store) ? 'serialise' : 'open';
    if (mode === this.applied) return;
    this.applied = mode;
    this.store.setMeta(GUARD_KEY, mode);
    if (tell) this.onGuardMode(mode);
  }

  /**
   * The guard-mode part of the plan, carried out synchronously (the caller runs it in the tick itself), so a
   * mode change never waits behind a notification or a notify command.
   */
  applyGuardMode(now: number, update: RiskUpdate): TimelineEvent[] {
    this.latest = { now, update };
    // In a dry run the hold may have ended (`ack`) or begun since the last tick.
    if (this.config.dryRun) this.standDown();
    const plan = planActions(now, update.previous, update.state, this.memory, this.config, []);
    return plan.filter((p) => p.action === 'guard-mode').map((p) => this.executeNow(now, p));
  }

  /**
   * Everything else the policy plans (notifications, unloads), in order. The mode is applyGuardMode's alone: a
   * plan from a tick that waited behind a slow notification would set the mode of a level already left.
   */
  async apply(now: number, update: RiskUpdate, localInstanceIds: string[]): Promise<TimelineEvent[]> {
    const plan = planActions(now, update.previous, update.state, this.memory, this.config, localInstanceIds);
    const events: TimelineEvent[] = [];
    for (const p of plan) {
      if (p.action === 'guard-mode') continue;
      if (p.action === 'unload') {
        // Judged again when its turn comes: the level, or the configuration, may have changed meanwhile.
        const newest = this.latest?.update ?? update;
        const current = newest.state.level;
        if (!this.config.unload.enabled || levelRank(current) < levelRank(this.config.unload.minLevel)) {
          if (this.skippedFor !== newest) {
            this.skippedFor = newest;
            const why = this.config.unload.enabled ? `the level is ${current} now` : 'unloading is off now';
            events.push(
              this.recorded(
                now,
                p,
                `skipped: ${why}`,
                { instanceIds: p.instanceIds },
                `did not unload EXO instance(s) ${p.instanceIds.join(', ')}`,
              ),
            );
          }
          continue;
        }
      }
      events.push(await this.execute(now, p));
    }
    return events;
  }

  private executeNow(now: number, p: Extract<PlannedAction, { action: 'guard-mode' }>): TimelineEvent {
    const dry = this.config.dryRun;
    const detail = { from: p.from, to: p.to };
    this.memory.guardMode = p.to;
    if (!dry) {
      this.applied = p.to;
      this.store.setMeta(GUARD_KEY, p.to);
      this.onGuardMode(p.to);
    }
    return this.recorded(
      now,
      p,
      dry ? 'dry-run' : 'done',
      detail,
      `${dry ? 'would set' : 'set'} the guard to ${p.to} (was ${p.from})`,
    );
  }

  private async execute(now: number, p: PlannedAction): Promise<TimelineEvent> {
    const dry = this.config.dryRun;
    let result = dry ? 'dry-run' : 'done';
    let detail: Record<string, unknown> = {};
    let message: string;
    switch (p.action) {
      case 'notify': {
        this.memory.lastNotify[p.level] = now;
        if (!dry) {
          const r = await this.notifier.notify({
            title: p.title,
            body: p.body,
            level: p.level,
            topic: 'level',
          });
          result = r.ok ? 'done' : `failed: ${r.detail}`;
          detail = { detail: r.detail };
        }
        message = `${dry ? 'would notify' : 'notified'}: ${p.title}`;
        break;
      }
      case 'guard-mode':
        return this.executeNow(now, p);
      case 'unload': {
        this.memory.lastUnload = now;
        detail = { instanceIds: p.instanceIds };
        if (!dry) {
          if (!this.exo) result = 'failed: no EXO API configured';
          else {
            const results = await Promise.all(p.instanceIds.map((id) => this.exo!.deleteInstance(id)));
            const failed = results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.error));
            result = failed.length ? `failed: ${failed.join('; ')}` : 'done';
          }
        }
        message = `${dry ? 'would unload' : 'unloaded'} EXO instance(s) ${p.instanceIds.join(', ')}`;
        break;
      }
    }
    return this.recorded(now, p, result, detail, message);
  }

  /** The audit row and the timeline event of one action. */
  private recorded(
    now: number,
    p: PlannedAction,
    result: string,
    detail: Record<string, unknown>,
    message: string,
  ): TimelineEvent {
    const dry = this.config.dryRun;
    this.audit.record({
      time: now,
      action: p.action,
      level: p.level,
      reason: p.reason,
      result,
      dryRun: dry,
      detail,
    });
    return {
      time: now,
      kind: `action.${p.action}`,
      severity: p.action === 'unload' ? 'warning' : 'info',
      message: `${message} — ${p.reason} (${result})`,
      data: { ...detail, level: p.level, result, dryRun: dry },
    };
  }

  /** Starts a post-panic hold after an IOGPU panic: persisted, audited, notified. */
  async startHold(now: number, hold: PostPanicHold): Promise<TimelineEvent[]> {
    const dry = this.config.dryRun;
    if (!this.config.postPanicHold) return [];
    if (!dry) writeHold(this.store, hold);
    this.audit.record({
      time: now,
      action: 'hold-start',
      level: 'critical' satisfies RiskLevel,
      reason: hold.reason,
      result: dry ? 'dry-run' : 'done',
      dryRun: dry,
      detail: { ...hold },
    });
    const n = await (dry
      ? Promise.resolve({ ok: true, detail: 'dry-run' })
      : this.notifier.notify({
          title: 'Kernel panic recorded: holding EXO in safe mode',
          body: `${hold.reason}. Requests are serialised and model loads refused until \`exo-sentinel ack\`.`,
          level: 'critical',
          topic: 'panic',
        }));
    return [
      {
        time: now,
        kind: 'hold.started',
        severity: 'critical',
        message: `post-panic hold ${dry ? '(dry run) ' : ''}started: ${hold.reason}; end it with \`exo-sentinel ack\``,
        data: { ...hold, notified: n.ok },
      },
    ];
  }
}
