import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { levelRank, type RiskState } from '../../../shared/risk.js';
import type { ProcessRole, Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import { VERSION } from '../version.js';

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

/** Every role a watched process can have: each has a footprint and a count, 0 when none runs. */
const PROCESS_ROLES: readonly ProcessRole[] = [
  'exo-main',
  'exo-runner',
  'exo-macmon',
  'exo-resource-tracker',
  'exo-app',
  'exo-other',
  'mlx-server',
];

/** The probes whose failures are counted on each platform (EventCollector.failed callers). */
const PROBES: Record<string, readonly string[]> = {
  darwin: ['vm_stat', 'sysctl', 'memory_pressure', 'ioreg', 'ps', 'top', 'footprint'],
  linux: ['meminfo', 'process-table'],
};
const COMMON_PROBES = ['identity', 'exo-monitor', 'actions', 'report-watcher'] as const;

/** Guard decisions with the statuses they usually carry (other pairs appear when they happen). */
const GUARD_OUTCOMES: ReadonlyArray<{ decision: string; status: string }> = [
  { decision: 'admit', status: '200' },
  { decision: 'cancelled', status: '200' },
  { decision: 'refuse', status: '400' },
  { decision: 'refuse', status: '413' },
  { decision: 'refuse', status: '503' },
];

const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

const PANIC_KINDS = ['completeMemory', 'iogpuSibling', 'watchdogTimeout', 'other', 'unknown'] as const;

/**
 * Prometheus metrics (prom-client), refreshed each tick; `/metrics` serialises the registry.
 *
 * Conventions: base units in the name (`_bytes`, `_seconds`), fractions as `_ratio` (0-1), a capacity
 * (total, ceiling) never shares a metric with what uses it (so `sum()` over a metric's labels means
 * something), every counter present at 0 for its known labels from the start, `exo_sentinel_build_info`,
 * and prom-client's default `process_*` and `nodejs_*` metrics (the daemon's own RSS, CPU, heap, event loop).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly memory = new Gauge({
    name: 'exo_sentinel_memory_bytes',
    help: 'Physical memory by state, in bytes: free, active, inactive, wired (Metal buffers on macOS; Unevictable on Linux), compressed (the compressor; Zswap on Linux); parts of exo_sentinel_memory_total_bytes',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly memoryTotal = new Gauge({
    name: 'exo_sentinel_memory_total_bytes',
    help: 'Physical memory installed, in bytes (hw.memsize; MemTotal on Linux)',
    registers: [this.registry],
  });
  private readonly swapUsed = new Gauge({
    name: 'exo_sentinel_swap_used_bytes',
    help: 'Swap in use, in bytes',
    registers: [this.registry],
  });
  private readonly swapTotal = new Gauge({
    name: 'exo_sentinel_swap_total_bytes',
    help: 'Swap space, in bytes (grows on demand on macOS)',
    registers: [this.registry],
  });
  private readonly freeRatio = new Gauge({
    name: 'exo_sentinel_memory_free_ratio',
    help: 'System-wide free memory as a ratio 0-1 (kern.memorystatus_level / 100; MemAvailable / MemTotal on Linux)',
    registers: [this.registry],
  });
  private readonly pressure = new Gauge({
    name: 'exo_sentinel_memory_pressure_level',
    help: 'Memory pressure level: 1 normal, 2 warn, 4 critical (kern.memorystatus_vm_pressure_level; PSI on Linux)',
    registers: [this.registry],
  });
  private readonly gpuInUse = new Gauge({
    name: 'exo_sentinel_gpu_in_use_bytes',
    help: 'GPU memory in use by all processes, in bytes (IOAccelerator "In use system memory")',
    registers: [this.registry],
  });
  private readonly gpuAllocated = new Gauge({
    name: 'exo_sentinel_gpu_allocated_bytes',
    help: 'GPU memory the driver has allocated, in bytes (IOAccelerator "Alloc system memory", at least the in-use figure)',
    registers: [this.registry],
  });
  private readonly gpuCeiling = new Gauge({
    name: 'exo_sentinel_gpu_ceiling_bytes',
    help: 'The Metal working-set ceiling, in bytes (Metal, iogpu.wired_limit_mb, gpu.ceilingBytes, a Python with MLX, else estimated from RAM)',
    registers: [this.registry],
  });
  private readonly gpuCeilingEstimated = new Gauge({
    name: 'exo_sentinel_gpu_ceiling_estimated',
    help: '1 when the Metal ceiling is estimated from RAM (nothing on the machine told it), 0 when it was read',
    registers: [this.registry],
  });
  private readonly gpuUtilisation = new Gauge({
    name: 'exo_sentinel_gpu_utilization_ratio',
    help: 'GPU busy as a ratio 0-1 (IOAccelerator "Device Utilization %" / 100)',
    registers: [this.registry],
  });
  private readonly footprint = new Gauge({
    name: 'exo_sentinel_process_footprint_bytes',
    help: 'phys_footprint of the watched processes summed by role, in bytes (includes Metal buffers; RssAnon + VmSwap on Linux)',
    labelNames: ['role'],
    registers: [this.registry],
  });
  private readonly processes = new Gauge({
    name: 'exo_sentinel_processes',
    help: 'Watched processes by role (0 when none of that role runs)',
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
    help: 'IOGPU trigger score, 0-10 (concurrency, churn, long prompts, wake, recent panics, wired limit)',
    registers: [this.registry],
  });
  private readonly hold = new Gauge({
    name: 'exo_sentinel_post_panic_hold',
    help: '1 while a post-panic hold is active, else 0',
    registers: [this.registry],
  });
  private readonly exoUp = new Gauge({
    name: 'exo_sentinel_exo_reachable',
    help: "1 when EXO's API answers, else 0",
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({
    name: 'exo_sentinel_exo_in_flight_requests',
    help: "EXO's unfinished tasks (0 while EXO does not answer)",
    registers: [this.registry],
  });
  readonly guardRequests = new Counter({
    name: 'exo_sentinel_guard_requests_total',
    help: 'Gated requests the guard recorded, by decision (admit, cancelled, refuse) and the HTTP status the client got',
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
    help: 'Time requests spent in the serialise queue, in seconds, whatever the outcome',
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
    help: 'Kernel panic reports found on this machine, by kind (a count of reports, kept across restarts)',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly probeFailures = new Counter({
    name: 'exo_sentinel_probe_failures_total',
    help: 'Probe failures by probe (at most one counted per probe per minute)',
    labelNames: ['probe'],
    registers: [this.registry],
  });
  readonly tickSeconds = new Histogram({
    name: 'exo_sentinel_tick_duration_seconds',
    help: 'Work per tick, in seconds: probes, judgement and the database write',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  private readonly buildInfo = new Gauge({
    name: 'exo_sentinel_build_info',
    help: 'Always 1: the exo-sentinel version, the Node.js version, the platform and the CPU architecture',
    labelNames: ['version', 'node', 'platform', 'arch'],
    registers: [this.registry],
  });

  constructor() {
    this.buildInfo.set(
      { version: VERSION, node: process.versions.node, platform: process.platform, arch: process.arch },
      1,
    );
    for (const reason of GUARD_REFUSAL_REASONS) this.guardRefusals.inc({ reason }, 0);
    for (const outcome of GUARD_OUTCOMES) this.guardRequests.inc(outcome, 0);
    for (const probe of [...(PROBES[process.platform] ?? []), ...COMMON_PROBES])
      this.probeFailures.inc({ probe }, 0);
    this.guardInFlight.set(0);
    this.guardQueued.set(0);
    this.setRoles([]);
    // Nothing is known before the first tick: the figures are absent until then, not 0 (a false "ok").
    for (const g of [
      this.memoryTotal,
      this.swapUsed,
      this.swapTotal,
      this.freeRatio,
      this.pressure,
      this.gpuInUse,
      this.gpuAllocated,
      this.gpuCeiling,
      this.gpuUtilisation,
      this.level,
      this.score,
      this.hold,
      this.exoUp,
      this.inFlight,
    ])
      g.remove();
    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_heap_*, nodejs_eventloop_lag_*, ...
    // The event-loop delay histogram times a 1 s timer: prom-client's default 10 ms timer cost an idle Node
    // 5.5 ms of CPU per second (0.55% of a core), 1 s costs 0.3 ms; a stall still shows as that timer's delay.
    // A scrape costs ~0.6 ms of CPU with the defaults (0.1 ms without).
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
    // Gauges that prom-client names like counters (promtool: "non-counter metrics should not have _total");
    // the same figures stay by type in nodejs_active_handles, nodejs_active_requests, nodejs_active_resources.
    for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
  }

  /** The guard's live figures, read at each scrape. */
  attachGuard(stats: () => { inFlight: number; queued: number } | null): void {
    this.guardStats = stats;
  }

  update(sample: Sample, risk: RiskState, exo: ExoSnapshot | null): void {
    const m = sample.memory;
    const parts: Array<[string, number | null]> = [
      ['free', m.free],
      ['active', m.active],
      ['inactive', m.inactive],
      ['wired', m.wired],
      ['compressed', m.compressed],
    ];
    for (const [kind, v] of parts) {
      if (v !== null && Number.isFinite(v)) this.memory.set({ kind }, v);
      else this.memory.remove({ kind });
    }
    setKnown(this.memoryTotal, m.total);
    setKnown(this.swapUsed, m.swapUsed);
    setKnown(this.swapTotal, m.swapTotal);
    setKnown(this.freeRatio, m.freePercent === null ? null : m.freePercent / 100);
    setKnown(this.pressure, m.pressureLevel);
    const g = sample.gpu;
    setKnown(this.gpuInUse, g.inUseBytes);
    setKnown(this.gpuAllocated, g.allocBytes);
    setKnown(this.gpuCeiling, g.ceilingBytes);
    setKnown(
      this.gpuCeilingEstimated,
      g.ceilingBytes === null || !g.ceilingSource ? null : g.ceilingSource === 'estimate' ? 1 : 0,
    );
    setKnown(this.gpuUtilisation, g.utilization === null ? null : g.utilization / 100);
    this.setRoles(sample.processes);
    this.level.set(levelRank(risk.level));
    this.score.set(risk.score);
    this.hold.set(risk.hold ? 1 : 0);
    this.exoUp.set(exo?.reachable ? 1 : 0);
    this.inFlight.set(exo?.reachable ? exo.inFlight : 0);
  }

  setPanics(byKind: Record<string, number>): void {
    for (const kind of PANIC_KINDS) this.panics.set({ kind }, byKind[kind] ?? 0);
  }

  /** Footprint and count per role: every known role present (0 when none runs). */
  private setRoles(processes: Sample['processes']): void {
    this.footprint.reset();
    this.processes.reset();
    for (const role of PROCESS_ROLES) {
      this.footprint.set({ role }, 0);
      this.processes.set({ role }, 0);
    }
    const known = new Set<string>();
    for (const p of processes) {
      this.processes.inc({ role: p.role });
      if (p.physFootprint !== null) {
        this.footprint.inc({ role: p.role }, p.physFootprint);
        known.add(p.role);
      }
    }
    // A role that runs but whose footprint could not be read is unknown, not 0.
    for (const p of processes) if (!known.has(p.role)) this.footprint.remove({ role: p.role });
  }
}

/** A figure the platform gives is set; one it cannot give (null) is absent rather than a false 0. */
function setKnown(gauge: Gauge, value: number | null): void {
  if (value !== null && Number.isFinite(value)) gauge.set(value);
  else gauge.remove();
}
