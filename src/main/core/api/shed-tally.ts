/**
 * What the API shed to stay reachable (connections closed, live-event clients dropped), counted and reported
 * at most once per window: a flood of thousands of connections is one report, not a log line each.
 */
export type ShedReason =
  /** An idle connection closed to admit a new one at the connection cap. */
  | 'idleConnectionClosed'
  /** A new connection closed at the cap because every held connection was serving a request. */
  | 'connectionRefused'
  /** A live-event client with bytes queued that had not drained them within the stall limit. */
  | 'liveClientStalled'
  /** A live-event client with more bytes queued than the buffer limit. */
  | 'liveClientOverBuffer'
  /** A stalled live-event client dropped to give its slot to a new one. */
  | 'liveClientEvicted'
  /** A live-event client answered 503: every slot taken, none stalled. */
  | 'liveClientRefused'
  /** A connection closed for pipelining more requests than MAX_PIPELINED behind an unanswered one. */
  | 'pipelineOverflow';

export type ShedCounts = Partial<Record<ShedReason, number>>;

/** Every reason, for counters that start at 0. */
export const SHED_REASONS: readonly ShedReason[] = [
  'idleConnectionClosed',
  'connectionRefused',
  'liveClientStalled',
  'liveClientOverBuffer',
  'liveClientEvicted',
  'liveClientRefused',
  'pipelineOverflow',
];

/** A reason as a Prometheus label value: idleConnectionClosed → idle_connection_closed. */
export const shedLabel = (r: ShedReason): string => r.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

const WORDS: Record<ShedReason, string> = {
  idleConnectionClosed: 'idle connections closed to admit new ones',
  connectionRefused: 'new connections closed with every connection busy',
  liveClientStalled: 'live-event clients dropped for not reading',
  liveClientOverBuffer: 'live-event clients dropped for too many bytes queued',
  liveClientEvicted: 'stalled live-event clients dropped to admit new ones',
  liveClientRefused: 'live-event clients refused (503) with every slot taken',
  pipelineOverflow: 'connections closed for pipelining more than 8 requests behind an unanswered one',
};

/** One line naming each count, e.g. "412 idle connections closed to admit new ones; 2 live-event …". */
export function shedText(counts: ShedCounts, windowMs: number): string {
  const parts = (Object.keys(WORDS) as ShedReason[])
    .filter((r) => (counts[r] ?? 0) > 0)
    .map((r) => `${counts[r]} ${WORDS[r]}`);
  return `API under load, in the last ${Math.round(windowMs / 1000)} s: ${parts.join('; ')}`;
}

export class ShedTally {
  private counts: ShedCounts = {};
  private timer: NodeJS.Timeout | null = null;

  /** `report` gets each window's counts; it is never called with nothing in it, and what it throws is dropped. */
  constructor(
    private readonly report: ((counts: ShedCounts, windowMs: number) => void) | undefined,
    private readonly windowMs: number,
  ) {}

  count(reason: ShedReason): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    if (this.timer || !this.report) return;
    this.timer = setTimeout(() => this.flush(), this.windowMs);
    this.timer.unref();
  }

  /** Reports what was counted since the last report (if anything) and starts a new window. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const counts = this.counts;
    this.counts = {};
    if (!this.report || Object.keys(counts).length === 0) return;
    try {
      this.report(counts, this.windowMs);
    } catch {
      // Reporting load must not add a fault to it.
    }
  }
}
