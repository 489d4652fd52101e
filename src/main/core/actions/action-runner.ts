import type { TimelineEvent } from '../../../shared/events.js';
import { type GuardMode, isGuardMode, type PostPanicHold, type RiskLevel } from '../../../shared/risk.js';
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
  private readonly memory: PlannerMemory;

  constructor(
    private config: ActionConfig,
    private readonly store: TimelineStore,
    private readonly audit: AuditStore,
    private readonly notifier: Notifier,
    private readonly exo: ExoApiClient | null,
    private readonly onGuardMode: (mode: GuardMode) => void = () => {},
  ) {
    this.memory = { lastNotify: {}, lastUnload: null, guardMode: readGuardMode(store) };
  }

  get guardMode(): GuardMode {
    return this.memory.guardMode;
  }

  /** A reloaded configuration: the policy (levels, cooldowns, dry run, guard modes) from the next plan. */
  setConfig(config: ActionConfig): void {
    this.config = config;
  }

  /**
   * The guard-mode part of the plan, carried out synchronously (the caller runs it in the tick itself), so a
   * mode change never waits behind a notification or a notify command.
   */
  applyGuardMode(now: number, update: RiskUpdate): TimelineEvent[] {
    const plan = planActions(now, update.previous, update.state, this.memory, this.config, []);
    return plan.filter((p) => p.action === 'guard-mode').map((p) => this.executeNow(now, p));
  }

  /** Everything else the policy plans (notifications, unloads), in order; the mode was applied already. */
  async apply(now: number, update: RiskUpdate, localInstanceIds: string[]): Promise<TimelineEvent[]> {
    const plan = planActions(now, update.previous, update.state, this.memory, this.config, localInstanceIds);
    const events: TimelineEvent[] = [];
    for (const p of plan)
      events.push(p.action === 'guard-mode' ? this.executeNow(now, p) : await this.execute(now, p));
    return events;
  }

  private executeNow(now: number, p: Extract<PlannedAction, { action: 'guard-mode' }>): TimelineEvent {
    const dry = this.config.dryRun;
    const detail = { from: p.from, to: p.to };
    this.memory.guardMode = p.to;
    if (!dry) {
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
