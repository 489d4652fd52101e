/** Whether live updates flow, and why not. */
export type StreamState = { live: true } | { live: false; why: string };

/** A silence shorter than this is never called stale, whatever the interval. */
const STALE_FLOOR_MS = 15_000;
/** How often the page looks, and reads the status while not live. */
export const POLL_MS = 5_000;
/** Gaps remembered: the shortest of these is taken for the daemon's interval. */
const GAPS_KEPT = 8;

/**
 * Whether the dashboard is live, and what its footer says. A stream that was refused or lost, or samples that
 * stopped (no update for three times the usual gap between them, at least 15 s), make it not live, with since
 * when; a watchdog's page must never show a frozen "OK" as current.
 */
export class Liveness {
  private stream: StreamState = { live: false, why: 'connecting to the event stream' };
  /** When the last sample came over the stream. */
  private lastUpdate: number;
  /** The last gaps between samples over the stream: the shortest is the daemon's interval, not a stall. */
  private readonly gaps: number[] = [];
  /**
   * When the last sample came over the stream as it is now (null: none since it opened): a gap is measured
   * between two samples only, never from the page's load or a reconnection, which may be any time before.
   */
  private lastSample: number | null = null;
  /** When the status was last read while not live (null: not since it was live). */
  private polledAt: number | null = null;

  constructor(now: number) {
    this.lastUpdate = now;
  }

  /**
   * The usual gap between samples: the shortest of the last few. A stall only ever makes a gap longer, so one
   * among them, even the first, does not stretch how long a silence counts as live. Before two samples have
   * come, 20 s (a silence of a minute, the longest interval a daemon may have, is not called stale).
   */
  private usualGap(): number {
    return this.gaps.length ? Math.min(...this.gaps) : 20_000;
  }

  isLive(now: number): boolean {
    return this.stream.live && now - this.lastUpdate < Math.max(STALE_FLOOR_MS, 3 * this.usualGap());
  }

  streamChanged(state: StreamState): void {
    this.stream = state;
    if (!state.live) this.lastSample = null;
  }

  /** A sample came over the stream. */
  sampled(now: number): void {
    // A daemon that samples every minute teaches its gap too (a burst's near-zero gaps are no interval).
    const gap = this.lastSample === null ? null : now - this.lastSample;
    if (this.stream.live && gap !== null && gap >= 200) {
      this.gaps.push(Math.min(60_000, gap));
      if (this.gaps.length > GAPS_KEPT) this.gaps.shift();
    }
    this.lastSample = this.stream.live ? now : null;
    this.lastUpdate = now;
  }

  /** The status was read while not live. */
  polled(now: number): void {
    this.polledAt = now;
  }

  /** What the footer shows now. */
  footer(now: number, time: (t: number) => string): { live: boolean; text: string } {
    if (this.isLive(now)) {
      this.polledAt = null;
      return { live: true, text: 'exo-sentinel · live' };
    }
    const why = this.stream.live
      ? `no update for ${Math.round((now - this.lastUpdate) / 1000)} s`
      : this.stream.why;
    const polled =
      this.polledAt === null
        ? `read every ${POLL_MS / 1000} s`
        : `read at ${time(this.polledAt)}, every ${POLL_MS / 1000} s`;
    return {
      live: false,
      text: `exo-sentinel · not live: ${why}; last live update ${time(this.lastUpdate)}; the status is ${polled}`,
    };
  }
}
