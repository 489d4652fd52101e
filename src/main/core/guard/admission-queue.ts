/**
 * The serialise queue: bounded in length and in wait, first come first served within a client and round robin
 * between clients: the clients with requests waiting form a ring, a client that comes (or comes back) joins its
 * end, and the one at its head gets the next turn and goes to the end if it has more waiting. So a client that
 * keeps one request waiting, leaves and comes back, or sends each request from a new address waits its round
 * like any other, and one that fills the queue delays another's request by at most one of its own. An entry leaves the moment its client
 * does (its signal aborts), so a client that gave up never holds a turn; the guard wakes the next entry as
 * soon as a slot frees, and refuses all of them at once when the mode turns to refusing.
 */
/** `displaced`: its place went to a request of a client holding less than its share (the queue was full). */
export type QueueOutcome = 'turn' | 'timeout' | 'left' | 'refused' | 'displaced';

interface Entry {
  client: string;
  enqueuedAt: number;
  settle: (o: QueueOutcome) => void;
}

export class AdmissionQueue {
  private readonly entries: Entry[] = [];
  /** The clients with entries waiting, in the order their turns come. */
  private readonly ring: string[] = [];

  constructor(
    private readonly maxWaitMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  /** Entries waiting from one client. */
  waitingFor(client: string): number {
    let n = 0;
    for (const e of this.entries) if (e.client === client) n++;
    return n;
  }

  /** How long the oldest entry has waited, ms (0 when empty). */
  oldestWaitMs(): number {
    const first = this.entries[0];
    return first ? this.now() - first.enqueuedAt : 0;
  }

  /** Waits for a turn. Resolves once, with why it ended; never rejects. */
  wait(signal: AbortSignal, client = ''): Promise<QueueOutcome> {
    if (signal.aborted) return Promise.resolve('left');
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle('timeout'), this.maxWaitMs());
      const onAbort = (): void => settle('left');
      const entry: Entry = {
        client,
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
        if (!this.entries.some((e) => e.client === client)) {
          const at = this.ring.indexOf(client);
          if (at >= 0) this.ring.splice(at, 1);
        }
        resolve(o);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (!this.ring.includes(client)) this.ring.push(client);
      this.entries.push(entry);
    });
  }

  /** Entries waiting per client. */
  private counts(): Map<string, number> {
    const n = new Map<string, number>();
    for (const e of this.entries) n.set(e.client, (n.get(e.client) ?? 0) + 1);
    return n;
  }

  /** The most entries one client other than `client` has waiting (0 when none). */
  mostWaitingBesides(client: string): number {
    let most = 0;
    for (const [c, k] of this.counts()) if (c !== client) most = Math.max(most, k);
    return most;
  }

  /**
   * Ends the newest entry of the client with the most waiting (not `client`) as `displaced`, so `client`, below
   * its share of a full queue, gets its place. False when no other client has an entry.
   */
  displaceFor(client: string): boolean {
    let most: string | null = null;
    let mostN = 0;
    for (const [c, k] of this.counts())
      if (c !== client && k > mostN) {
        most = c;
        mostN = k;
      }
    if (most === null) return false;
    for (let i = this.entries.length - 1; i >= 0; i--)
      if (this.entries[i]!.client === most) {
        this.entries[i]!.settle('displaced');
        return true;
      }
    return false;
  }

  /** Gives a turn to the oldest entry of the client at the ring's head; false when none is waiting. */
  wakeNext(): boolean {
    const client = this.ring.shift();
    if (client === undefined) return false;
    const next = this.entries.find((e) => e.client === client);
    if (!next) return this.wakeNext();
    // To the end of the ring if it has more waiting (settling the last one takes it out).
    this.ring.push(client);
    next.settle('turn');
    return true;
  }

  /** Ends every wait with `refused` (the mode no longer admits anything). */
  refuseAll(): number {
    const all = [...this.entries];
    for (const e of all) e.settle('refused');
    return all.length;
  }
}
