import type { IncomingMessage } from 'node:http';

/** Methods whose requests EXO never reads a body from: a body there could be read upstream as another request. */
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

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

export type BodyRead =
  | { ok: true; body: Buffer }
  | { ok: false; status: 413; message: string }
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
    let settled = false;
    const settle = (r: BodyRead): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      req.off('data', onData);
      if (!r.ok) chunks.length = 0;
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
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(onIdle, idleMs);
    }
    req.on('data', onData);
    req.once('end', () => settle({ ok: true, body: Buffer.concat(chunks, size) }));
    req.once('error', () =>
      settle({ ok: false, status: 400, message: 'the request body was cut short', aborted: true }),
    );
    req.once('close', () => {
      if (!req.complete)
        settle({ ok: false, status: 400, message: 'the client went away mid-body', aborted: true });
    });
  });
}
