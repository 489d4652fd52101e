import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { http, https } from './node-http.js';

/**
 * One HTTP request over node:http (node:https only for an https URL, loaded then), its whole answer read
 * within a time limit and a byte limit. It stands in for fetch() in the daemon: the first fetch() loads
 * undici and compiles its WebAssembly HTTP parser, 17 MiB of RSS for a process that asks EXO a few small
 * questions a second (measured on Node 26). Every failure is a value.
 */
export type HttpAnswer =
  | { ok: true; status: number; text: string }
  | { ok: false; kind: 'timeout' | 'down' | 'too-large'; error: string; status: number | null };

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** The whole exchange, connection to last byte. */
  timeoutMs: number;
  /** An answer longer than this is dropped as `too-large` (nothing past it is kept in memory). */
  maxBytes: number;
  /** Sockets kept open between requests (see `keepAliveAgent`). */
  agent?: Agent;
}

/** A keep-alive agent for one server asked every second: idle sockets are dropped after `idleMs`. */
export function keepAliveAgent(idleMs = 4000): Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 8, maxFreeSockets: 4, timeout: idleMs });
}

/** The error's code (ECONNREFUSED, ECONNRESET, …), else its message. */
export function socketErrorText(e: unknown): string {
  const err = e as Error & { code?: string };
  return err.code ?? err.message;
}

export async function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpAnswer> {
  // node:http throws for these (a cluster peer may be any URL): an answer like any other failure.
  const protocol = URL.parse(url)?.protocol;
  if (protocol !== 'http:' && protocol !== 'https:')
    return {
      ok: false,
      kind: 'down',
      error: protocol ? `${protocol} is not http: or https:` : `"${url.slice(0, 200)}" is not a URL`,
      status: null,
    };
  const first = await once(url, options);
  // A kept-alive socket the server closed while idle fails at once: asked again on a new one (EXO's GETs,
  // DELETE and cancel are idempotent), as node's documentation advises for reused sockets.
  if (!first.answer.ok && first.reusedSocket && first.answer.kind === 'down' && first.answer.status === null)
    return (await once(url, options)).answer;
  return first.answer;
}

async function once(
  url: string,
  options: HttpRequestOptions,
): Promise<{ answer: HttpAnswer; reusedSocket: boolean }> {
  const target = new URL(url);
  const method = options.method ?? 'GET';
  const lib = target.protocol === 'https:' ? https() : http;
  const requestOptions: RequestOptions = {
    method,
    headers: options.headers ?? {},
    ...(options.agent && target.protocol === 'http:' ? { agent: options.agent } : {}),
  };
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | null = null;
    const finish = (answer: HttpAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ answer, reusedSocket: req?.reusedSocket ?? false });
    };
    const timer = setTimeout(() => {
      finish({
        ok: false,
        kind: 'timeout',
        error: `no answer within ${options.timeoutMs} ms`,
        status: null,
      });
      req?.destroy();
    }, options.timeoutMs);
    const answered = (res: IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size > options.maxBytes) {
          finish({
            ok: false,
            kind: 'too-large',
            error: `answer longer than ${options.maxBytes} bytes`,
            status,
          });
          res.destroy();
          return;
        }
        chunks.push(b);
      });
      res.on('end', () => finish({ ok: true, status, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) =>
        finish({ ok: false, kind: 'down', error: `connection lost (${socketErrorText(e)})`, status }),
      );
      res.on('close', () => {
        if (!res.complete)
          finish({ ok: false, kind: 'down', error: 'connection lost before the answer ended', status });
      });
    };
    try {
      req = lib.request(target, requestOptions, answered);
    } catch (e) {
      // A header value node refuses (a control character in a token): a value, not a throw.
      finish({ ok: false, kind: 'down', error: socketErrorText(e), status: null });
      return;
    }
    req.on('error', (e) => finish({ ok: false, kind: 'down', error: socketErrorText(e), status: null }));
    req.end();
  });
}
