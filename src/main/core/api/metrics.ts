import type { RiskState } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import {
  COMMON_PROBES,
  CounterRecorder,
  GUARD_OUTCOMES,
  GUARD_REFUSAL_REASONS,
  HistogramRecorder,
  type MetricsState,
  PROBES,
  QUEUE_WAIT_BUCKETS,
  TICK_BUCKETS,
} from './metrics-state.js';
import type { PromMetrics } from './prom-metrics.js';
import { SHED_REASONS, type ShedCounts, shedLabel } from './shed-tally.js';

/** How long a rendered /metrics text answers further scrapes (Prometheus scrapes every 15 s or so). */
export const RENDER_REUSE_MS = 250;

/**
 * The daemon's Prometheus metrics. Each tick records its figures here (the last reading, counter totals,
 * histogram buckets); prom-client is loaded and the registry built only when /metrics is first scraped, so
 * a daemon nobody scrapes does not carry it (6.6 MiB of RSS on Node 26). Counters and histograms count from
 * the daemon's start either way; the default `process_*` and `nodejs_*` metrics start at the first scrape
 * (the CPU and memory figures are absolute, the garbage-collection and event-loop histograms start then).
 *
 * Conventions: base units in the name (`_bytes`, `_seconds`), fractions as `_ratio` (0-1), a capacity
 * (total, ceiling) never shares a metric with what uses it (so `sum()` over a metric's labels means
 * something), every counter present at 0 for its known labels from the start, `exo_sentinel_build_info`,
 * and prom-client's default `process_*` and `nodejs_*` metrics (the daemon's own RSS, CPU, heap, event loop).
 */
export class Metrics implements MetricsState {
  latest: MetricsState['latest'] = null;
  panicsByKind: Record<string, number> | null = null;
  guardStats: MetricsState['guardStats'] = null;
  readonly guardRequests = new CounterRecorder();
  /** Refusals by reason, every reason present from the start at 0 (a rate over an absent series is nothing). */
  readonly guardRefusals = new CounterRecorder();
  readonly probeFailures = new CounterRecorder();
  /** What the API shed to stay reachable, by reason (shed-tally.ts), every reason at 0 from the start. */
  readonly apiShed = new CounterRecorder();
  readonly guardQueueWait = new HistogramRecorder(QUEUE_WAIT_BUCKETS);
  readonly tickSeconds = new HistogramRecorder(TICK_BUCKETS);
  private prom: Promise<PromMetrics> | null = null;

  constructor() {
    for (const reason of GUARD_REFUSAL_REASONS) this.guardRefusals.inc({ reason }, 0);
    for (const outcome of GUARD_OUTCOMES) this.guardRequests.inc(outcome, 0);
    for (const reason of SHED_REASONS) this.apiShed.inc({ reason: shedLabel(reason) }, 0);
    for (const probe of [...(PROBES[process.platform] ?? []), ...COMMON_PROBES])
      this.probeFailures.inc({ probe }, 0);
  }

  /** The guard's live figures, read at each scrape. */
  attachGuard(stats: () => { inFlight: number; queued: number } | null): void {
    this.guardStats = stats;
  }

  update(sample: Sample, risk: RiskState, exo: ExoSnapshot | null): void {
    this.latest = { sample, risk, exo };
  }

  /** What the API shed in one report window (shed-tally.ts), added to `exo_sentinel_api_shed_total`. */
  countShed(counts: ShedCounts): void {
    for (const reason of SHED_REASONS)
      if (counts[reason]) this.apiShed.inc({ reason: shedLabel(reason) }, counts[reason]);
  }

  setPanics(byKind: Record<string, number>): void {
    this.panicsByKind = { ...byKind };
  }

  /**
   * The exposition text for /metrics (prom-client loaded on the first call). Scrapes within
   * `RENDER_REUSE_MS` of a render, or while one runs, get that text: a client scraping in a loop, or many at
   * once, costs one render (about 1 ms of the event loop) per interval, not one each.
   */
  render(): Promise<{ contentType: string; text: string }> {
    const now = performance.now();
    if (this.rendered && now - this.rendered.at < RENDER_REUSE_MS) return this.rendered.text;
    const text = this.renderNow();
    this.rendered = { at: now, text };
    return text;
  }

  private rendered: { at: number; text: Promise<{ contentType: string; text: string }> } | null = null;

  private async renderNow(): Promise<{ contentType: string; text: string }> {
    this.prom ??= import('./prom-metrics.js').then((m) => new m.PromMetrics(this));
    const prom = await this.prom;
    prom.refresh();
    return { contentType: prom.registry.contentType, text: await prom.registry.metrics() };
  }
}
