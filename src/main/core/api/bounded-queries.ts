import { RAW_LIMIT_MS } from '../../../shared/api-contracts.js';
import type { TimelineEvent } from '../../../shared/events.js';
import type { ReportRecord } from '../../../shared/reports.js';
import type { Sample } from '../../../shared/sample.js';
import type { AuditRecord, AuditStore } from '../actions/audit-store.js';
import type { ReportStore } from '../store/report-store.js';
import type { MinuteRow, TimelineStore } from '../store/timeline-store.js';

/**
 * The reads a client can ask for (HTTP API and the app's IPC), each bounded: a page of at most a fixed
 * number of rows, `truncated` when there is more and a cursor to ask for it. A page is read in small
 * steps (separate indexed queries) with the event loop free in between, so sampling never waits more than
 * a few milliseconds behind a client (measured in test/integration/api-bounded.test.ts).
 */
export const PAGE_LIMITS = {
  /** 1 s samples with their process readings: 30 min at 1 Hz. */
  rawRows: 1800,
  /** Per-minute rows: one day. */
  minuteRows: 1440,
  events: 1000,
  reports: 500,
  actions: 1000,
} as const;

/** Rows read per step; each step is one query and a few ms of work at most. */
const STEP = { raw: 100, minute: 60, eventIds: 10_000 } as const;

/** Lets timers and I/O run between two steps of a page. */
const breathe = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Steps of all the pages being read that may run in one turn of the event loop. */
export const STEPS_PER_TURN = 4;

/**
 * Lets at most `perTurn` steps run per turn of the event loop, whichever pages they belong to; a step over
 * the budget waits for a later turn. Each step yielding alone was not enough: every page being read took
 * its step in the same turn, so 200 clients reading a 7-day timeline at once held the loop 1.2 s per turn
 * (the tick, the guard and every other answer waited that long).
 */
class TurnBudget {
  private used = 0;
  private resetQueued = false;

  constructor(private readonly perTurn: number) {}

  async run<T>(step: () => T): Promise<T> {
    while (this.used >= this.perTurn) await breathe();
    if (!this.resetQueued) {
      this.resetQueued = true;
      setImmediate(() => {
        this.used = 0;
        this.resetQueued = false;
      });
    }
    this.used++;
    return step();
  }
}

const budget = new TurnBudget(STEPS_PER_TURN);

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
  return to - from <= RAW_LIMIT_MS ? 'raw' : 'minute';
}

/** Up to `limit` rows from `from`, read `step` at a time: returns the rows and the cursor after them. */
async function stepped<T>(
  from: number,
  limit: number,
  step: number,
  read: (from: number, n: number) => { rows: T[]; next: number | null },
): Promise<{ rows: T[]; next: number | null }> {
  const rows: T[] = [];
  let cursor: number | null = from;
  while (cursor !== null && rows.length < limit) {
    if (rows.length > 0) await breathe();
    const at: number = cursor;
    const page: { rows: T[]; next: number | null } = await budget.run(() =>
      read(at, Math.min(step, limit - rows.length)),
    );
    rows.push(...page.rows);
    cursor = page.next;
  }
  return { rows, next: cursor };
}

export async function timelinePage(
  store: TimelineStore,
  q: {
    from: number;
    to: number;
    resolution?: 'raw' | 'minute' | 'auto' | undefined;
    limit?: number | undefined;
  },
): Promise<TimelinePage> {
  const resolution = pickResolution(q.from, q.to, q.resolution);
  if (resolution === 'raw') {
    const limit = Math.min(q.limit ?? PAGE_LIMITS.rawRows, PAGE_LIMITS.rawRows);
    const p = await stepped(q.from, limit, STEP.raw, (f, n) => store.samplePage(f, q.to, n, true));
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
  const p = await stepped(q.from, limit, STEP.minute, (f, n) => store.minutePage(f, q.to, n));
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

/**
 * The same page as `timelinePage`, as JSON text in pieces: the rows of each step are serialised and
 * handed out before the next step is read, so no more than one step's objects are alive at a time (no
 * page-sized heap, no long collection) and the HTTP response streams with backpressure.
 */
export async function* timelineJson(
  store: TimelineStore,
  q: {
    from: number;
    to: number;
    resolution?: 'raw' | 'minute' | 'auto' | undefined;
    limit?: number | undefined;
  },
): AsyncGenerator<string> {
  const resolution = pickResolution(q.from, q.to, q.resolution);
  const raw = resolution === 'raw';
  const cap = raw ? PAGE_LIMITS.rawRows : PAGE_LIMITS.minuteRows;
  const limit = Math.min(q.limit ?? cap, cap);
  const step = raw ? STEP.raw : STEP.minute;
  yield `{"from":${q.from},"to":${q.to},"resolution":"${resolution}","limit":${limit},"${raw ? 'samples' : 'minutes'}":[`;
  let cursor: number | null = q.from;
  let n = 0;
  while (cursor !== null && n < limit) {
    if (n > 0) await breathe();
    const want = Math.min(step, limit - n);
    const at: number = cursor;
    const first = n === 0;
    // Read and serialised as one step of the budget; yielded after it.
    const piece = await budget.run(() => {
      const page: { rows: unknown[]; next: number | null } = raw
        ? store.samplePage(at, q.to, want, true)
        : store.minutePage(at, q.to, want);
      const text = page.rows.length > 0 ? `${first ? '' : ','}${JSON.stringify(page.rows).slice(1, -1)}` : '';
      return { text, rows: page.rows.length, next: page.next };
    });
    if (piece.text) yield piece.text;
    n += piece.rows;
    cursor = piece.next;
  }
  yield `],"truncated":${cursor !== null},"next":${cursor ?? 'null'}}`;
}

export interface EventsPage {
  /** Newest first. */
  events: TimelineEvent[];
  truncated: boolean;
  /** Ask again with `before=next` for older events; null when there are none. */
  next: number | null;
}

/**
 * Events newest first. The table is walked backwards in windows of ids (each a rowid range, so a kind
 * that matches nothing costs a few ms per window, never one long scan) until the page is full.
 */
export async function eventsPage(
  store: TimelineStore,
  q: {
    from: number;
    to: number;
    kind?: string | undefined;
    before?: number | undefined;
    limit?: number | undefined;
  },
): Promise<EventsPage> {
  const limit = Math.min(q.limit ?? PAGE_LIMITS.events, PAGE_LIMITS.events);
  const ids = store.eventIdRange();
  if (!ids) return { events: [], truncated: false, next: null };
  // One more than the page is looked for: finding it is what makes the page truncated.
  const events: TimelineEvent[] = [];
  let hi = Math.min(q.before ?? ids.max + 1, ids.max + 1);
  for (let step = 0; hi > ids.min && events.length <= limit; step++) {
    if (step > 0) await breathe();
    const lo = Math.max(ids.min - 1, hi - STEP.eventIds - 1);
    const before = hi;
    const p = await budget.run(() =>
      store.eventPage({
        from: q.from,
        to: q.to,
        kind: q.kind,
        before,
        after: lo,
        limit: limit + 1 - events.length,
      }),
    );
    events.push(...p.events);
    hi = lo + 1;
  }
  const more = events.length > limit;
  if (more) events.pop();
  return { events, truncated: more, next: more ? (events[events.length - 1]?.id ?? null) : null };
}

export interface ActionsPage {
  /** Newest first. */
  actions: AuditRecord[];
  truncated: boolean;
  /** Ask again with `before=next` for older actions; null when there are none. */
  next: number | null;
}

export function actionsPage(
  audit: AuditStore,
  q: { from: number; to: number; before?: number | undefined; limit?: number | undefined },
): ActionsPage {
  const limit = Math.min(q.limit ?? PAGE_LIMITS.actions, PAGE_LIMITS.actions);
  const p = audit.page({ from: q.from, to: q.to, before: q.before, limit });
  return { actions: p.actions, truncated: p.next !== null, next: p.next };
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
