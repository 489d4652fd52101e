/**
 * How long admitted generation requests actually hold capacity (a slot in serialise mode, KV memory always),
 * from the last completed ones. A refusal's Retry-After comes from it: a client told to come back in 30 s when
 * streams free in 4 s waits for nothing; one told 4 s when streams last minutes only adds load.
 */
export class HoldTimeEstimator {
  private readonly recent: number[] = [];

  constructor(private readonly keep = 64) {}

  /** A request that held capacity for `ms` finished. */
  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.recent.push(ms);
    if (this.recent.length > this.keep) this.recent.shift();
  }

  /** The median hold, seconds; null before any request finished. */
  medianSeconds(): number | null {
    if (this.recent.length === 0) return null;
    const s = [...this.recent].sort((a, b) => a - b);
    const mid = s.length >> 1;
    const ms = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
    return ms / 1000;
  }

  /**
   * Seconds before a retry has a fair chance: the median hold (at least `runningSeconds`, how long the oldest
   * request in flight has run) times the requests ahead (`ahead` + 1), within [1, ceiling]; `fallback` when
   * nothing finished yet (a refusal at a raised level with nothing in flight also uses `fallback`: memory
   * recovers on its own clock, not the streams').
   */
  retryAfter(ahead: number, fallback: number, ceiling: number, runningSeconds = 0): number {
    const median = this.medianSeconds();
    if (median === null) return fallback;
    const m = Math.max(median, runningSeconds);
    return Math.min(ceiling, Math.max(1, Math.ceil(m * (ahead + 1))));
  }
}
