import type { TimelineEvent } from '../../../shared/events.js';
import type { ReportRecord } from '../../../shared/reports.js';
import type { Sample } from '../../../shared/sample.js';
import type { ReportStore } from '../store/report-store.js';
import type { MinuteRow, TimelineStore } from '../store/timeline-store.js';

/**
 * The reads a client can ask for (HTTP API and the app's IPC), each bounded: a page of at most a fixed
 * number of rows, `truncated` when there is more and a cursor to ask for it. Caps are sized so that one
 * page costs well under 50 ms of event loop and a few MiB (see test/integration/api-bounded.test.ts).
 */
export const RAW_WINDOW_MS = 6 * 3_600_000;

export const PAGE_LIMITS = {
  /** 1 s samples with their process readings: 30 min at 1 Hz. */
  rawRows: 1800,
  /** Per-minute rows: one day. */
  minuteRows: 1440,
  events: 1000,
  reports: 500,
} as const;

export type Resolution = 'raw' | 'minute';

export interface TimelinePage {
  from: number;
  to: number;
  resolution: Resolution;
  samples?: Sample[];
  minutes?: MinuteRow[];
  /** More rows in the range than this page holds. */
  truncated: boolean;
  /** Ask again with `from=next` (same `to` and resolution) for the following page; null when complete. */
  next: number | null;
  limit: number;
}

/** Ranges up to the raw window read the 1 s samples, longer ones the per-minute roll-up, unless asked. */
export function pickResolution(from: number, to: number, asked?: 'raw' | 'minute' | 'auto'): Resolution {
  if (asked === 'raw' || asked === 'minute') return asked;
  return to - from <= RAW_WINDOW_MS ? 'raw' : 'minute';
}

export function timelinePage(
  store: TimelineStore,
  q: {
    from: number;
    to: number;
    resolution?: 'raw' | 'minute' | 'auto' | undefined;
    limit?: number | undefined;
  },
): TimelinePage {
  const resolution = pickResolution(q.from, q.to, q.resolution);
  if (resolution === 'raw') {
    const limit = Math.min(q.limit ?? PAGE_LIMITS.rawRows, PAGE_LIMITS.rawRows);
    const p = store.samplePage(q.from, q.to, limit, true);
    return {
      from: q.from,
      to: q.to,
      resolution,
      samples: p.rows,
      truncated: p.next !== null,
      next: p.next,
      limit,
    };
  }
  const limit = Math.min(q.limit ?? PAGE_LIMITS.minuteRows, PAGE_LIMITS.minuteRows);
  const p = store.minutePage(q.from, q.to, limit);
  return {
    from: q.from,
    to: q.to,
    resolution,
    minutes: p.rows,
    truncated: p.next !== null,
    next: p.next,
    limit,
  };
}

export interface EventsPage {
  /** Newest first. */
  events: TimelineEvent[];
  truncated: boolean;
  /** Ask again with `before=next` for older events; null when there are none. */
  next: number | null;
}

export function eventsPage(
  store: TimelineStore,
  q: {
    from: number;
    to: number;
    kind?: string | undefined;
    before?: number | undefined;
    limit?: number | undefined;
  },
): EventsPage {
  const limit = Math.min(q.limit ?? PAGE_LIMITS.events, PAGE_LIMITS.events);
  const p = store.eventPage({ from: q.from, to: q.to, kind: q.kind, before: q.before, limit });
  return { events: p.events, truncated: p.next !== null, next: p.next };
}

export interface ReportsPage {
  reports: ReportRecord[];
  truncated: boolean;
  next: number | null;
}

export function reportsPage(
  reports: ReportStore,
  q: { before?: number | undefined; limit?: number | undefined } = {},
): ReportsPage {
  const limit = Math.min(q.limit ?? PAGE_LIMITS.reports, PAGE_LIMITS.reports);
  const p = reports.page({ before: q.before, limit });
  return { reports: p.reports, truncated: p.next !== null, next: p.next };
}
