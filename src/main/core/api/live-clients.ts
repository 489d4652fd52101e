import type { ShedReason } from './shed-tally.js';

/** What a live-event client is to this module: a response being streamed (a ServerResponse). */
export interface LiveStream {
  readonly writableLength: number;
  write(chunk: string): boolean;
  end(): void;
  destroy(): void;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export interface LiveLimits {
  sseMaxClients: number;
  sseMaxBuffered: number;
  sseStallMs: number;
  sseEvictStallMs: number;
}

/**
 * The live-event (SSE) clients and which of them have stopped reading. A client is stalled from the first
 * time bytes are seen queued for it (the kernel's socket buffers are full) until it drains them ('drain',
 * or nothing queued when next looked at). Each frame sent looks at every client first: one with more than
 * `sseMaxBuffered` queued, or stalled `sseStallMs`, is dropped instead of written to. With every slot taken
 * a new client gets the slot of the one stalled longest, if that is over `sseEvictStallMs`.
 */
export class LiveClients {
  /** Each client and since when bytes have been queued for it without a drain (null: none queued). */
  private readonly clients = new Map<LiveStream, { queuedSince: number | null }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limits: LiveLimits,
    private readonly shed: (reason: ShedReason) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  /** Clients, and how many of them have bytes queued (stalled, or about to drain). */
  counts(): { clients: number; queued: number } {
    let queued = 0;
    for (const stream of this.clients.keys()) if (stream.writableLength > 0) queued++;
    return { clients: this.clients.size, queued };
  }

  /** A new stream, already sent its headers and first frame. It leaves the set when it closes. */
  add(stream: LiveStream): void {
    const entry = { queuedSince: null as number | null };
    this.clients.set(stream, entry);
    stream.on('drain', () => {
      entry.queuedSince = null;
    });
    stream.once('close', () => this.clients.delete(stream));
  }

  /**
   * Whether a new client can be taken: there is a free slot, or one was made by dropping the client stalled
   * longest (if over `sseEvictStallMs`). False: answer 503.
   */
  makeRoom(): boolean {
    if (this.clients.size < this.limits.sseMaxClients) return true;
    const t = this.now();
    let worst: LiveStream | null = null;
    let worstSince = Number.POSITIVE_INFINITY;
    for (const [stream, entry] of this.clients) {
      this.look(stream, entry, t);
      if (entry.queuedSince !== null && entry.queuedSince < worstSince) {
        worst = stream;
        worstSince = entry.queuedSince;
      }
    }
    if (worst && t - worstSince >= this.limits.sseEvictStallMs) {
      this.drop(worst, 'liveClientEvicted');
      return true;
    }
    this.shed('liveClientRefused');
    return false;
  }

  /** Writes a frame to every client; one over the buffer or stall limit is dropped instead. */
  send(frame: string): void {
    const t = this.now();
    for (const [stream, entry] of this.clients) {
      this.look(stream, entry, t);
      if (stream.writableLength > this.limits.sseMaxBuffered) this.drop(stream, 'liveClientOverBuffer');
      else if (entry.queuedSince !== null && t - entry.queuedSince >= this.limits.sseStallMs)
        this.drop(stream, 'liveClientStalled');
      else stream.write(frame);
    }
  }

  /** A comment to every client every `ms` (proxies keep the stream; a stall is seen without events). */
  keepAlive(ms: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.send(': keep-alive\n\n'), ms);
    this.timer.unref();
  }

  /** Ends every stream and the keep-alive (the server is stopping). */
  endAll(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const stream of this.clients.keys()) stream.end();
    this.clients.clear();
  }

  /** Bytes still queued start (or continue) a stall; none queued ends it. */
  private look(stream: LiveStream, entry: { queuedSince: number | null }, t: number): void {
    if (stream.writableLength === 0) entry.queuedSince = null;
    else entry.queuedSince ??= t;
  }

  private drop(stream: LiveStream, why: ShedReason): void {
    this.clients.delete(stream);
    this.shed(why);
    stream.destroy();
  }
}
