import { join } from 'node:path';
import type { ReportRecord } from '../../../shared/reports.js';
import { type GuardMode, levelRank, type RiskState } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ActionRunner } from '../actions/action-runner.js';
import { readHold } from '../actions/post-panic-hold.js';
import type { Config } from '../config/config-schema.js';
import type { EventCollector } from '../event-collector.js';
import { EventBudget } from '../exo/event-budget.js';
import type { ExoApiClient } from '../exo/exo-api-client.js';
import { ExoLogTail } from '../exo/exo-log-tail.js';
import { ExoMonitor, type MonitorEvent } from '../exo/exo-monitor.js';
import { ExoPollCadence } from '../exo/exo-poll-cadence.js';
import { estimateInFlightKv } from '../exo/in-flight-kv.js';
import { IOGPU_PANIC_KINDS, isIogpuKind, type PanicKind } from '../panics/panic-classifier.js';
import type { ReportStore } from '../store/report-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { modelEvidence } from './platform-advisory.js';
import { RiskContext } from './risk-context.js';
import { RiskEngine } from './risk-engine.js';
import { RiskStateWriter, readRiskState } from './risk-state-store.js';

const HOLD_WINDOW_MS = 72 * 3_600_000;

/**
 * Per tick: EXO's log (new lines), EXO's state (a poll at most every `exo.pollSeconds`, less often while EXO
 * does not answer, never awaited by the tick), the judgement with hysteresis, and the actions it calls for (run after the tick, in order).
 */
export class RiskPipeline {
  readonly monitor: ExoMonitor;
  private readonly logTail: ExoLogTail;
  private readonly context = new RiskContext();
  private readonly engine: RiskEngine;
  private readonly pollCadence = new ExoPollCadence();
  private readonly stateWriter: RiskStateWriter;
  private actionsChain: Promise<void> = Promise.resolve();
  private logMissingSaid = false;

  constructor(
    private config: Config,
    private readonly store: TimelineStore,
    private readonly reports: ReportStore,
    private readonly events: EventCollector,
    private readonly actions: ActionRunner,
    client: ExoApiClient,
    private readonly exoHomeDir: string,
    now: number,
    /**
     * The daemon's clock: EXO's poll results and events that carry no time of their own are stamped with it
     * (wall clock by default, for callers without one).
     */
    private readonly clock: () => number = Date.now,
  ) {
    this.monitor = new ExoMonitor(client, clock);
    this.logTail = new ExoLogTail(join(exoHomeDir, 'exo_log', 'exo.log'));
    this.engine = new RiskEngine(config.risk, now, readRiskState(store));
    this.stateWriter = new RiskStateWriter(store);
  }

  get state(): RiskState {
    return this.engine.state;
  }

  /** A reloaded configuration: thresholds and EXO's poll interval apply from the next tick. */
  reconfigure(config: Config): void {
    this.config = config;
    this.engine.setThresholds(config.risk);
  }

  get guardMode(): GuardMode {
    return this.actions.guardMode;
  }

  /** EXO wired the Metal working set since it started, and has a model loaded (the guard profile reads it). */
  get wiredLimitActive(): boolean {
    return this.context.wiredLimitActive && this.monitor.snapshot.instances.length > 0;
  }

  private push(
    kind: string,
    severity: Parameters<EventCollector['push']>[1],
    message: string,
    data?: Record<string, unknown>,
    time?: number,
  ): void {
    this.context.observe(kind, time ?? this.clock());
    this.events.push(kind, severity, message, data, time);
  }

  /**
   * Events from EXO's state (what answers on its port): the risk context sees them all, the timeline gets
   * them within a budget per kind (event-budget.ts). The log's events come from EXO's own file and are all
   * written (replay reads them back).
   */
  private pushStateEvent(e: MonitorEvent): void {
    const at = this.clock();
    this.context.observe(e.kind, at);
    if (this.budget.admit(e.kind, at)) this.events.push(e.kind, e.severity, e.message, e.data);
  }

  /** EXO's state events written per kind (event-budget.ts). */
  private readonly budget = new EventBudget();

  private sayUnwritten(now: number): void {
    for (const u of this.budget.unwritten(now))
      this.events.push(
        'exo.events-limited',
        'warning',
        `${u.dropped} ${u.kind} events since ${new Date(u.since).toISOString()} not written (EXO's state changes faster than a timeline can keep)`,
        { kind: u.kind, dropped: u.dropped, since: u.since },
        now,
      );
  }

  /** Runs one step and fills `sample.exo` and `sample.riskLevel`. */
  step(now: number, sample: Sample): void {
    this.sayUnwritten(now);
    const log = this.logTail.poll();
    if (log.missing && !this.logMissingSaid) {
      this.logMissingSaid = true;
      this.events.unavailable(
        'exo.log',
        `${this.logTail.path} does not exist (EXO not installed here, or not started yet)`,
      );
    }
    if (log.rotated)
      this.push('exo.log-rotated', 'info', 'EXO started a new log (it rotates on every start)', {}, now);
    for (const e of log.events) this.push(e.kind, e.severity, e.message, e.data, e.time ?? now);

    const exoRunning = sample.processes.some((p) => p.role === 'exo-main' || p.role === 'exo-runner');
    if (this.pollCadence.due(now, this.config.exo.pollSeconds, exoRunning)) {
      this.pollCadence.started(now);
      this.monitor
        .poll()
        .then((evs) => {
          this.pollCadence.answered(this.monitor.snapshot.reachable);
          for (const e of evs) {
            this.pushStateEvent(e);
            if (e.kind === 'exo.instance-added' || e.kind === 'exo.instance-present')
              this.modelEvidence(String(e.data?.['modelId'] ?? ''));
          }
        })
        .catch((e: unknown) => this.events.failed('exo-monitor', (e as Error).message ?? String(e)));
    }

    const snap = this.monitor.snapshot;
    sample.exo = {
      reachable: snap.checkedAt === null ? null : snap.reachable,
      inFlight: snap.reachable ? snap.inFlight : null,
    };
    const kv = estimateInFlightKv(snap, this.config.risk.charsPerToken, this.exoHomeDir);
    const since = now - HOLD_WINDOW_MS;
    const panics72h = this.reports.countPanics(IOGPU_PANIC_KINDS, since);
    const hold = readHold(this.store);
    const update = this.engine.update({
      ...this.context.inputs(now, sample, snap, kv, panics72h, hold),
      reportsScanning: this.reportsScanningSince,
    });
    sample.riskLevel = levelRank(update.state.level);
    if (update.changed) {
      const s = update.state;
      const severity =
        s.level === 'critical'
          ? 'critical'
          : s.level === 'high'
            ? 'error'
            : s.level === 'elevated'
              ? 'warning'
              : 'info';
      this.events.push(
        'risk.level',
        severity,
        `level ${update.previous} → ${s.level}: ${s.reasons.map((r) => r.message).join('; ') || 'all signals within limits'}`,
        {
          from: update.previous,
          to: s.level,
          reasons: s.reasons,
          score: s.score,
        },
      );
    }
    const localInstances = snap.instances
      .filter((i) => i.shards.some((s) => s.nodeId === snap.nodeId))
      .map((i) => i.instanceId);
    // The guard's mode changes now, in this tick: never behind a notification or a program still running.
    try {
      for (const e of this.actions.applyGuardMode(now, update))
        this.events.push(e.kind, e.severity, e.message, e.data, e.time);
    } catch (e) {
      this.events.failed('actions', (e as Error).message);
    }
    this.actionsChain = this.actionsChain
      .then(() => this.actions.apply(now, update, localInstances))
      .then((evs) => {
        for (const e of evs) this.events.push(e.kind, e.severity, e.message, e.data, e.time);
      })
      .catch((e: unknown) => this.events.failed('actions', (e as Error).message));
  }

  /** Since when the report directories' first scan runs (null: done); judged as not known yet meanwhile. */
  private reportsScanningSince: number | null = null;

  /** The first scan of the report directories started (`since`) or ended (null). */
  reportsScanning(since: number | null): void {
    this.reportsScanningSince = since;
  }

  /** A power event from the shell (or inferred from a tick gap) feeds the sleep/wake signal. */
  observe(kind: string, time: number): void {
    this.context.observe(kind, time);
  }

  /** Loading a model with public panic reports shows the evidence. */
  private modelEvidence(modelId: string): void {
    const evidence = modelId ? modelEvidence(modelId) : [];
    if (evidence.length === 0) return;
    this.events.push(
      'advisory.model-evidence',
      'warning',
      `${modelId} has public panic reports: ${evidence.map((e) => `${e.kind} on ${e.hardware} (${e.workload}) ${e.source}`).join('; ')}`,
      { modelId, evidence },
    );
  }

  /** Persists the latest state (inside the tick's transaction) so `status` reads the current level and reasons. */
  persist(): void {
    this.stateWriter.write(this.engine.state);
  }

  /** The tick's transaction that carried `persist` was rolled back: write the state again next time. */
  persistLost(): void {
    this.stateWriter.lost();
  }

  /** A newly ingested report: a recent IOGPU panic starts the post-panic hold. */
  onReport(r: ReportRecord, now: number): void {
    if (r.status !== 'ingested' || r.category !== 'panic' || !r.kind || !isIogpuKind(r.kind as PanicKind))
      return;
    const when = r.panicTime ?? r.mtime;
    if (now - when > HOLD_WINDOW_MS || readHold(this.store)) return;
    const hold = {
      since: now,
      reportId: r.id,
      kind: r.kind,
      reason: `${r.kind} kernel panic at ${new Date(when).toISOString()} (report ${r.id})`,
    };
    this.actionsChain = this.actionsChain
      .then(() => this.actions.startHold(now, hold))
      .then((evs) => {
        for (const e of evs) this.events.push(e.kind, e.severity, e.message, e.data, e.time);
      })
      .catch((e: unknown) => this.events.failed('actions', (e as Error).message));
  }

  /** Waits for queued actions (on stop). */
  async settle(): Promise<void> {
    await this.actionsChain;
  }
}
