/**
 * What the daemon's metrics record between scrapes, without prom-client: the last reading, counter totals
 * and histogram buckets. prom-client serialises them only once someone scrapes /metrics (metrics.ts).
 */
import type { RiskState } from '../../../shared/risk.js';
import type { ProcessRole, Sample } from '../../../shared/sample.js';
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

/** Every role a watched process can have: each has a footprint and a count, 0 when none runs. */
export const PROCESS_ROLES: readonly ProcessRole[] = [
  'exo-main',
  'exo-runner',
  'exo-macmon',
  'exo-resource-tracker',
  'exo-app',
  'exo-other',
  'mlx-server',
];

/** The probes whose failures are counted on each platform (EventCollector.failed callers). */
export const PROBES: Record<string, readonly string[]> = {
  darwin: ['vm_stat', 'sysctl', 'memory_pressure', 'ioreg', 'ps', 'top', 'footprint'],
  linux: ['meminfo', 'process-table'],
};
export const COMMON_PROBES = ['identity', 'exo-monitor', 'actions', 'report-watcher'] as const;

/** Guard decisions with the statuses they usually carry (other pairs appear when they happen). */
export const GUARD_OUTCOMES: ReadonlyArray<{ decision: string; status: string }> = [
  { decision: 'admit', status: '200' },
  { decision: 'cancelled', status: '200' },
  { decision: 'refuse', status: '400' },
  { decision: 'refuse', status: '413' },
  { decision: 'refuse', status: '503' },
];

export const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

export const PANIC_KINDS = ['completeMemory', 'iogpuSibling', 'watchdogTimeout', 'other', 'unknown'] as const;

/** Buckets of the guard's queue wait, in seconds. */
export const QUEUE_WAIT_BUCKETS = [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300] as const;
/** Buckets of the work per tick, in seconds. */
export const TICK_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5] as const;

type Labels = Record<string, string>;

/** A counter's totals by label set, kept from the start (a series at 0 exists once `inc(labels, 0)`). */
export class CounterRecorder {
  private readonly totals = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels, by = 1): void {
    if (!Number.isFinite(by) || by < 0) return;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const entry = this.totals.get(key);
    if (entry) entry.value += by;
    else this.totals.set(key, { labels: { ...labels }, value: by });
  }

  series(): Array<{ labels: Labels; value: number }> {
    return [...this.totals.values()];
  }
}

/** A histogram's bucket counts, sum and count, from the start. */
export class HistogramRecorder {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const i = this.buckets.findIndex((le) => value <= le);
    if (i >= 0) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Cumulative counts per bucket (`le`), as Prometheus reads them. */
  snapshot(): { buckets: readonly number[]; cumulative: number[]; sum: number; count: number } {
    let running = 0;
    const cumulative = this.counts.map((n) => (running += n));
    return { buckets: this.buckets, cumulative, sum: this.sum, count: this.count };
  }
}

/** Everything the Prometheus view reads at a scrape. */
export interface MetricsState {
  readonly latest: { sample: Sample; risk: RiskState; exo: ExoSnapshot | null } | null;
  readonly panicsByKind: Record<string, number> | null;
  readonly guardStats: (() => { inFlight: number; queued: number } | null) | null;
  readonly guardRequests: CounterRecorder;
  readonly guardRefusals: CounterRecorder;
  readonly probeFailures: CounterRecorder;
  readonly apiShed: CounterRecorder;
  readonly guardQueueWait: HistogramRecorder;
  readonly tickSeconds: HistogramRecorder;
}
