import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute } from 'node:path';
import { z } from 'zod/v3';
import { GuardChoice } from '../actions/guard-override.js';
import { GuardProfileSchema } from '../actions/guard-profile.js';
import { type SentinelService, ServiceUnavailable } from '../service/sentinel-service.js';
import { parseTime } from '../util/format.js';
import { PAGE_LIMITS } from './bounded-queries.js';

/** What a route handler gets: the request, its parts, and the ways to answer. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The pattern's captured groups. */
  params: string[];
  query: Record<string, string>;
  now: number;
  service: SentinelService;
  /** Whether the request carries the API's token (loopback needs none, except for what reads outside the data). */
  hasToken(): boolean;
  json(status: number, body: unknown, extra?: Record<string, string>): void;
  badRequest(issues: z.ZodIssue[], input: unknown, where: string): void;
  /** The JSON body, or a 413/400 already sent (`allowEmpty`: no body reads as `{}`). */
  readJson(what: string, allowEmpty?: boolean): Promise<{ ok: true; value: unknown } | { ok: false }>;
  streamJson(pieces: AsyncIterable<string>): Promise<void>;
  /** Opens the Server-Sent Events stream. */
  sse(): void;
  metrics(): Promise<void>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  /** Matched against the whole path. */
  pattern: RegExp;
  handler(ctx: RouteContext): void | Promise<void>;
  /** Routes a service without the part answers as unknown (404), as before they existed. */
  when?: (service: SentinelService) => boolean;
}

/** Epoch ms (digits alone, however few: `from=0` is everything) or an ISO 8601 time from its date on. */
const time = z.string().transform((v, ctx) => {
  const t = parseTime(v);
  // Digits past 2^53 are no time, and 400 of them are Infinity (which JSON cannot carry back).
  if (t === null || !Number.isSafeInteger(t)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch ms or an ISO 8601 time (YYYY-MM-DD…)' });
    return z.NEVER;
  }
  return t;
});
const cursor = z.coerce.number().int().safe().positive();
const RangeQuery = z
  .object({
    from: time.optional(),
    to: time.optional(),
    resolution: z.enum(['raw', 'minute', 'auto']).optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_LIMITS.rawRows).optional(),
  })
  .strict();
const ActionsQuery = z
  .object({
    from: time.optional(),
    to: time.optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_LIMITS.actions).optional(),
    before: cursor.optional(),
  })
  .strict();
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
const GuardModeBody = z.object({ mode: GuardChoice }).strict();
const GuardProfileBody = z.object({ profile: GuardProfileSchema }).strict();
/** Directories named by a client (the CLI's `panics scan --dir`): absolute, a few, bounded in length. */
const ScanBody = z
  .object({
    dirs: z
      .array(
        z
          .string()
          .min(1)
          .max(4096)
          .refine((d) => isAbsolute(d) && !d.includes('\0'), 'expected an absolute directory path'),
      )
      .min(1)
      .max(16)
      .optional(),
  })
  .strict();

const HOUR = 3_600_000;

async function timeline(c: RouteContext): Promise<void> {
  const q = RangeQuery.safeParse(c.query);
  if (!q.success) return c.badRequest(q.error.issues, c.query, 'query');
  const to = q.data.to ?? c.now;
  const from = q.data.from ?? to - HOUR;
  if (from > to)
    return c.json(400, {
      error: { message: 'query: "from" is after "to"', fields: ['query: "from" is after "to"'] },
    });
  return c.streamJson(
    c.service.timelineJson({ from, to, resolution: q.data.resolution, limit: q.data.limit }),
  );
}

async function events(c: RouteContext): Promise<void> {
  const q = EventsQuery.safeParse(c.query);
  if (!q.success) return c.badRequest(q.error.issues, c.query, 'query');
  const to = q.data.to ?? c.now;
  const page = await c.service.events({
    from: q.data.from ?? to - HOUR,
    to,
    kind: q.data.kind,
    before: q.data.before,
    limit: q.data.limit,
  });
  c.json(200, page);
}

function panic(c: RouteContext) {
  const [raw, report] = c.params;
  const id = cursor.safeParse(raw);
  if (!id.success)
    return c.json(400, { error: { message: `panic id "${raw}" is not a positive integer`, fields: ['id'] } });
  if (!report) {
    const rec = c.service.panic(id.data);
    return rec ? c.json(200, rec) : c.json(404, { error: { message: `no report with id ${id.data}` } });
  }
  const md = c.service.panicReport(id.data);
  if (!md.ok) return c.json(md.reason === 'not-found' ? 404 : 409, { error: { message: md.message } });
  c.res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8', 'cache-control': 'no-store' });
  c.res.end(md.markdown);
}

async function scanPanics(c: RouteContext): Promise<void> {
  const body = await c.readJson('body', true);
  if (!body.ok) return;
  const b = ScanBody.safeParse(body.value);
  if (!b.success) return c.badRequest(b.error.issues, body.value, 'body');
  // Directories named by the caller are read as the daemon's user: only its owner (who can read the token
  // file, mode 0600) may name them, even on loopback.
  if (b.data.dirs && !c.hasToken())
    return c.json(
      401,
      { error: { message: '"dirs" needs the bearer token even on loopback (<data>/api-token)' } },
      { 'www-authenticate': 'Bearer' },
    );
  try {
    c.json(200, await c.service.scanPanics(b.data.dirs));
  } catch (e) {
    if (e instanceof ServiceUnavailable) return c.json(409, { error: { message: e.message } });
    throw e;
  }
}

function reloadConfig(c: RouteContext) {
  const r = c.service.reloadConfig('api');
  if (!r) return c.json(409, { error: { message: 'this daemon does not reload its configuration' } });
  if (!r.ok) return c.json(400, { error: { message: r.errors.join('; '), fields: r.errors }, reload: r });
  c.json(200, { reload: r });
}

/** A refused configuration write: 401 when it needs the token, 500 when the file could not be written. */
function refusedWrite(c: RouteContext, r: { reason: string; errors: string[] }): void {
  const body = { error: { message: r.errors.join('; '), fields: r.errors } };
  if (r.reason === 'needs-token') c.json(401, body, { 'www-authenticate': 'Bearer' });
  else c.json(r.reason === 'write-failed' ? 500 : 400, body);
}

async function saveConfig(c: RouteContext): Promise<void> {
  const body = await c.readJson('configuration body');
  if (!body.ok) return;
  const saved = c.service.saveConfig(body.value, 'api', c.hasToken());
  if (!saved.ok) return refusedWrite(c, saved);
  const { ok: _ok, ...answer } = saved;
  c.json(200, answer);
}

/** PATCH: `{set: {dotted.key: value}, unset: [dotted.key]}` made on the stored file, the rest kept. */
async function patchConfig(c: RouteContext): Promise<void> {
  const body = await c.readJson('configuration change');
  if (!body.ok) return;
  const saved = c.service.patchConfig(body.value, 'api', c.hasToken());
  if (!saved.ok) return refusedWrite(c, saved);
  const { ok: _ok, ...answer } = saved;
  c.json(200, answer);
}

async function setGuardMode(c: RouteContext): Promise<void> {
  const body = await c.readJson('body');
  if (!body.ok) return;
  const m = GuardModeBody.safeParse(body.value);
  if (!m.success) return c.badRequest(m.error.issues, body.value, 'body');
  c.json(200, c.service.setGuardMode(m.data.mode, 'the API'));
}

async function setGuardProfile(c: RouteContext): Promise<void> {
  const body = await c.readJson('body');
  if (!body.ok) return;
  const p = GuardProfileBody.safeParse(body.value);
  if (!p.success) return c.badRequest(p.error.issues, body.value, 'body');
  c.json(200, c.service.setGuardProfile(p.data.profile, 'the API'));
}

const v1 = (route: string): RegExp => new RegExp(`^/api/v1/${route}$`);

/** Every route the API answers; anything else under /api/v1/ is a 404, anything else a dashboard file. */
export const ROUTES: readonly Route[] = [
  { method: 'GET', pattern: /^\/metrics$/, handler: (c) => c.metrics() },
  { method: 'GET', pattern: v1('status'), handler: (c) => c.json(200, c.service.status()) },
  { method: 'GET', pattern: v1('timeline'), handler: timeline },
  { method: 'GET', pattern: v1('events'), handler: events },
  {
    method: 'GET',
    pattern: v1('panics'),
    handler: (c) => {
      const q = ReportsQuery.safeParse(c.query);
      if (!q.success) return c.badRequest(q.error.issues, c.query, 'query');
      c.json(200, c.service.panics(q.data));
    },
  },
  { method: 'POST', pattern: v1('panics/scan'), handler: scanPanics },
  { method: 'GET', pattern: v1('panics/([^/]+)(/report)?'), handler: panic },
  {
    method: 'GET',
    pattern: v1('actions'),
    handler: (c) => {
      const q = ActionsQuery.safeParse(c.query);
      if (!q.success) return c.badRequest(q.error.issues, c.query, 'query');
      c.json(
        200,
        c.service.actions({
          from: q.data.from ?? 0,
          to: q.data.to ?? c.now,
          before: q.data.before,
          limit: q.data.limit,
        }),
      );
    },
  },
  { method: 'GET', pattern: v1('config'), handler: (c) => c.json(200, c.service.config()) },
  { method: 'PUT', pattern: v1('config'), handler: saveConfig },
  { method: 'PATCH', pattern: v1('config'), handler: patchConfig },
  { method: 'POST', pattern: v1('config/reload'), handler: reloadConfig },
  { method: 'GET', pattern: v1('config/schema'), handler: (c) => c.json(200, c.service.configSchema()) },
  { method: 'POST', pattern: v1('ack'), handler: (c) => c.json(200, c.service.ack('the API')) },
  { method: 'PUT', pattern: v1('guard/mode'), handler: setGuardMode },
  {
    method: 'GET',
    pattern: v1('guard/profile'),
    handler: (c) => c.json(200, c.service.guardProfile()),
    when: (s) => s.hasGuardProfile,
  },
  {
    method: 'PUT',
    pattern: v1('guard/profile'),
    handler: setGuardProfile,
    when: (s) => s.hasGuardProfile,
  },
  { method: 'GET', pattern: v1('advisory'), handler: (c) => c.json(200, c.service.advisory()) },
  { method: 'GET', pattern: v1('cluster'), handler: async (c) => c.json(200, await c.service.cluster()) },
  { method: 'GET', pattern: v1('stream'), handler: (c) => c.sse() },
];

/** The route for a method and path, and the pattern's groups; null when none answers. */
export function findRoute(
  routes: readonly Route[],
  service: SentinelService,
  method: string,
  path: string,
): { route: Route; params: string[] } | null {
  for (const route of routes) {
    if (route.method !== method || (route.when && !route.when(service))) continue;
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.slice(1) };
  }
  return null;
}
