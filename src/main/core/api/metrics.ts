import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { levelRank, type RiskState } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';

/** Every reason the guard refuses for (admission.ts RefusalKind, plus reading, body and load refusals). */
export const GUARD_REFUSAL_REASONS = [
  'context',
  'kv-headroom',
  'mode',
  'queue-full',
  'queue-timeout',
  'body-too-large',
  'bad-body',
  'hold',
  'load-cooldown',
] as const;

/** Prometheus metrics (prom-client), refreshed each tick; `/metrics` serialises the registry. */
export class Metrics {
  readonly registry = new Registry();
  private readonly memory = new Gauge({
    name: 'exo_sentinel_memory_bytes',
    help: 'Unified memory by kind, bytes',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly freePercent = new Gauge({
    name: 'exo_sentinel_memory_free_percent',
    help: 'System-wide memory free percentage (kern.memorystatus_level; MemAvailable on Linux)',
    registers: [this.registry],
  });
  private readonly pressure = new Gauge({
    name: 'exo_sentinel_memory_pressure_level',
    help: 'Memory pressure level: 1 normal, 2 warn, 4 critical',
    registers: [this.registry],
  });
  private readonly gpu = new Gauge({
    name: 'exo_sentinel_gpu_bytes',
    help: 'GPU memory: in_use, alloc and the Metal ceiling, bytes',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly footprint = new Gauge({
    name: 'exo_sentinel_process_footprint_bytes',
    help: 'phys_footprint of the watched processes, summed by role',
    labelNames: ['role'],
    registers: [this.registry],
  });
  private readonly processes = new Gauge({
    name: 'exo_sentinel_processes',
    help: 'Watched processes by role',
    labelNames: ['role'],
    registers: [this.registry],
  });
  private readonly level = new Gauge({
    name: 'exo_sentinel_risk_level',
    help: 'Risk level: 0 ok, 1 elevated, 2 high, 3 critical',
    registers: [this.registry],
  });
  private readonly score = new Gauge({
    name: 'exo_sentinel_risk_score',
    help: 'IOGPU trigger score',
    registers: [this.registry],
  });
  private readonly hold = new Gauge({
    name: 'exo_sentinel_post_panic_hold',
    help: '1 while a post-panic hold is active',
    registers: [this.registry],
  });
  private readonly exoUp = new Gauge({
    name: 'exo_sentinel_exo_reachable',
    help: "1 when EXO's API answers",
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({
    name: 'exo_sentinel_exo_in_flight_requests',
    help: "EXO's unfinished tasks",
    registers: [this.registry],
  });
  readonly guardRequests = new Counter({
    name: 'exo_sentinel_guard_requests_total',
    help: 'Guard decisions by outcome',
    labelNames: ['decision', 'status'],
    registers: [this.registry],
  });
  /** Refusals by reason, every reason present from the start at 0 (a rate over an absent series is nothing). */
  readonly guardRefusals = new Counter({
    name: 'exo_sentinel_guard_refusals_total',
    help: 'Generation requests and model loads the guard refused, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly guardQueueWait = new Histogram({
    name: 'exo_sentinel_guard_queue_wait_seconds',
    help: 'Time requests spent in the serialise queue, whatever the outcome',
    buckets: [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private guardStats: (() => { inFlight: number; queued: number } | null) | null = null;
  private readonly guardInFlight: Gauge = new Gauge({
    name: 'exo_sentinel_guard_in_flight_requests',
    help: 'Generation requests the guard admitted that are still running',
    registers: [this.registry],
    collect: (): void => this.guardInFlight.set(this.guardStats?.()?.inFlight ?? 0),
  });
  private readonly guardQueued: Gauge = new Gauge({
    name: 'exo_sentinel_guard_queue_depth',
    help: 'Requests waiting in the serialise queue',
    registers: [this.registry],
    collect: (): void => this.guardQueued.set(this.guardStats?.()?.queued ?? 0),
  });
  readonly panics = new Gauge({
    name: 'exo_sentinel_panics',
    help: 'Kernel panic reports on this machine by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly probeFailures = new Counter({
    name: 'exo_sentinel_probe_failures_total',
    help: 'Probe failures by probe',
    labelNames: ['probe'],
    registers: [this.registry],
  });
  readonly tickSeconds = new Histogram({
    name: 'exo_sentinel_tick_duration_seconds',
    help: 'Work per tick: probes, judgement and the database write',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  constructor() {
    for (const reason of GUARD_REFUSAL_REASONS) this.guardRefusals.inc({ reason }, 0);
    this.guardInFlight.set(0);
    this.guardQueued.set(0);
  }

  /** The guard's live figures, read at each scrape. */
  attachGuard(stats: () => { inFlight: number; queued: number } | null): void {
    this.guardStats = stats;
  }

  update(sample: Sample, risk: RiskState, exo: ExoSnapshot | null): void {
    const m = sample.memory;
    const kinds: Array<[string, number | null]> = [
      ['total', m.total],
      ['free', m.free],
      ['active', m.active],
      ['inactive', m.inactive],
      ['wired', m.wired],
      ['compressed', m.compressed],
      ['swap_used', m.swapUsed],
      ['swap_total', m.swapTotal],
    ];
    for (const [k, v] of kinds) if (v !== null) this.memory.set({ kind: k }, v);
    if (m.freePercent !== null) this.freePercent.set(m.freePercent);
    if (m.pressureLevel !== null) this.pressure.set(m.pressureLevel);
    const g = sample.gpu;
    for (const [k, v] of [
      ['in_use', g.inUseBytes],
      ['alloc', g.allocBytes],
      ['ceiling', g.ceilingBytes],
    ] as Array<[string, number | null]>) {
      if (v !== null) this.gpu.set({ kind: k }, v);
    }
    this.footprint.reset();
    this.processes.reset();
    for (const p of sample.processes) {
      this.processes.inc({ role: p.role });
      if (p.physFootprint !== null) this.footprint.inc({ role: p.role }, p.physFootprint);
    }
    this.level.set(levelRank(risk.level));
    this.score.set(risk.score);
    this.hold.set(risk.hold ? 1 : 0);
    this.exoUp.set(exo?.reachable ? 1 : 0);
    this.inFlight.set(exo?.reachable ? exo.inFlight : 0);
  }

  setPanics(byKind: Record<string, number>): void {
    for (const kind of ['completeMemory', 'iogpuSibling', 'watchdogTimeout', 'other', 'unknown'])
      this.panics.set({ kind }, byKind[kind] ?? 0);
  }
}
