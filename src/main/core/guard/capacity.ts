import type { GuardMode } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import { jitteredRetryAfter, type RefusalKind } from './admission.js';
import { AdmissionQueue, type QueueOutcome } from './admission-queue.js';
import { HoldTimeEstimator } from './hold-time-estimator.js';

/** One admitted generation request, until its answer ends. */
export interface InFlight {
  id: number;
  startedAt: number;
  kvBytes: number | null;
  cancel: (status: number, reason: string) => void;
}

/**
 * What the guard has let through and who waits: the requests in flight (with the KV each may still add), the
 * serialise queue, and how long admitted requests hold capacity. A request given its turn out of the queue
 * holds its slot until it starts, so nobody slips in between.
 */
/** How long a client counts as using the guard after its last request. */
const CLIENT_WINDOW_MS = 10 * 60_000;
/** Clients remembered at once: enough to tell one from several, bounded whoever sends. */
const CLIENTS_KEPT = 64;

export class Capacity {
  readonly inFlight: InFlight[] = [];
  private woken = 0;
  private nextId = 1;
  private readonly queue: AdmissionQueue;
  private readonly holds = new HoldTimeEstimator();
  /** Each client's last generation request, oldest first. */
  private readonly lastSeen = new Map<string, number>();

  constructor(
    queueTimeoutMs: () => number,
    private readonly now: () => number,
  ) {
    this.queue = new AdmissionQueue(queueTimeoutMs, now);
  }

  /** Requests running or given a turn. */
  get busy(): number {
    return this.inFlight.length + this.woken;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Notes a generation request from `client` and says how many clients sent one in the last 10 minutes
   * (at most CLIENTS_KEPT are remembered: past that the count is that many).
   */
  seen(client: string): number {
    const now = this.now();
    this.lastSeen.delete(client);
    this.lastSeen.set(client, now);
    // Oldest first (re-inserted on each request): drop those past the window, and past the bound.
    for (const [c, at] of this.lastSeen) {
      if (now - at <= CLIENT_WINDOW_MS && this.lastSeen.size <= CLIENTS_KEPT) break;
      this.lastSeen.delete(c);
    }
    return this.lastSeen.size;
  }

  /** The most requests one client other than `client` has waiting. */
  mostQueuedBesides(client: string): number {
    return this.queue.mostWaitingBesides(client);
  }

  /** Gives `client` the place of the newest request of the client with the most waiting (it gets a 503). */
  displaceFor(client: string): boolean {
    return this.queue.displaceFor(client);
  }

  /** Requests from one client (its address) waiting in the queue. */
  queuedBy(client: string): number {
    return this.queue.waitingFor(client);
  }

  /** Waits for a turn, as `client`; on `turn` the caller must `start()` or `pass()`. */
  wait(signal: AbortSignal, client: string): Promise<QueueOutcome> {
    return this.queue.wait(signal, client);
  }

  /** The request given a turn starts: its slot becomes an in-flight entry. */
  start(kvBytes: number | null, fromQueue: boolean): InFlight {
    if (fromQueue) this.woken--;
    const entry: InFlight = { id: this.nextId++, startedAt: this.now(), kvBytes, cancel: () => {} };
    this.inFlight.push(entry);
    return entry;
  }

  /** A request given a turn will not start (its client left, or it was refused after all): the slot moves on. */
  pass(mode: GuardMode): void {
    this.woken--;
    this.drain(mode);
  }

  /** An admitted request ended; a completed one teaches how long requests hold capacity. */
  finish(entry: InFlight, completed: boolean, mode: GuardMode): void {
    const i = this.inFlight.indexOf(entry);
    if (i >= 0) this.inFlight.splice(i, 1);
    if (completed) this.holds.observe(this.now() - entry.startedAt);
    this.drain(mode);
  }

  /** Wakes queued requests while the mode lets them run; refuses them all when it refuses. */
  drain(mode: GuardMode): void {
    if (mode === 'refuse-new' || mode === 'cancel-newest') {
      this.queue.refuseAll();
      return;
    }
    while (this.queue.length > 0 && (mode === 'open' || this.busy === 0)) {
      this.woken++;
      if (!this.queue.wakeNext()) {
        this.woken--;
        break;
      }
    }
  }

  /** Room left under the Metal ceiling after what admitted requests may still add; null when unknown. */
  headroom(sample: Sample | null): number | null {
    const g = sample?.gpu;
    if (!g || g.ceilingBytes === null || g.inUseBytes === null) return null;
    const reserved = this.inFlight.reduce((n, f) => n + (f.kvBytes ?? 0), 0);
    return Math.max(0, g.ceilingBytes - g.inUseBytes - reserved);
  }

  /** Cancels the newest request in flight (cancel-newest acts one per second). */
  cancelNewest(reason: string): void {
    this.inFlight[this.inFlight.length - 1]?.cancel(503, reason);
  }

  /** Ends everything: the queue refused, every request in flight cancelled. */
  closeAll(reason: string): void {
    this.queue.refuseAll();
    for (const f of [...this.inFlight]) f.cancel(503, reason);
  }

  /**
   * Retry-After for a capacity refusal, jittered: from how long admitted requests actually hold capacity
   * (times the requests ahead for queue refusals); `base` for a refusing mode, which ends on memory's clock.
   */
  retryAfter(kind: RefusalKind, base: number): number {
    const ahead = kind === 'queue-full' || kind === 'queue-timeout' ? this.queue.length : 0;
    // A request running longer than the recent ones finished in says they were short: a queue of 16 behind
    // a 10 s stream is not free in 3 s because the last requests took 150 ms.
    const now = this.now();
    const running = this.inFlight.reduce((m, f) => Math.max(m, (now - f.startedAt) / 1000), 0);
    const s = kind === 'mode' ? base : this.holds.retryAfter(ahead, base, base * 4, running);
    return jitteredRetryAfter(s);
  }
}
