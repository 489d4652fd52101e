import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { FrameAligner, type Framing } from './frame-aligner.js';
import { endToEndHeaders } from './hop-by-hop.js';
import { StreamObserver } from './stream-observer.js';
import { type Upstream, upstreamOptions, upstreamRequest } from './upstream.js';

export type PipeOutcome = 'completed' | 'client-left' | 'cancelled' | 'upstream-error';

export interface PipeRequest {
  upstream: Upstream;
  method: string;
  /** The canonical target (what the guard judged), never the client's spelling. */
  target: string;
  /** End-to-end request headers (hop-by-hop and the guard's own token already removed). */
  headers: string[];
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
  let status = 502;
  let finished = false;
  let aligner: FrameAligner | null = null;
  let upRes: IncomingMessage | null = null;
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
    handle.observer?.end();
    p.onDone(status, outcome, handle.observer);
  };

  up.on('response', (r) => {
    upRes = r;
    status = r.statusCode ?? 502;
    const type = String(r.headers['content-type'] ?? '');
    if (p.gated && STREAM_TYPES.test(type)) {
      const framing: Framing = /event-stream/i.test(type) ? 'sse' : 'ndjson';
      aligner = new FrameAligner(framing);
      handle.observer = new StreamObserver(framing, p.gated.onPrefill);
    }
    res.writeHead(status, r.statusMessage ?? '', endToEndHeaders(r.rawHeaders));
    res.flushHeaders();
    r.on('data', (chunk: Buffer) => {
      if (res.writableEnded || res.destroyed) return;
      const out = aligner ? aligner.push(chunk) : chunk;
      const ok = out.length ? res.write(out) : true;
      handle.observer?.push(chunk);
      if (!ok && !finished) {
        r.pause();
        res.once('drain', () => r.resume());
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
  up.on('error', (e: NodeJS.ErrnoException) => {
    if (finished) return;
    if (!res.headersSent) {
      status = 502;
      p.sendError(502, `EXO at ${url.origin} did not answer: ${e.code ?? e.message}`);
    } else res.destroy();
    finish('upstream-error');
  });
  res.on('close', () => {
    if (finished || res.writableFinished) return;
    const id = handle.observer?.facts.commandId;
    if (p.gated && id) cancelUpstream(id);
    up.destroy();
    finish('client-left');
  });
  if (p.body === null) up.end();
  else if (Buffer.isBuffer(p.body)) up.end(p.body);
  else p.body.pipe(up);
  return handle;
}
