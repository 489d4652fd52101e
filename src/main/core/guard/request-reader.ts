import type { IncomingMessage } from 'node:http';

/** Methods whose requests EXO never reads a body from: a body there could be read upstream as another request. */
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

export const isBodyless = (method: string): boolean => BODYLESS.has(method);

/** Whether the request announces a body (Node's parser has already checked that its framing is well-formed). */
export const announcesBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** A body on a method that takes none is refused (request smuggling through the next hop). */
export function bodyNotAllowed(req: IncomingMessage): string | null {
  const method = req.method ?? 'GET';
  return BODYLESS.has(method) && announcesBody(req)
    ? `a ${method} request must not carry a body (it was framed with ${req.headers['transfer-encoding'] !== undefined ? 'Transfer-Encoding' : 'Content-Length'})`
    : null;
}

/**
 * Bounds a body the guard pipes through without reading it (ungated POST/PUT/PATCH): a client that stalls
 * `idleMs` between chunks or takes longer than `totalMs` in all is dropped, so it cannot hold an upstream
 * connection open for ever.
 */
export function boundStreamedBody(req: IncomingMessage, idleMs: number, totalMs: number): void {
  if (req.complete) return;
  let idle = setTimeout(() => req.destroy(), idleMs);
  const total = setTimeout(() => req.destroy(), totalMs);
  const done = (): void => {
    clearTimeout(idle);
    clearTimeout(total);
  };
  req.on('data', () => {
    clearTimeout(idle);
    idle = setTimeout(() => req.destroy(), idleMs);
  });
  req.once('end', done);
  req.once('close', done);
}

/** The bytes all bodies being read or queued may hold at once (a shared budget: each body reserves as it grows). */
export class BodyBudget {
  private used = 0;
  constructor(private readonly max: number) {}
  take(n: number): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
  get inUse(): number {
    return this.used;
  }
}

export type BodyRead =
  | { ok: true; body: Buffer }
  | { ok: false; status: 413 | 503; message: string }
  | { ok: false; status: 400 | 408; message: string; aborted: boolean };

/**
 * Reads a whole request body up to `limit` bytes. A declared length over the limit is refused before a byte
 * is read; a chunked body is refused the moment it passes the limit. A client that stalls longer than
 * `idleMs` between chunks, or takes longer than `totalMs` in all (a trickle that holds a connection), is
 * dropped. Never rejects.
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  idleMs: number,
  totalMs = 120_000,
  budget: BodyBudget | null = null,
): Promise<BodyRead> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.resolve({
      ok: false,
      status: 413,
      message: `the request body of ${declared} bytes is over the ${limit}-byte limit`,
    });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let reserved = 0;
    let settled = false;
    const settle = (r: BodyRead): void => {
      if (settled) return;
      settled = true;
      // A refused body gives its bytes back now; an accepted one keeps them until the caller gives them back.
      if (!r.ok && budget) budget.give(reserved);
      clearTimeout(timer);
      clearTimeout(deadline);
      req.off('data', onData);
      chunks.length = 0;
      resolve(r);
    };
    let timer = setTimeout(onIdle, idleMs);
    const deadline = setTimeout(
      () =>
        settle({
          ok: false,
          status: 408,
          message: `the request body took longer than ${Math.round(totalMs / 1000)} s`,
          aborted: false,
        }),
      totalMs,
    );
    function onIdle(): void {
      settle({
        ok: false,
        status: 408,
        message: `no request body bytes for ${Math.round(idleMs / 1000)} s`,
        aborted: false,
      });
    }
    function onData(c: Buffer): void {
      size += c.length;
      if (size > limit) {
        settle({ ok: false, status: 413, message: `the request body is over the ${limit}-byte limit` });
        return;
      }
      if (budget && !budget.take(c.length)) {
        settle({
          ok: false,
          status: 503,
          message: 'the guard is holding too many request bodies at once; retry shortly',
        });
        return;
      }
      reserved += c.length;
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(onIdle, idleMs);
    }
    req.on('data', onData);
    req.once('end', () => {
      const body = Buffer.concat(chunks, size);
      // The listeners left on the request (close, error) keep this scope, and with it `chunks`, alive as long
      // as the request is (a streamed answer: minutes): without this the body would be held twice all along.
      chunks.length = 0;
      settle({ ok: true, body });
    });
    req.once('error', () =>
      settle({ ok: false, status: 400, message: 'the request body was cut short', aborted: true }),
    );
    req.once('close', () => {
      if (!req.complete)
        settle({ ok: false, status: 400, message: 'the client went away mid-body', aborted: true });
    });
  });
}
