import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import { keepAliveAgent, noteKeepAliveHint } from './http-agent.js';
import { http, https } from './node-http.js';

export { keepAliveAgent } from './http-agent.js';

/**
 * One HTTP request over node:http (node:https only for an https URL, loaded then), its whole answer read
 * within a time limit and a byte limit. It stands in for fetch() in the daemon: the first fetch() loads
 * undici and compiles its WebAssembly HTTP parser, 17 MiB of RSS for a process that asks EXO a few small
 * questions a second (measured on Node 26). Every failure is a value.
 */
export type HttpAnswer =
  | { ok: true; status: number; text: string; authenticate?: string }
  | { ok: false; kind: 'timeout' | 'down' | 'too-large'; error: string; status: number | null };

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** The whole exchange, connection to last byte, a second attempt included. */
  timeoutMs: number;
  /** An answer longer than this is dropped as `too-large` (nothing past it is kept in memory). */
  maxBytes: number;
  /** Sockets kept open between GETs to an http: URL (see `keepAliveAgent`); else one shared by all. */
  agent?: Agent;
}

/** The error's code (ECONNREFUSED, ECONNRESET, …), else its message. */
export function socketErrorText(e: unknown): string {
  const err = e as Error & { code?: string };
  return err.code ?? err.message;
}

/** One attempt: its answer, whether it went out on a socket kept from an earlier request, and whether any
 * byte of an answer came back on it. */
interface Attempt {
  answer: HttpAnswer;
  reusedSocket: boolean;
  answerBytes: boolean;
}

let shared: Agent | null = null;

/**
 * A GET or HEAD goes on a kept-alive socket; when that socket turns out closed by the server before a byte of
 * the answer came back (a server that closes after each answer, or closes an idle socket just as it is
 * reused), it is asked once more on a new connection within what is left of the time limit. Any other
 * method goes on a connection of its own and is never sent twice: on a reused socket it could fail after
 * the server acted on it, and a second try would act again.
 */
export async function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpAnswer> {
  // node:http throws for these (a cluster peer may be any URL): an answer like any other failure.
  const target = URL.parse(url);
  if (target?.protocol !== 'http:' && target?.protocol !== 'https:')
    return {
      ok: false,
      kind: 'down',
      error: target ? `${target.protocol} is not http: or https:` : `"${url.slice(0, 200)}" is not a URL`,
      status: null,
    };
  const deadline = performance.now() + options.timeoutMs;
  const method = (options.method ?? 'GET').toUpperCase();
  const safe = method === 'GET' || method === 'HEAD';
  const first = await attempt(target, method, options, safe ? keptAgent(target, options) : false, deadline);
  const again =
    safe &&
    first.reusedSocket &&
    !first.answerBytes &&
    !first.answer.ok &&
    first.answer.kind === 'down' &&
    deadline - performance.now() > 0;
  return again ? (await attempt(target, method, options, false, deadline)).answer : first.answer;
}

/** The agent whose kept sockets a GET may use: the caller's, else one shared (node's for https). */
function keptAgent(target: URL, options: HttpRequestOptions): Agent | undefined {
  if (target.protocol !== 'http:') return undefined;
  if (options.agent) return options.agent;
  shared ??= keepAliveAgent();
  return shared;
}

function attempt(
  target: URL,
  method: string,
  options: HttpRequestOptions,
  agent: Agent | false | undefined,
  deadline: number,
): Promise<Attempt> {
  const lib = target.protocol === 'https:' ? https() : http;
  const requestOptions: RequestOptions = {
    method,
    headers: options.headers ?? {},
    ...(agent === undefined ? {} : { agent }),
  };
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | null = null;
    let socket: Socket | null = null;
    let bytesBefore = 0;
    const finish = (answer: HttpAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const answerBytes = socket !== null && socket.bytesRead > bytesBefore;
      resolve({ answer, reusedSocket: req?.reusedSocket ?? false, answerBytes });
    };
    const limit = Math.max(0, Math.ceil(deadline - performance.now()));
    const timer = setTimeout(() => {
      finish({ ok: false, kind: 'timeout', error: `no answer within ${options.timeoutMs} ms`, status: null });
      req?.destroy();
    }, limit);
    try {
      req = lib.request(target, requestOptions, (res) => readAnswer(res, options.maxBytes, finish));
    } catch (e) {
      // A header value node refuses (a control character in a token): a value, not a throw.
      finish({ ok: false, kind: 'down', error: socketErrorText(e), status: null });
      return;
    }
    req.on('socket', (s: Socket) => {
      socket = s;
      bytesBefore = s.bytesRead;
    });
    req.on('error', (e) => finish({ ok: false, kind: 'down', error: socketErrorText(e), status: null }));
    req.end();
  });
}

/** The answer read whole, up to `maxBytes`; what its headers say about keeping the socket is noted. */
function readAnswer(res: IncomingMessage, maxBytes: number, finish: (a: HttpAnswer) => void): void {
  const status = res.statusCode ?? 0;
  noteKeepAliveHint(res.socket, res.headers);
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (b: Buffer) => {
    size += b.length;
    if (size > maxBytes) {
      finish({ ok: false, kind: 'too-large', error: `answer longer than ${maxBytes} bytes`, status });
      res.destroy();
      return;
    }
    chunks.push(b);
  });
  const authenticate = res.headers['www-authenticate'];
  res.on('end', () =>
    finish({
      ok: true,
      status,
      text: Buffer.concat(chunks).toString('utf8'),
      ...(authenticate === undefined ? {} : { authenticate }),
    }),
  );
  res.on('error', (e) =>
    finish({ ok: false, kind: 'down', error: `connection lost (${socketErrorText(e)})`, status }),
  );
  res.on('close', () => {
    if (!res.complete)
      finish({ ok: false, kind: 'down', error: 'connection lost before the answer ended', status });
  });
}
