import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { z } from 'zod/v3';
import type { TimelineEvent } from '../../../shared/events.js';
import type { LiveEventMap, LiveEventName } from '../../../shared/live-events.js';
import { formatIssues } from '../config/config-loader.js';
import { isLoopback, parseListen } from '../guard/guard-config.js';
import type { SentinelService } from '../service/sentinel-service.js';
import { jsonErrorText } from '../util/json-error.js';
import { http } from '../util/node-http.js';
import { MAX_PIPELINED, PipelinedRequests } from '../util/pipelined-requests.js';
import { ApiAuth } from './api-auth.js';
import type { ApiConfig } from './api-config.js';
import { type ApiLimits, type ApiLoad, apiLimits } from './api-limits.js';
import { findRoute, ROUTES, type RouteContext } from './api-routes.js';
import { gateConnections } from './connection-gate.js';
import type { ConnectionSlots } from './connection-slots.js';
import { LiveClients } from './live-clients.js';
import type { Metrics } from './metrics.js';
import {
  buildOriginPolicy,
  CORS_HEADERS,
  CORS_METHODS,
  checkHost,
  checkOrigin,
  type OriginPolicy,
} from './request-origin.js';
import { type ShedCounts, ShedTally } from './shed-tally.js';
import { AUTH_CHALLENGE } from './signed-request.js';

/** What `/api/v1/status` returns: the daemon's live view. */
export type StatusView = import('../../../shared/status-view.js').StatusView;

export interface ApiDeps {
  config: ApiConfig;
  token: string;
  /** Looks at the token file while the API runs (api-token-watch.ts); started and stopped with it. */
  tokenWatch?: { start(): void; stop(): void };
  metrics: Metrics;
  /** Every answer comes from the service: the API is one of its shells. */
  service: SentinelService;
  /** The built dashboard (dist/renderer); null to serve no page. */
  dashboardDir: string | null;
  now?: () => number;
  /** Connection and live-event limits over the defaults (api-limits.ts); tests make them small. */
  limits?: Partial<ApiLimits>;
  /** What was shed to keep the API reachable, at most once per `shedReportMs` (for the log). */
  onShed?: (counts: ShedCounts, windowMs: number) => void;
}

const MAX_BODY = 64 * 1024;
/**
 * A request's headers, and the whole request, must arrive within these (checked every 2 s): a connection
 * that sends nothing, or a body a byte at a time, frees its slot.
 */
const HTTP_TIMEOUTS = { headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 2_000 };

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The dashboard's Content-Security-Policy: everything from this origin, nothing inline, nothing remote. */
export const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/**
 * A browser's request for the API made by another site (Fetch Metadata: `Sec-Fetch-Site` cross-site or
 * same-site), when its origin is not listed in `api.corsOrigins`: refused. Such a request carries no Origin
 * when it is a navigation (an iframe, a link): 50 iframes of `sN.localhost` (each name its own connection
 * pool) held every live-event slot and froze the dashboard. The dashboard itself (same-origin), an address
 * typed in (`none`) and clients that are not browsers (no such header) are not affected, nor is a link to the
 * dashboard's page (`/`).
 */
function crossSiteRead(req: IncomingMessage, listed: boolean): { status: 403; message: string } | null {
  const site = req.headers['sec-fetch-site'];
  if (listed || (site !== 'cross-site' && site !== 'same-site')) return null;
  // The path as the router reads it (an absolute-form target included).
  let path: string;
  try {
    path = new URL(req.url ?? '/', 'http://local').pathname;
  } catch {
    return null;
  }
  if (!path.startsWith('/api/') && path !== '/metrics') return null;
  return {
    status: 403,
    message: `a request from another site (Sec-Fetch-Site: ${site}) to ${path.slice(0, 100)}: open the dashboard at this address instead, or list the site in api.corsOrigins`,
  };
}

/**
 * The local HTTP API: JSON under /api/v1, a Server-Sent Events stream, Prometheus metrics and the web
 * dashboard. Loopback by default; any other address needs the bearer token. Only allowed `Host` names are
 * answered (no DNS rebinding); browsers may write from the API's own origin, other origins only when listed
 * in `corsOrigins` (real CORS, preflight included). Bodies are capped, every read is a bounded page, every
 * input is validated and a bad one gets 400 naming it. Tokens are never served.
 */
export class ApiServer {
  private server: Server | null = null;
  private readonly limits: ApiLimits;
  private readonly shed: ShedTally;
  private readonly pipelined = new PipelinedRequests(MAX_PIPELINED, () =>
    this.shed.count('pipelineOverflow'),
  );
  private readonly clients: LiveClients;
  private slots: ConnectionSlots<Socket> | null = null;
  private requireToken = false;
  private policy: OriginPolicy | null = null;
  private readonly auth: ApiAuth;
  address: { host: string; port: number } | null = null;

  constructor(private readonly deps: ApiDeps) {
    this.auth = new ApiAuth(deps.token, deps.now, () => this.address?.port ?? null);
    this.limits = apiLimits(deps.limits);
    this.shed = new ShedTally(deps.onShed, this.limits.shedReportMs);
    this.clients = new LiveClients(this.limits, (why) => this.shed.count(why));
  }

  /** Connections held (idle, busy: a live-event stream is busy), Node's count of open sockets, live clients. */
  async load(): Promise<ApiLoad> {
    const server = this.server;
    const open = await new Promise<number>((r) =>
      server ? server.getConnections((e, n) => r(e ? -1 : n)) : r(0),
    );
    return { ...(this.slots?.counts() ?? { idle: 0, busy: 0 }), open, live: this.clients.counts() };
  }

  async start(): Promise<{ host: string; port: number }> {
    const listen = parseListen(this.deps.config.listen);
    if (!listen) throw new Error(`api.listen "${this.deps.config.listen}" is not HOST:PORT`);
    this.requireToken = !isLoopback(listen.host);
    this.policy = buildOriginPolicy({
      listenHost: listen.host,
      allowedHosts: this.deps.config.allowedHosts,
      corsOrigins: this.deps.config.corsOrigins,
    });
    this.server = http.createServer(HTTP_TIMEOUTS);
    // Before the handler: a request's socket is counted busy before any answer can end it.
    this.slots = gateConnections(this.server, this.limits.maxConnections, this.shed);
    // One request at a time per connection: what a client pipelines waits for the answer ahead of it.
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.pipelined.admit(req, res, () => {
        this.handle(req, res).catch((e: unknown) => {
          if (!res.headersSent) this.json(res, 500, { error: { message: (e as Error).message } });
          else res.destroy();
        });
      }),
    );
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(listen.port, listen.host, () => resolve());
    });
    this.address = { host: listen.host, port: (this.server.address() as AddressInfo).port };
    this.clients.keepAlive(this.limits.sseKeepAliveMs);
    this.deps.tokenWatch?.start();
    return this.address;
  }

  /** The token requests must carry from now on (the token file was edited or replaced). */
  setToken(token: string): void {
    this.auth.setToken(token);
  }

  async stop(): Promise<void> {
    this.deps.tokenWatch?.stop();
    this.clients.endAll();
    this.shed.flush();
    if (!this.server) return;
    await new Promise<void>((resolve) => {
      this.server!.close(() => resolve());
      this.server!.closeAllConnections();
    });
  }

  /** Pushes an event to every SSE client: `sample`, `level`, `panic` or `event`. */
  broadcast<K extends LiveEventName>(event: K, data: LiveEventMap[K]): void {
    if (this.clients.size === 0) return;
    this.clients.send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...this.cors(res),
      ...extra,
    });
    res.end(text);
  }

  /** A 200 JSON body written piece by piece, waiting for the socket to drain; stops if the client goes. */
  private async streamJson(res: ServerResponse, pieces: AsyncIterable<string>): Promise<void> {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...this.cors(res),
    });
    for await (const piece of pieces) {
      if (res.destroyed) return;
      if (!res.write(piece))
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
    }
    res.end();
  }

  /** Listed origins get their own origin echoed back; every answer varies by Origin. */
  private readonly corsFor = new WeakMap<ServerResponse, string>();

  private cors(res: ServerResponse): Record<string, string> {
    const origin = this.corsFor.get(res);
    return origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
  }

  /** A JSON request body, or a 413/400 already sent naming what was wrong. */
  private async jsonBody(
    req: IncomingMessage,
    res: ServerResponse,
    what: string,
    allowEmpty = false,
  ): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const raw = await this.body(req);
    if (raw === null) {
      this.json(res, 413, { error: { message: `${what} over ${MAX_BODY} bytes` } });
      return { ok: false };
    }
    if (allowEmpty && raw.toString('utf8').trim() === '') return { ok: true, value: {} };
    const text = raw.toString('utf8');
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (e) {
      // Without V8's quote of the body: a PATCH may carry a token.
      this.json(res, 400, {
        error: { message: `body: not valid JSON (${jsonErrorText(e, text)})`, fields: ['body'] },
      });
      return { ok: false };
    }
  }

  private badRequest(res: ServerResponse, issues: z.ZodIssue[], input: unknown, where: string): void {
    const fields = formatIssues(issues, input, where);
    this.json(res, 400, { error: { message: fields.join('; '), fields } });
  }

  private authorised(req: IncomingMessage): boolean {
    return !this.requireToken || this.tokenPresented(req);
  }

  /** The request carries the API's token (asked even on loopback for what reads outside the data). */
  private tokenPresented(req: IncomingMessage): boolean {
    return this.auth.presented(req);
  }

  private async body(req: IncomingMessage): Promise<Buffer | null> {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return null;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) return null;
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (!this.admitted(req, res)) return;
    const found = findRoute(ROUTES, this.deps.service, method, path);
    if (found)
      return found.route.handler(this.context(req, res, found.params, Object.fromEntries(url.searchParams)));
    if (method === 'GET' && this.deps.dashboardDir && !path.startsWith('/api/v1/'))
      return this.file(res, path === '/' ? '/index.html' : path);
    return this.json(res, 404, { error: { message: `no ${method} ${path}` } });
  }

  /**
   * Host, origin, preflight and token checks; false when the answer was already sent (a refusal, or the
   * preflight's 204).
   */
  private admitted(req: IncomingMessage, res: ServerResponse): boolean {
    const policy = this.policy!;
    const host = checkHost(policy, req.headers.host);
    const origin = checkOrigin(policy, req.headers.origin, req.headers.host);
    const refusal = !host.ok
      ? { status: host.status, message: host.message }
      : origin.kind === 'foreign'
        ? { status: 403, message: origin.message }
        : crossSiteRead(req, origin.kind === 'listed');
    if (refusal) {
      this.json(res, refusal.status, { error: { message: refusal.message } });
      return false;
    }
    if (origin.kind === 'listed') this.corsFor.set(res, origin.origin);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        allow: CORS_METHODS,
        ...this.cors(res),
        ...(origin.kind === 'listed'
          ? {
              'access-control-allow-methods': CORS_METHODS,
              'access-control-allow-headers': CORS_HEADERS,
              'access-control-max-age': '600',
              // Chrome's Private Network Access: a listed public origin may call this loopback API.
              ...(req.headers['access-control-request-private-network'] === 'true'
                ? { 'access-control-allow-private-network': 'true' }
                : {}),
            }
          : {}),
      });
      res.end();
      return false;
    }
    if (this.authorised(req)) return true;
    const signed = this.auth.signedRefusal(req);
    this.json(
      res,
      401,
      {
        error: {
          message: signed
            ? `signed request refused: ${signed}`
            : 'missing or wrong bearer token (see `exo-sentinel agent status`)',
        },
      },
      { 'www-authenticate': AUTH_CHALLENGE },
    );
    return false;
  }

  private context(
    req: IncomingMessage,
    res: ServerResponse,
    params: string[],
    query: Record<string, string>,
  ): RouteContext {
    return {
      req,
      res,
      params,
      query,
      now: (this.deps.now ?? Date.now)(),
      service: this.deps.service,
      hasToken: () => this.tokenPresented(req),
      json: (status, body, extra) => this.json(res, status, body, extra),
      badRequest: (issues, input, where) => this.badRequest(res, issues, input, where),
      readJson: (what, allowEmpty) => this.jsonBody(req, res, what, allowEmpty),
      streamJson: (pieces) => this.streamJson(res, pieces),
      sse: () => this.stream(res),
      metrics: async () => {
        const { text, contentType } = await this.deps.metrics.render();
        res.writeHead(200, { 'content-type': contentType, ...this.cors(res) });
        res.end(text);
      },
    };
  }

  /** A live-event stream, if a slot is free or a stalled client gives one up; else 503. */
  private stream(res: ServerResponse): void {
    if (!this.clients.makeRoom()) {
      this.json(
        res,
        503,
        { error: { message: `${this.limits.sseMaxClients} live-event clients already connected` } },
        { 'retry-after': '10' },
      );
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      ...this.cors(res),
    });
    res.write(`: connected\n\nevent: status\ndata: ${JSON.stringify(this.deps.service.status())}\n\n`);
    this.clients.add(res);
  }

  private file(res: ServerResponse, path: string): void {
    const dir = this.deps.dashboardDir!;
    const full = normalize(join(dir, path));
    if (!full.startsWith(dir)) {
      this.json(res, 404, { error: { message: 'not found' } });
      return;
    }
    let data: Buffer;
    try {
      data = readFileSync(full);
    } catch {
      this.json(res, 404, { error: { message: `no ${path}` } });
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(full)] ?? 'application/octet-stream',
      'content-length': data.length,
      'content-security-policy': DASHBOARD_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
      vary: 'Origin',
    });
    res.end(data);
  }
}

export type { TimelineEvent };
