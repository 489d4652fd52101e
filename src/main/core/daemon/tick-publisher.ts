import type { TimelineEvent } from '../../../shared/events.js';
import type { Metrics } from '../api/metrics.js';
import { summarisePanics } from '../panics/panic-summary.js';
import type { RiskPipeline } from '../risk/risk-pipeline.js';
import type { TickResult } from '../sampler.js';
import type { ReportStore } from '../store/report-store.js';

export interface TickPublisherDeps {
  metrics: Metrics;
  risk: RiskPipeline;
  reports: ReportStore;
  /** One live message to every listener: the API's SSE clients and the app's dashboard window. */
  publish: (event: string, data: object) => void;
}

/** After a tick is on disk (or buffered: then marked so): the metrics, then the live stream. */
export function publishTick(
  d: TickPublisherDeps,
  result: TickResult,
  written: TimelineEvent[],
  at: { now: number; slow: boolean; stored: boolean },
): void {
  countTick(d, result, written, at);
  const mark = at.stored ? {} : { buffered: true };
  d.publish('sample', {
    sample: result.sample,
    level: d.risk.state.level,
    reasons: d.risk.state.reasons,
    ...mark,
  });
  for (const e of written) {
    d.publish('event', { ...e, ...mark });
    if (e.kind === 'risk.level') d.publish('level', { level: e.data?.['to'], reasons: e.data?.['reasons'] });
    if (e.kind === 'panic.detected') d.publish('panic', e.data ?? {});
  }
}

function countTick(
  { metrics, risk, reports }: TickPublisherDeps,
  result: TickResult,
  written: TimelineEvent[],
  at: { now: number; slow: boolean },
): void {
  metrics.update(result.sample, risk.state, risk.monitor.snapshot);
  metrics.tickSeconds.observe(result.durationMs / 1000);
  if (at.slow) metrics.setPanics(summarisePanics(reports, at.now).byKind);
  for (const e of written) {
    if (e.kind === 'probe.failed')
      metrics.probeFailures.inc({ probe: String(e.data?.['probe'] ?? 'unknown') });
    if (e.kind === 'guard.request')
      metrics.guardRequests.inc({
        decision: String(e.data?.['decision']),
        status: String(e.data?.['status']),
      });
    // Refusals past the first of each second are counted in one aggregated event.
    if (e.kind === 'guard.refusals')
      metrics.guardRequests.inc(
        { decision: 'refuse', status: String(e.data?.['status']) },
        Number(e.data?.['count'] ?? 0),
      );
  }
}
