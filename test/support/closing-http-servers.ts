import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';

/**
 * Loopback HTTP servers that end connections the ways real servers do (tests and benches only), and a driver
 * that polls one the way the daemon polls EXO: back to back, with short gaps, in concurrent bursts, and as
 * EXO's monitor asks (`/node_id`, then five `/state/*` at once).
 */
export type ClosingVariant =
  /** Answers with `Connection: close` and closes. */
  | 'connection-close'
  /** Answers without a word about closing, then closes at once (hypercorn past `keep_alive_max_requests`). */
  | 'silent-close'
  /** Keeps the socket 1–5 ms after an answer, then closes it: races the next request's reuse. */
  | 'idle-close'
  /** node:http with its defaults (keep-alive, `Keep-Alive: timeout=5`). */
  | 'keep-alive';

export const CLOSING_VARIANTS: ClosingVariant[] = [
  'connection-close',
  'silent-close',
  'idle-close',
  'keep-alive',
];

export interface ClosingServer {
  url: string;
  /** Connections accepted and requests answered so far. */
  connections: () => number;
  requests: () => number;
  close: () => Promise<void>;
}

const BODY = JSON.stringify({ ok: true, pad: 'x'.repeat(200) });

/** A raw server answering each request with BODY; `afterAnswer` decides what happens to the socket. */
function rawServer(afterAnswer: (s: Socket, onNextRequest: (f: () => void) => void) => void): {
  server: Server;
  requests: () => number;
} {
  let requests = 0;
  const server = createNetServer((sock) => {
    sock.on('error', () => undefined);
    let buffered = '';
    let pending: (() => void) | null = null;
    sock.on('data', (d) => {
      pending?.();
      pending = null;
      buffered += d.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        buffered = buffered.slice(end + 4);
        requests++;
        sock.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY}`,
        );
        afterAnswer(sock, (f) => {
          pending = f;
        });
      }
    });
  });
  return { server, requests: () => requests };
}

function variantServer(variant: ClosingVariant): { server: Server; requests: () => number } {
  if (variant === 'silent-close') return rawServer((s) => s.end());
  if (variant === 'idle-close')
    return rawServer((s, onNextRequest) => {
      const t = setTimeout(() => s.end(), 1 + Math.floor(Math.random() * 5));
      onNextRequest(() => clearTimeout(t));
    });
  let requests = 0;
  const server = createHttpServer((_req, res) => {
    requests++;
    if (variant === 'connection-close') res.setHeader('connection', 'close');
    res.setHeader('content-type', 'application/json');
    res.end(BODY);
  });
  return { server, requests: () => requests };
}

export async function closingServer(variant: ClosingVariant): Promise<ClosingServer> {
  const { server, requests } = variantServer(variant);
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface PollTally {
  total: number;
  failed: number;
  /** Failure messages and how often each came. */
  errors: Record<string, number>;
}

type Ask = (path: string) => Promise<{ ok: boolean; error?: string }>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `sequential` polls back to back, `gaps` with 1–12 ms between them (around idle-close's delay), `bursts`
 * six at once, and `monitor` rounds of one then five concurrent (EXO's monitor). Counts every failure.
 */
export async function drivePolls(
  ask: Ask,
  rounds: { sequential: number; gaps: number; bursts: number; monitor: number },
): Promise<PollTally> {
  const tally: PollTally = { total: 0, failed: 0, errors: {} };
  const count = (r: { ok: boolean; error?: string }): void => {
    tally.total++;
    if (r.ok) return;
    tally.failed++;
    const key = r.error ?? 'failed';
    tally.errors[key] = (tally.errors[key] ?? 0) + 1;
  };
  for (let i = 0; i < rounds.sequential; i++) count(await ask('/node_id'));
  const gaps = [1, 2, 3, 4, 5, 6, 8, 12];
  for (let i = 0; i < rounds.gaps; i++) {
    count(await ask('/node_id'));
    await sleep(gaps[i % gaps.length]!);
  }
  for (let i = 0; i < rounds.bursts; i++)
    for (const r of await Promise.all(Array.from({ length: 6 }, () => ask('/state')))) count(r);
  for (let i = 0; i < rounds.monitor; i++) {
    count(await ask('/node_id'));
    for (const r of await Promise.all(Array.from({ length: 5 }, (_, k) => ask(`/state/${k}`)))) count(r);
    await sleep(i % 7);
  }
  return tally;
}
