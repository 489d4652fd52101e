/**
 * The serialise queue: FIFO, bounded in length and in wait. An entry leaves the moment its client does (its
 * signal aborts), so a client that gave up never holds a turn; the guard wakes the next entry as soon as a
 * slot frees, and refuses all of them at once when the mode turns to refusing.
 */
export type QueueOutcome = 'turn' | 'timeout' | 'left' | 'refused';

interface Entry {
  enqueuedAt: number;
  settle: (o: QueueOutcome) => void;
}

export class AdmissionQueue {
  private readonly entries: Entry[] = [];

  constructor(
    private readonly maxWaitMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  /** How long the oldest entry has waited, ms (0 when empty). */
  oldestWaitMs(): number {
    const first = this.entries[0];
    return first ? this.now() - first.enqueuedAt : 0;
  }

  /** Waits for a turn. Resolves once, with why it ended; never rejects. */
  wait(signal: AbortSignal): Promise<QueueOutcome> {
    if (signal.aborted) return Promise.resolve('left');
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle('timeout'), this.maxWaitMs());
      const onAbort = (): void => settle('left');
      const entry: Entry = {
        enqueuedAt: this.now(),
        settle: (o) => settle(o),
      };
      let done = false;
      const settle = (o: QueueOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        const i = this.entries.indexOf(entry);
        if (i >= 0) this.entries.splice(i, 1);
        resolve(o);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.entries.push(entry);
    });
  }

  /** Gives a turn to the oldest entry; false when none is waiting. */
  wakeNext(): boolean {
    const first = this.entries[0];
    if (!first) return false;
    first.settle('turn');
    return true;
  }

  /** Ends every wait with `refused` (the mode no longer admits anything). */
  refuseAll(): number {
    const all = [...this.entries];
    for (const e of all) e.settle('refused');
    return all.length;
  }
}
