import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { z } from 'zod';
import type { TimelineEvent } from '../../../shared/events.js';
import type { GuardMode } from '../../../shared/risk.js';
import type { AuditStore } from '../actions/audit-store.js';
import { GuardChoice } from '../actions/guard-override.js';
import { type GuardProfile, GuardProfileSchema } from '../actions/guard-profile.js';
import { configJsonSchema } from '../config/config-json-schema.js';
import { formatIssues } from '../config/config-loader.js';
import type { ConfigReloadState, ReloadOutcome } from '../config/config-reload.js';
import type { Config } from '../config/config-schema.js';
import { maskConfig, saveClientConfig } from '../config/config-update.js';
import { isLoopback, parseListen } from '../guard/guard-config.js';
import type { ReportStore } from '../store/report-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { ApiConfig } from './api-config.js';
import { eventsPage, PAGE_LIMITS, reportsPage, timelineJson } from './bounded-queries.js';
import type { Metrics } from './metrics.js';
import {
  buildOriginPolicy,
  CORS_HEADERS,
  CORS_METHODS,
  checkHost,
  checkOrigin,
  type OriginPolicy,
} from './request-origin.js';

/** What `/api/v1/status` returns: the daemon's live view. */
export type StatusView = Record<string, unknown>;

export interface ApiDeps {
  config: ApiConfig;
  token: string;
  timeline: TimelineStore;
  reports: ReportStore;
  audit: AuditStore;
  metrics: Metrics;
  status: () => StatusView;
  crashReport: (id: number) => string | null;
  ack: () => unknown;
  /** Pins the guard's mode (null: follow the level). */
  setGuardMode: (mode: GuardMode | null) => unknown;
  /** The guard profile in effect and the configured one (absent: no profile routes). */
  guardProfile?: () => unknown;
  /** Chooses the guard profile, through the same call as `exo-sentinel guard profile`. */
  setGuardProfile?: (profile: GuardProfile) => unknown;
  cluster: () => Promise<unknown>;
  advisory: () => unknown;
  currentConfig: () => Config;
  /** The configuration file API writes go to (asked at each request: it may move). */
  configPath: string | (() => string);
  /** The running daemon's configuration reloads (absent: a write applies at the next start). */
  configReload?: { state: () => ConfigReloadState | null; reload: () => ReloadOutcome | null };
  /** The built dashboard (dist/renderer); null to serve no page. */
  dashboardDir: string | null;
  now?: () => number;
}

const GuardModeBody = z.object({ mode: GuardChoice }).strict();
const GuardProfileBody = z.object({ profile: GuardProfileSchema }).strict();
const MAX_BODY = 64 * 1024;

const time = z.string().transform((v, ctx) => {
  const t = /^\d{10,}$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch ms or an ISO 8601 time' });
    return z.NEVER;
  }
  return t;
});
const RangeQuery = z
  .object({
    from: time.optional(),
    to: time.optional(),
    resolution: z.enum(['raw', 'minute', 'auto']).optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_LIMITS.rawRows).optional(),
  })
  .strict();
const ActionsQuery = z.object({ from: time.optional(), to: time.optional() }).strict();
const cursor = z.coerce.number().int().positive();
const EventsQuery = z
  .object({
    from: time.optional(),
    to: time.optional(),
    kind: z
      .string()
      .regex(/^[a-z][a-z0-9.-]{0,63}$/, 'expected an event kind prefix like panic. or guard.request')
      .optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_LIMITS.events).optional(),
    before: cursor.optional(),
  })
  .strict();
const ReportsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(PAGE_LIMITS.reports).optional(),
    before: cursor.optional(),
  })
  .strict();

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
 * The local HTTP API: JSON under /api/v1, a Server-Sent Events stream, Prometheus metrics and the web
 * dashboard. Loopback by default; any other address needs the bearer token. Only allowed `Host` names are
 * answered (no DNS rebinding); browsers may write from the API's own origin, other origins only when listed
 * in `corsOrigins` (real CORS, preflight included). Bodies are capped, every read is a bounded page, every
 * input is validated and a bad one gets 400 naming it. Tokens are never served.
 */
export class ApiServer {
  private server: Server | null = null;
  private readonly clients = new Set<ServerResponse>();
  private keepAlive: NodeJS.Timeout | null = null;
  private requireToken = false;
  private policy: OriginPolicy | null = null;
  address: { host: string; port: number } | null = null;

  constructor(private readonly deps: ApiDeps) {}

  private configPath(): string {
    const p = this.deps.configPath;
    return typeof p === 'function' ? p() : p;
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
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) this.json(res, 500, { error: { message: (e as Error).message } });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(listen.port, listen.host, () => resolve());
    });
    this.address = { host: listen.host, port: (this.server.address() as AddressInfo).port };
    this.keepAlive = setInterval(() => this.broadcastComment('keep-alive'), 15_000);
    this.keepAlive.unref();
    return this.address;
  }

  async stop(): Promise<void> {
    if (this.keepAlive) clearInterval(this.keepAlive);
    for (const c of this.clients) c.end();
    this.clients.clear();
    if (!this.server) return;
    await new Promise<void>((resolve) => {
      this.server!.close(() => resolve());
      this.server!.closeAllConnections();
    });
  }

  /** Pushes an event to every SSE client: `sample`, `level`, `panic` or `event`. */
  broadcast(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) c.write(frame);
  }

  private broadcastComment(text: string): void {
    for (const c of this.clients) c.write(`: ${text}\n\n`);
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
  ): Promise<{ ok: true; value: unknown } | { ok: false }> {
    const raw = await this.body(req);
    if (raw === null) {
      this.json(res, 413, { error: { message: `${what} over ${MAX_BODY} bytes` } });
      return { ok: false };
    }
    try {
      return { ok: true, value: JSON.parse(raw.toString('utf8')) };
    } catch (e) {
      this.json(res, 400, {
        error: { message: `body: not valid JSON (${(e as Error).message})`, fields: ['body'] },
      });
      return { ok: false };
    }
  }

  private badRequest(res: ServerResponse, issues: z.core.$ZodIssue[], input: unknown, where: string): void {
    const fields = formatIssues(issues, input, where);
    this.json(res, 400, { error: { message: fields.join('; '), fields } });
  }

  private authorised(req: IncomingMessage): boolean {
    if (!this.requireToken) return true;
    const given = Buffer.from(/^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const want = Buffer.from(this.deps.token);
    return given.length === want.length && timingSafeEqual(given, want);
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
    const policy = this.policy!;
    const host = checkHost(policy, req.headers.host);
    if (!host.ok) return this.json(res, host.status, { error: { message: host.message } });
    const origin = checkOrigin(policy, req.headers.origin, req.headers.host);
    if (origin.kind === 'foreign') return this.json(res, 403, { error: { message: origin.message } });
    if (origin.kind === 'listed') this.corsFor.set(res, origin.origin);
    if (method === 'OPTIONS') {
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
      return void res.end();
    }
    if (!this.authorised(req))
      return this.json(
        res,
        401,
        { error: { message: 'missing or wrong bearer token (see `exo-sentinel agent status`)' } },
        { 'www-authenticate': 'Bearer' },
      );
    const query = Object.fromEntries(url.searchParams);
    const now = (this.deps.now ?? Date.now)();

    if (method === 'GET' && path === '/metrics') {
      const text = await this.deps.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.deps.metrics.registry.contentType, ...this.cors(res) });
      return void res.end(text);
    }
    if (path.startsWith('/api/v1/')) {
      const route = path.slice('/api/v1/'.length);
      if (method === 'GET' && route === 'status') return this.json(res, 200, this.deps.status());
      if (method === 'GET' && route === 'timeline') {
        const q = RangeQuery.safeParse(query);
        if (!q.success) return this.badRequest(res, q.error.issues, query, 'query');
        const to = q.data.to ?? now;
        const from = q.data.from ?? to - 3_600_000;
        if (from > to)
          return this.json(res, 400, {
            error: { message: 'query: "from" is after "to"', fields: ['query: "from" is after "to"'] },
          });
        return this.streamJson(
          res,
          timelineJson(this.deps.timeline, { from, to, resolution: q.data.resolution, limit: q.data.limit }),
        );
      }
      if (method === 'GET' && route === 'events') {
        const q = EventsQuery.safeParse(query);
        if (!q.success) return this.badRequest(res, q.error.issues, query, 'query');
        const to = q.data.to ?? now;
        return this.json(
          res,
          200,
          await eventsPage(this.deps.timeline, {
            from: q.data.from ?? to - 3_600_000,
            to,
            kind: q.data.kind,
            before: q.data.before,
            limit: q.data.limit,
          }),
        );
      }
      if (method === 'GET' && route === 'panics') {
        const q = ReportsQuery.safeParse(query);
        if (!q.success) return this.badRequest(res, q.error.issues, query, 'query');
        return this.json(res, 200, reportsPage(this.deps.reports, q.data));
      }
      const one = /^panics\/([^/]+)(\/report)?$/.exec(route);
      if (method === 'GET' && one) {
        const id = z.coerce.number().int().positive().safeParse(one[1]);
        if (!id.success)
          return this.json(res, 400, {
            error: { message: `panic id "${one[1]}" is not a positive integer`, fields: ['id'] },
          });
        const rec = this.deps.reports.get(id.data);
        if (!rec) return this.json(res, 404, { error: { message: `no report with id ${id.data}` } });
        if (!one[2]) return this.json(res, 200, rec);
        const md = this.deps.crashReport(id.data);
        if (md === null)
          return this.json(res, 409, {
            error: { message: `report ${id.data} is not a readable kernel panic` },
          });
        res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8', 'cache-control': 'no-store' });
        return void res.end(md);
      }
      if (method === 'GET' && route === 'actions') {
        const q = ActionsQuery.safeParse(query);
        if (!q.success) return this.badRequest(res, q.error.issues, query, 'query');
        return this.json(res, 200, { actions: this.deps.audit.list(q.data.from ?? 0, q.data.to ?? now) });
      }
      if (method === 'GET' && route === 'config')
        return this.json(res, 200, {
          config: maskConfig(this.deps.currentConfig()),
          path: this.configPath(),
          reload: this.deps.configReload?.state() ?? null,
        });
      if (method === 'POST' && route === 'config/reload') {
        const r = this.deps.configReload?.reload() ?? null;
        if (!r)
          return this.json(res, 409, { error: { message: 'this daemon does not reload its configuration' } });
        if (!r.ok)
          return this.json(res, 400, {
            error: { message: r.errors.join('; '), fields: r.errors },
            reload: r,
          });
        return this.json(res, 200, { reload: r });
      }
      if (method === 'GET' && route === 'config/schema') return this.json(res, 200, configJsonSchema());
      if (method === 'PUT' && route === 'config') {
        const body = await this.jsonBody(req, res, 'configuration body');
        if (!body.ok) return;
        const saved = saveClientConfig(this.configPath(), body.value);
        if (!saved.ok)
          return this.json(res, saved.reason === 'write-failed' ? 500 : 400, {
            error: { message: saved.errors.join('; '), fields: saved.errors },
          });
        // Applied at once by a daemon that reloads (`reloaded`), with the keys that wait for a restart.
        const r = this.deps.configReload?.reload() ?? null;
        return this.json(res, 200, {
          saved: this.configPath(),
          config: maskConfig(saved.config),
          reloaded: r?.ok === true,
          applied: r?.ok ? r.applied : [],
          restartRequired: r?.ok ? r.restartRequired : [],
          ...(r && !r.ok ? { reloadErrors: r.errors } : {}),
        });
      }
      if (method === 'POST' && route === 'ack') return this.json(res, 200, { ended: this.deps.ack() });
      if (method === 'PUT' && route === 'guard/mode') {
        const body = await this.jsonBody(req, res, 'body');
        if (!body.ok) return;
        const m = GuardModeBody.safeParse(body.value);
        if (!m.success) return this.badRequest(res, m.error.issues, body.value, 'body');
        return this.json(res, 200, this.deps.setGuardMode(m.data.mode));
      }
      if (route === 'guard/profile' && method === 'GET' && this.deps.guardProfile)
        return this.json(res, 200, this.deps.guardProfile());
      if (route === 'guard/profile' && method === 'PUT' && this.deps.setGuardProfile) {
        const body = await this.jsonBody(req, res, 'body');
        if (!body.ok) return;
        const p = GuardProfileBody.safeParse(body.value);
        if (!p.success) return this.badRequest(res, p.error.issues, body.value, 'body');
        return this.json(res, 200, this.deps.setGuardProfile(p.data.profile));
      }
      if (method === 'GET' && route === 'advisory') return this.json(res, 200, this.deps.advisory());
      if (method === 'GET' && route === 'cluster') return this.json(res, 200, await this.deps.cluster());
      if (method === 'GET' && route === 'stream') return this.stream(req, res);
      return this.json(res, 404, { error: { message: `no ${method} ${path}` } });
    }
    if (method === 'GET' && this.deps.dashboardDir)
      return this.file(res, path === '/' ? '/index.html' : path);
    return this.json(res, 404, { error: { message: `no ${method} ${path}` } });
  }

  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      ...this.cors(res),
    });
    res.write(`: connected\n\nevent: status\ndata: ${JSON.stringify(this.deps.status())}\n\n`);
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
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
