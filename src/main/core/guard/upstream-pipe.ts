import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { FrameAligner, type Framing } from './frame-aligner.js';
import { endToEndHeaders } from './hop-by-hop.js';
import { StreamObserver } from './stream-observer.js';
import { type Upstream, upstreamOptions, upstreamRequest } from './upstream.js';

export type PipeOutcome = 'completed' | 'client-left' | 'client-stalled' | 'cancelled' | 'upstream-error';

export interface PipeRequest {
  upstream: Upstream;
  method: string;
  /** The canonical target (what the guard judged), never the client's spelling. */
  target: string;
  /** End-to-end request headers (hop-by-hop and the guard's own token already removed). */
  headers: string[];
  /** The client's request (its socket tells when a pipelined client has gone). */
  req: IncomingMessage;
  /**
   * How long EXO may stay silent: before its answer starts, and between the chunks of a gated answer; `idleMs`
   * is also how long the client may take nothing of an answer that waits for it. `silentMs`, when given,
   * replaces `idleMs` for EXO's silence mid-answer (a stream EXO sends no keep-alive on).
   */
  timeouts: { headersMs: number; idleMs: number; silentMs?: number };
  /** A body read whole (re-framed with its own Content-Length), or the client's stream to pipe through. */
  body: Buffer | IncomingMessage | null;
  res: ServerResponse;
  /** For gated requests: how to read the answer, and how to end it with an error in the client's protocol. */
  gated?: {
    framing: Framing;
    onPrefill: (total: number, processed: number) => void;
    errorFrame: (status: number, message: string) => string;
  };
  /** An error before any answer byte went out (EXO unreachable, or cancelled before headers). */
  sendError: (status: number, message: string) => void;
  onDone: (status: number, outcome: PipeOutcome, observer: StreamObserver | null) => void;
}

export interface PipeHandle {
  /** Ends the request now: upstream closed (and cancelled in EXO), the client told why in its own framing. */
  cancel(status: number, message: string): void;
  observer: StreamObserver | null;
}

const STREAM_TYPES = /^(text\/event-stream|application\/x-ndjson|application\/jsonl?)\b/i;

/**
 * Forwards one request and streams the answer back as it arrives, with backpressure end to end: a client that
 * stops reading pauses the upstream socket (so EXO's send blocks) instead of the guard buffering the stream.
 * A client that goes away takes the upstream request with it, and EXO is told through its cancel endpoint.
 */
export function pipeUpstream(p: PipeRequest, cancelUpstream: (commandId: string) => void): PipeHandle {
  const headers = [...p.headers];
  if (Buffer.isBuffer(p.body)) headers.push('content-length', String(p.body.length));
  const up: ClientRequest = upstreamRequest(
    p.upstream,
    upstreamOptions(p.upstream, p.method, p.target, headers),
  );
  const url = p.upstream.url;
  const res = p.res;
  // A pipelined request whose client left has a response that is never attached to the socket and never
  // emits 'close': the socket's own close is what says the client is gone.
  const socket = p.req.socket;
  let status = 502;
  let finished = false;
  let aligner: FrameAligner | null = null;
  let upRes: IncomingMessage | null = null;
  let timer: NodeJS.Timeout | null = null;
  /** How long the client has kept the answer paused, in all, and since when it is paused now. */
  let pausedMs = 0;
  let pausedSince: number | null = null;
  const handle: PipeHandle = {
    observer: null,
    cancel: (cancelStatus, message) => {
      if (finished) return;
      const id = handle.observer?.facts.commandId;
      if (id) cancelUpstream(id);
      upRes?.removeAllListeners('data');
      up.destroy();
      if (!res.headersSent) {
        status = cancelStatus;
        p.sendError(cancelStatus, message);
      } else if (p.gated && aligner) {
        res.write(aligner.discard() + p.gated.errorFrame(cancelStatus, message));
        res.end();
        // A client that reads nothing will never take the frame: do not hold its socket for ever.
        setTimeout(() => res.destroy(), 10_000).unref();
      } else res.destroy();
      finish('cancelled');
    },
  };
  const finish = (outcome: PipeOutcome): void => {
    if (finished) return;
    finished = true;
    if (timer) clearTimeout(timer);
    socket?.off('close', onClientGone);
    handle.observer?.end();
    p.onDone(status, outcome, handle.observer);
  };
  /** EXO silent past its limit: before the answer starts (a hung node), or mid-stream (no keep-alive). */
  const watch = (ms: number, what: string): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      if (finished) return;
      up.destroy();
      if (!res.headersSent) {
        status = 504;
        p.sendError(504, `EXO at ${url.origin} sent nothing for ${Math.round(ms / 1000)} s ${what}`);
      } else res.destroy();
      finish('upstream-error');
    }, ms);
    timer.unref();
  };
  const upstreamFailed = (message: string): void => {
    if (finished) return;
    up.destroy();
    if (!res.headersSent) {
      status = 502;
      p.sendError(502, message);
    } else res.destroy();
    finish('upstream-error');
  };
  /**
   * The client stopped taking the answer: the upstream is paused (EXO's send blocks, its KV stays allocated)
   * and the request would hold its slot for as long as the socket stays open. Past `idleMs` of such pauses in
   * all it ends as if the client had left, cancelled in EXO: counted in all, not per pause, or a reader that
   * takes a little now and then would hold its slot for as long as it liked, one drain at a time.
   */
  const watchClient = (): void => {
    if (timer) clearTimeout(timer);
    // A pipelined answer waits for those before it on the connection: it is watched once it has the socket.
    if (!res.socket) {
      res.once('socket', () => {
        if (!finished && upRes?.isPaused()) watchClient();
      });
      return;
    }
    pausedSince = performance.now();
    timer = setTimeout(
      () => {
        if (finished) return;
        const id = handle.observer?.facts.commandId;
        if (p.gated && id) cancelUpstream(id);
        up.destroy();
        res.destroy();
        finish('client-stalled');
      },
      Math.max(0, p.timeouts.idleMs - pausedMs),
    );
    timer.unref();
  };
  function onClientGone(): void {
    if (finished || res.writableFinished) return;
    const id = handle.observer?.facts.commandId;
    if (p.gated && id) cancelUpstream(id);
    up.destroy();
    finish('client-left');
  }
  watch(p.timeouts.headersMs, 'before answering');

  up.on('response', (r) => {
    upRes = r;
    const code = r.statusCode ?? 0;
    if (code < 200 || code > 999) return upstreamFailed(`EXO at ${url.origin} answered with status ${code}`);
    status = code;
    const type = String(r.headers['content-type'] ?? '');
    if (p.gated && STREAM_TYPES.test(type)) {
      const framing: Framing = /event-stream/i.test(type) ? 'sse' : 'ndjson';
      aligner = new FrameAligner(framing);
      handle.observer = new StreamObserver(framing, p.gated.onPrefill);
    }
    try {
      // A reason phrase with bytes Node will not send is dropped (Node then sends the standard one).
      const reason = /^[\t\x20-\x7e]*$/.test(r.statusMessage ?? '') ? (r.statusMessage ?? '') : '';
      res.writeHead(status, reason, endToEndHeaders(r.rawHeaders));
      res.flushHeaders();
    } catch (e) {
      // Headers Node refuses to send (invalid characters): the answer cannot be relayed as it is.
      return upstreamFailed(
        `EXO at ${url.origin} sent an answer that cannot be relayed: ${(e as Error).message}`,
      );
    }
    // A gated answer holds a slot: EXO may not stand still in it, streamed or not, whatever its type.
    const midAnswer = aligner ? 'mid-stream' : 'mid-answer';
    const silentMs = p.timeouts.silentMs ?? p.timeouts.idleMs;
    if (p.gated) watch(silentMs, midAnswer);
    else if (timer) clearTimeout(timer);
    r.on('data', (chunk: Buffer) => {
      if (res.writableEnded || res.destroyed) return;
      if (p.gated) watch(silentMs, midAnswer);
      const out = aligner ? aligner.push(chunk) : chunk;
      const ok = out.length ? res.write(out) : true;
      handle.observer?.push(chunk);
      if (!ok && !finished) {
        r.pause();
        // A paused stream is the client's doing, not EXO's silence.
        watchClient();
        res.once('drain', () => {
          if (timer) clearTimeout(timer);
          if (pausedSince !== null) pausedMs += performance.now() - pausedSince;
          pausedSince = null;
          if (p.gated && !finished) watch(silentMs, midAnswer);
          r.resume();
        });
      }
    });
    r.on('end', () => {
      if (finished) return;
      if (!res.writableEnded) res.end(aligner ? aligner.flush() : undefined);
      finish('completed');
    });
    r.on('error', () => {
      // After a cancel the upstream is destroyed on purpose: the client's answer (its error frame) stands.
      if (finished) return;
      res.destroy();
      finish('upstream-error');
    });
  });
  // EXO speaks no protocol upgrades: a 101 would leave the request hanging.
  up.on('upgrade', (_r, s) => {
    s.destroy();
    upstreamFailed(`EXO at ${url.origin} answered 101 Switching Protocols`);
  });
  up.on('error', (e: NodeJS.ErrnoException) =>
    upstreamFailed(`EXO at ${url.origin} did not answer: ${e.code ?? e.message}`),
  );
  res.on('close', onClientGone);
  socket?.on('close', onClientGone);
  if (p.body === null) up.end();
  else if (Buffer.isBuffer(p.body)) up.end(p.body);
  else p.body.pipe(up);
  return handle;
}
