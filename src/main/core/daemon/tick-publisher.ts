import type { TimelineEvent } from '../../../shared/events.js';
import type { LiveEventMap, Publish } from '../../../shared/live-events.js';
import { isRiskLevel, type RiskReason } from '../../../shared/risk.js';
import type { Metrics } from '../api/metrics.js';
import { panicCountsByKind } from '../panics/panic-summary.js';
import type { RiskPipeline } from '../risk/risk-pipeline.js';
import type { TickResult } from '../sampler.js';
import type { ReportStore } from '../store/report-store.js';

export interface TickPublisherDeps {
  metrics: Metrics;
  risk: RiskPipeline;
  reports: ReportStore;
  /** One live message to every listener: the API's SSE clients and the app's dashboard window. */
  publish: Publish;
}

/** A `risk.level` event's data as the live `level` message (the new level and its reasons); null if it has none. */
function levelChange(e: TimelineEvent): LiveEventMap['level'] | null {
  const to = e.data?.['to'];
  const reasons = e.data?.['reasons'];
  return isRiskLevel(to)
    ? { level: to, reasons: Array.isArray(reasons) ? (reasons as RiskReason[]) : [] }
    : null;
}

/** After a tick is on disk (or buffered: then marked so): the metrics, then the live stream. */
export function publishTick(
  d: TickPublisherDeps,
  result: TickResult,
  written: TimelineEvent[],
  at: { now: number; slow: boolean; stored: boolean },
): void {
  countTick(d, result, written, at);
  const mark: { buffered?: true } = at.stored ? {} : { buffered: true };
  d.publish('sample', {
    sample: result.sample,
    level: d.risk.state.level,
    reasons: d.risk.state.reasons,
    ...mark,
  });
  for (const e of written) {
    d.publish('event', { ...e, ...mark });
    const change = e.kind === 'risk.level' ? levelChange(e) : null;
    if (change) d.publish('level', change);
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
  if (at.slow) metrics.setPanics(panicCountsByKind(reports));
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
