import type { ReportRecord } from '../../../shared/reports.js';
import type { PanicSummary } from '../../../shared/status-view.js';
import type { ReportStore } from '../store/report-store.js';

export type { PanicSummary };

/** Panic counts (all time and the last 72 h, by kind), the latest one, and reports present but unreadable. */
export function summarisePanics(reports: ReportStore, now: number): PanicSummary {
  const panics = reports.list({ category: 'panic', status: 'ingested' });
  const recent = panics.filter((r) => (r.panicTime ?? r.mtime) >= now - 72 * 3_600_000);
  const count = (list: ReportRecord[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of list) out[r.kind ?? 'unknown'] = (out[r.kind ?? 'unknown'] ?? 0) + 1;
    return out;
  };
  const l = panics[0];
  return {
    total: panics.length,
    last72h: recent.length,
    byKind: count(panics),
    byKind72h: count(recent),
    latest: l
      ? {
          id: l.id,
          kind: l.kind,
          panicTime: l.panicTime,
          mtime: l.mtime,
          pid: l.pid,
          processName: l.processName,
          attribution: l.attribution,
        }
      : null,
    unreadable: reports
      .list({ status: 'unreadable' })
      .map((r) => ({ id: r.id, name: r.name, mtime: r.mtime, problem: r.problem })),
  };
}
