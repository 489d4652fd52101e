/** Events of one kind recorded in a burst (a model load on a large cluster: a few status changes per runner). */
export const EVENT_BURST = 30;
/** Events of one kind recorded per minute once a burst is spent (one every 10 s). */
export const EVENTS_PER_MINUTE = 6;

interface Bucket {
  tokens: number;
  at: number;
  dropped: number;
  droppedSince: number;
}

/**
 * How many of EXO's state-change events are written to the timeline, per kind: a burst of EVENT_BURST, then
 * EVENTS_PER_MINUTE. State that changes on every poll (an EXO flapping, or whatever answers on its port
 * inventing instances and runners) wrote about 60 KB a second of events, kept 30 days. The risk still sees
 * every event (only the record is limited); what was not written is said once a minute per kind.
 */
export class EventBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly burst = EVENT_BURST,
    private readonly perMinute = EVENTS_PER_MINUTE,
  ) {}

  /** Whether an event of this kind is written now. */
  admit(kind: string, now: number): boolean {
    let b = this.buckets.get(kind);
    if (!b) {
      b = { tokens: this.burst, at: now, dropped: 0, droppedSince: now };
      this.buckets.set(kind, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    if (b.dropped === 0) b.droppedSince = now;
    b.dropped++;
    return false;
  }

  /** Kinds with events not written for a minute or more: the count and since when (then counted afresh). */
  unwritten(now: number): Array<{ kind: string; dropped: number; since: number }> {
    const out: Array<{ kind: string; dropped: number; since: number }> = [];
    for (const [kind, b] of this.buckets) {
      if (b.dropped > 0 && now - b.droppedSince >= 60_000) {
        out.push({ kind, dropped: b.dropped, since: b.droppedSince });
        b.dropped = 0;
      }
    }
    return out;
  }
}
