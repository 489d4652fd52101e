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
import { writeHold } from './post-panic-hold.js';

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
  /** The mode last set for real. A dry run plans modes but never sets one. */
  private applied: GuardMode;
  /** The newest tick's update: a plan made from an older one waits behind slow actions and may be stale. */
  private latest: RiskUpdate | null = null;

  constructor(
    private config: ActionConfig,
    private readonly store: TimelineStore,
    private readonly audit: AuditStore,
    private readonly notifier: Notifier,
    private readonly exo: ExoApiClient | null,
    private readonly onGuardMode: (mode: GuardMode) => void = () => {},
  ) {
    this.applied = readGuardMode(store);
    // The cool-downs hold across restarts: a daemon restarted in a loop (launchd's KeepAlive) would otherwise
    // unload EXO's model and notify again at every start.
    const lastNotify: PlannerMemory['lastNotify'] = {};
    for (const level of LEVELS) {
      const t = audit.lastPlanned('notify', level);
      if (t !== null) lastNotify[level] = t;
    }
    this.memory = { lastNotify, lastUnload: audit.lastPlanned('unload'), guardMode: this.applied };
  }

  /**
   * The mode the guard applies for the level. A dry run applies none ('open'): it would otherwise keep a mode
   * set before it (cancel-newest at a critical level) long after the level fell, since it sets none itself.
   */
  get guardMode(): GuardMode {
    return this.config.dryRun ? 'open' : this.applied;
  }

  /** A reloaded configuration: the policy (levels, cooldowns, dry run, guard modes) from the next plan. */
  setConfig(config: ActionConfig): void {
    // Out of a dry run, the mode it only planned is planned again, for real.
    if (this.config.dryRun && !config.dryRun) this.memory.guardMode = this.applied;
    this.config = config;
  }

  /**
   * The guard-mode part of the plan, carried out synchronously (the caller runs it in the tick itself), so a
   * mode change never waits behind a notification or a notify command.
   */
  applyGuardMode(now: number, update: RiskUpdate): TimelineEvent[] {
    this.latest = update;
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
      const current = this.latest?.state.level ?? update.state.level;
      if (p.action === 'unload' && levelRank(current) < levelRank(this.config.unload.minLevel))
        events.push(
          this.recorded(
            now,
            p,
            `skipped: the level is ${current} now`,
            { instanceIds: p.instanceIds },
            `did not unload EXO instance(s) ${p.instanceIds.join(', ')}`,
          ),
        );
      else events.push(await this.execute(now, p));
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
