import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { levelRank, type RiskState } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import { VERSION } from '../version.js';
import {
  type CounterRecorder,
  type HistogramRecorder,
  type MetricsState,
  MISNAMED_DEFAULT_GAUGES,
  PANIC_KINDS,
  PROCESS_ROLES,
} from './metrics-state.js';

/**
 * The Prometheus view of the daemon's figures (prom-client), built at the first scrape (metrics.ts says why)
 * and brought up to date from the recorded state at every scrape.
 *
 * Conventions: base units in the name (`_bytes`, `_seconds`), fractions as `_ratio` (0-1), a capacity
 * (total, ceiling) never shares a metric with what uses it (so `sum()` over a metric's labels means
 * something), every counter present at 0 for its known labels from the start, `exo_sentinel_build_info`,
 * and prom-client's default `process_*` and `nodejs_*` metrics (the daemon's own RSS, CPU, heap, event loop).
 */
export class PromMetrics {
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
  private readonly guardInFlight: Gauge = new Gauge({
    name: 'exo_sentinel_guard_in_flight_requests',
    help: 'Generation requests the guard admitted that are still running',
    registers: [this.registry],
    collect: (): void => this.guardInFlight.set(this.state.guardStats?.()?.inFlight ?? 0),
  });
  private readonly guardQueued: Gauge = new Gauge({
    name: 'exo_sentinel_guard_queue_depth',
    help: 'Requests waiting in the serialise queue',
    registers: [this.registry],
    collect: (): void => this.guardQueued.set(this.state.guardStats?.()?.queued ?? 0),
  });
  private readonly panics = new Gauge({
    name: 'exo_sentinel_panics',
    help: 'Kernel panic reports found on this machine, by kind (a count of reports, kept across restarts)',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  private readonly buildInfo = new Gauge({
    name: 'exo_sentinel_build_info',
    help: 'Always 1: the exo-sentinel version, the Node.js version, the platform and the CPU architecture',
    labelNames: ['version', 'node', 'platform', 'arch'],
    registers: [this.registry],
  });

  constructor(private readonly state: MetricsState) {
    this.buildInfo.set(
      { version: VERSION, node: process.versions.node, platform: process.platform, arch: process.arch },
      1,
    );
    counterView(
      this.registry,
      'exo_sentinel_guard_requests_total',
      'Gated requests the guard recorded, by decision (admit, cancelled, refuse) and the HTTP status the client got',
      ['decision', 'status'],
      state.guardRequests,
    );
    counterView(
      this.registry,
      'exo_sentinel_guard_refusals_total',
      'Generation requests and model loads the guard refused, by reason',
      ['reason'],
      state.guardRefusals,
    );
    counterView(
      this.registry,
      'exo_sentinel_probe_failures_total',
      'Probe failures by probe (at most one counted per probe per minute)',
      ['probe'],
      state.probeFailures,
    );
    counterView(
      this.registry,
      'exo_sentinel_api_shed_total',
      'Connections and live-event clients the API closed or refused to stay reachable under load, by reason',
      ['reason'],
      state.apiShed,
    );
    histogramView(
      this.registry,
      'exo_sentinel_guard_queue_wait_seconds',
      'Time requests spent in the serialise queue, in seconds, whatever the outcome',
      state.guardQueueWait,
    );
    histogramView(
      this.registry,
      'exo_sentinel_tick_duration_seconds',
      'Work per tick, in seconds: probes, judgement and the database write',
      state.tickSeconds,
    );
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

  /** Brings every figure up to the recorded state; called before each scrape. */
  refresh(): void {
    const latest = this.state.latest;
    if (latest) this.update(latest.sample, latest.risk, latest.exo);
    if (this.state.panicsByKind) this.setPanics(this.state.panicsByKind);
  }

  private update(sample: Sample, risk: RiskState, exo: ExoSnapshot | null): void {
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

  private setPanics(byKind: Record<string, number>): void {
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

/** A counter whose totals the daemon recorded (CounterRecorder): every series, 0 included, at each scrape. */
function counterView(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  recorder: CounterRecorder,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(): void {
      this.reset();
      for (const { labels, value } of recorder.series()) this.inc(labels, value);
    },
  });
}

/**
 * A histogram the daemon recorded (HistogramRecorder) served as prom-client serialises its own: `_bucket`
 * lines with a cumulative count per `le` (and `+Inf`), then `_sum` and `_count`. A registry takes any object
 * with a name, help, type and get().
 */
function histogramView(registry: Registry, name: string, help: string, recorder: HistogramRecorder): void {
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const { buckets, cumulative, sum, count } = recorder.snapshot();
      return {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...buckets.map((le, i) => ({
            labels: { le },
            value: cumulative[i]!,
            metricName: `${name}_bucket`,
          })),
          { labels: { le: '+Inf' }, value: count, metricName: `${name}_bucket` },
          { labels: {}, value: sum, metricName: `${name}_sum` },
          { labels: {}, value: count, metricName: `${name}_count` },
        ],
      };
    },
    reset: () => {},
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}
