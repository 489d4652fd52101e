/**
 * Answers up to this size are read every poll (EXO's state on a busy node is a few KiB per key; a task
 * carries its prompt, so /state/tasks grows with long prompts in flight).
 */
export const PACE_FREE_BYTES = 256 * 1024;
/**
 * Bytes of one key's answers read per second on average, beyond PACE_FREE_BYTES: a key whose answer is
 * larger is asked again only after (bytes / this) seconds, so five keys cost at most 2.5 MiB/s of reading,
 * checking and parsing. Whatever answers on EXO's port sending 10 MB per key every second kept the daemon
 * at a whole core and 840 MiB of RSS.
 */
export const PACE_BYTES_PER_SECOND = 512 * 1024;

interface Kept {
  value: unknown;
  /** When the key may be asked again (the monitor's clock). */
  next: number;
  /** Seconds between reads while paced; 0 when read every poll. */
  everySeconds: number;
}

/** The last value read per `/state` key and when each may be read again: large answers are read less often. */
export class StatePacing {
  private readonly kept = new Map<string, Kept>();
  /** The size of each key's last answer, kept when the values are forgotten (EXO restarted or went away). */
  private readonly sizes = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** Whether the key is to be read in this poll (never read, or its pause is over). */
  due(key: string): boolean {
    const k = this.kept.get(key);
    return !k || this.now() >= k.next;
  }

  /** Whether the key's last answer was small enough to be asked at the same time as others. */
  small(key: string): boolean {
    const size = this.sizes.get(key);
    return size !== undefined && size <= PACE_FREE_BYTES;
  }

  read(key: string, value: unknown, bytes: number): void {
    this.sizes.set(key, bytes);
    const everySeconds = bytes > PACE_FREE_BYTES ? Math.ceil(bytes / PACE_BYTES_PER_SECOND) : 0;
    this.kept.set(key, { value, next: this.now() + everySeconds * 1000, everySeconds });
  }

  value<T>(key: string, fallback: T): T {
    const k = this.kept.get(key);
    return k ? (k.value as T) : fallback;
  }

  /** The keys read less often than every poll, with the seconds between reads. */
  paced(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, k] of this.kept) if (k.everySeconds > 0) out[key] = k.everySeconds;
    return out;
  }

  /** EXO went away: everything is read afresh when it answers again. */
  forget(): void {
    this.kept.clear();
    this.failure = null;
  }

  private failure: { error: string; until: number } | null = null;

  /**
   * A key's answer could not be used: everything is read afresh next time, but after a large failed answer
   * (garbage, an error page) not before its size has been paid for, as for a large good one.
   */
  failed(key: string, error: string, bytes: number): void {
    this.kept.clear();
    // A key that failed with a large answer is asked alone next time.
    if (bytes > 0) this.sizes.set(key, bytes);
    const pause = bytes > PACE_FREE_BYTES ? Math.ceil(bytes / PACE_BYTES_PER_SECOND) * 1000 : 0;
    this.failure = pause
      ? { error: `${error} (asked again in ${pause / 1000} s)`, until: this.now() + pause }
      : null;
  }

  /** The failure still being waited out, or null when the state may be read. */
  failureWaiting(): string | null {
    if (this.failure && this.now() < this.failure.until) return this.failure.error;
    this.failure = null;
    return null;
  }
}
