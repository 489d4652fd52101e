/**
 * Which connections hold the API's slots, and which one gives its slot up when a new one comes at the cap.
 * Pure bookkeeping over any key (the server uses its sockets): no timers, no I/O, the time is passed in.
 *
 * A connection is busy from a request's headers until its response is done (a live-event stream stays
 * busy: it has its own cap), idle otherwise: before its first request's headers are complete, and between
 * requests on a kept-alive connection. At the cap a newcomer takes the slot of the connection idle longest;
 * with none idle, that of the first busy one still sending its request's body (the caller says which are);
 * only when every slot is serving a whole request is the newcomer refused. So connections that send
 * nothing, a header a byte at a time, or headers announcing a body that never comes, cannot keep others
 * out, and the number held never passes the cap.
 */
export type Arrival<K> =
  /** There was a free slot. */
  | { kind: 'admitted' }
  /** The slots were full: `evicted` (idle `idleMs`) was taken out of them; the caller closes it. */
  | { kind: 'evicted'; evicted: K; idleMs: number }
  /** None idle: `evicted` was busy but still sending its request's body; the caller closes it. */
  | { kind: 'sending'; evicted: K }
  /** Every slot is serving a request: the newcomer was not taken; the caller closes it. */
  | { kind: 'refused' };

export class ConnectionSlots<K> {
  /** Idle connections and since when; a Map keeps insertion order, so the first is the one idle longest. */
  private readonly idle = new Map<K, number>();
  /** Busy connections and how many of their requests are in flight (pipelined requests queue on one). */
  private readonly busy = new Map<K, number>();
  readonly cap: number;

  constructor(cap: number) {
    this.cap = Number.isFinite(cap) && cap >= 1 ? Math.floor(cap) : 1;
  }

  get size(): number {
    return this.idle.size + this.busy.size;
  }

  counts(): { idle: number; busy: number } {
    return { idle: this.idle.size, busy: this.busy.size };
  }

  /**
   * A new connection at `now`: it holds a slot (idle) unless refused. A key already held is left as it is.
   * `sending` tells the busy connections whose request's body has not all arrived.
   */
  arrive(key: K, now: number, sending: (busy: K) => boolean = () => false): Arrival<K> {
    if (this.idle.has(key) || this.busy.has(key)) return { kind: 'admitted' };
    if (this.size < this.cap) {
      this.idle.set(key, now);
      return { kind: 'admitted' };
    }
    const oldest = this.idle.entries().next();
    if (oldest.done) {
      for (const busy of this.busy.keys())
        if (sending(busy)) {
          this.busy.delete(busy);
          this.idle.set(key, now);
          return { kind: 'sending', evicted: busy };
        }
      return { kind: 'refused' };
    }
    const [evicted, since] = oldest.value;
    this.idle.delete(evicted);
    this.idle.set(key, now);
    return { kind: 'evicted', evicted, idleMs: Math.max(0, now - since) };
  }

  /** A request's headers arrived on `key`: busy until as many requests have ended. */
  requestStarted(key: K): void {
    const inFlight = this.busy.get(key);
    if (inFlight !== undefined) {
      this.busy.set(key, inFlight + 1);
      return;
    }
    if (!this.idle.delete(key)) return; // not held (already closed or taken out)
    this.busy.set(key, 1);
  }

  /** A response on `key` is done (or abandoned) at `now`; with none left in flight it is idle from `now`. */
  requestEnded(key: K, now: number): void {
    const inFlight = this.busy.get(key);
    if (inFlight === undefined) return;
    if (inFlight > 1) {
      this.busy.set(key, inFlight - 1);
      return;
    }
    this.busy.delete(key);
    this.idle.set(key, now);
  }

  /** The connection closed: its slot is free. */
  leave(key: K): void {
    this.idle.delete(key);
    this.busy.delete(key);
  }
}
