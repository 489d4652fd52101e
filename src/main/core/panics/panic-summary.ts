import type { PanicSummary } from '../../../shared/status-view.js';
import type { ReportStore } from '../store/report-store.js';

export type { PanicSummary };

const byKind = (rows: Array<{ kind: string; n: number }>): Record<string, number> =>
  Object.fromEntries(rows.map((r) => [r.kind, r.n]));

/** Panic counts by kind over the whole ledger (the metrics'): counted by SQLite, no row read. */
export function panicCountsByKind(reports: ReportStore): Record<string, number> {
  return byKind(reports.panicsByKind());
}

/**
 * Panic counts (all time and the last 72 h, by kind), the latest one, and reports present but unreadable.
 * Counted in SQLite: a ledger of thousands of panics costs a few index reads, not thousands of rows parsed
 * (the status view and the slow tick ask for it).
 */
export function summarisePanics(reports: ReportStore, now: number): PanicSummary {
  const all = reports.panicsByKind();
  const recent = reports.panicsByKind(now - 72 * 3_600_000);
  const total = (rows: Array<{ n: number }>): number => rows.reduce((n, r) => n + r.n, 0);
  const l = reports.latestPanic();
  return {
    total: total(all),
    last72h: total(recent),
    byKind: byKind(all),
    byKind72h: byKind(recent),
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
