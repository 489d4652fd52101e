import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TimelineEvent } from '../../../shared/events.js';
import type { GuardMode } from '../../../shared/risk.js';
import { buildOriginPolicy, checkHost, checkOrigin, type OriginPolicy } from '../api/request-origin.js';
import { sameSecret } from '../util/node-crypto.js';
import { http } from '../util/node-http.js';
import { MAX_PIPELINED, PipelinedRequests } from '../util/pipelined-requests.js';
import { decideLoad, jitteredRetryAfter, type ModeSource, wakeHoldRetryAfter } from './admission.js';
import { AllocationLog } from './allocation-log.js';
import { Capacity } from './capacity.js';
import { type GatedFamily, gatedFamilyFor, isImageFamily } from './endpoints/endpoint-family.js';
import { sendError, styleForPath } from './error-response.js';
import { GatedRequest, PROMPT_PARAM, readGatedBody } from './gated-request.js';
import { type GuardConfig, isLoopback, parseListen } from './guard-config.js';
import type { GuardMetricsSink, GuardView } from './guard-view.js';
import { endToEndHeaders } from './hop-by-hop.js';
import { type LoadRoute, loadRoute } from './load-route.js';
import { canonicalTarget, routeKey } from './request-path.js';
import {
  BodyBudget,
  type BodyRead,
  bodyNotAllowed,
  boundStreamedBody,
  isBodyless,
} from './request-reader.js';
import { cancelInExo, createUpstream, type Upstream } from './upstream.js';
import { type PipeHandle, type PipeOutcome, pipeUpstream } from './upstream-pipe.js';

export type { GuardMetricsSink, GuardView } from './guard-view.js';

const BODY_IDLE_MS = 30_000;
const BODY_TOTAL_MS = 120_000;
/** At most one event per this long says connections were closed for pipelining (with how many). */
const PIPELINE_EVENT_MS = 60_000;
/** The guard's own credential header never travels on to EXO. */
const GUARD_HEADERS = ['x-exo-sentinel-token'];

/**
 * Why a browser's request made by a page of another site is refused, or null. EXO answers any origin (its
 * CORS middleware allows `*` with credentials), so without this a page on any site could run generations,
 * read EXO's state and unload its models through the guard on loopback, no DNS rebinding needed: an Origin
 * that is neither the guard's own (`http://<Host>`) nor in `guard.corsOrigins` is refused, and so is a request
 * the browser says another site made (Fetch Metadata), for navigations and forms without an Origin.
 */
function foreignPage(policy: OriginPolicy, req: IncomingMessage): string | null {
  const origin = checkOrigin(policy, req.headers.origin, req.headers.host);
  if (origin.kind === 'foreign') return origin.message;
  const site = req.headers['sec-fetch-site'];
  if (origin.kind !== 'listed' && (site === 'cross-site' || site === 'same-site'))
    return `a request from another site (Sec-Fetch-Site: ${site}): list its origin in guard.corsOrigins to let its pages call EXO through the guard`;
  return null;
}

/**
 * The admission-control reverse proxy in front of EXO's API: the listener and its lifecycle, and the routing.
 * It routes exactly as EXO's server does (on the decoded, normalised path, which is also what it forwards),
 * refuses bodies on methods that take none and re-frames every body it forwards, and is transparent for
 * everything it does not gate: answers, SSE included, pass byte for byte with backpressure. Generation
 * requests, text and image, go through admission (gated-request.ts); model loads are gated on the level, a
 * cool-down and the post-panic hold. It forwards only to its one upstream, and nothing a client sends makes a
 * handler throw out.
 */
export class GuardServer {
  private server: Server | null = null;
  private readonly upstream: Upstream;
  private view: GuardView = {
    level: 'ok',
    mode: 'open',
    modeSource: 'level',
    hold: null,
    exo: null,
    sample: null,
  };
  private readonly capacity: Capacity;
  private readonly log: AllocationLog;
  private readonly budget: BodyBudget;
  private lastLoadOrUnload: number | null = null;
  private enforceTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private readonly pipelined = new PipelinedRequests(
    MAX_PIPELINED,
    (req) => this.pipelineOverflow(req),
    (req, res) => this.readAhead(req, res),
  );
  /** Bodies of generation requests read while they waited behind another on their connection. */
  private readonly readAheads = new WeakMap<
    IncomingMessage,
    { body: Promise<BodyRead>; settle: () => void }
  >();
  private overflow = { lastEvent: Number.NEGATIVE_INFINITY, connections: 0 };
  private hosts: OriginPolicy | null = null;
  address: { host: string; port: number } | null = null;

  constructor(
    private config: GuardConfig,
    upstreamUrl: string,
    private readonly emit: (e: TimelineEvent) => void,
    private readonly exoHomeDir: string | null = null,
    private readonly now: () => number = Date.now,
    private readonly metrics: GuardMetricsSink = { refused: () => {}, queueWait: () => {} },
  ) {
    this.upstream = createUpstream(upstreamUrl, config.upstreamCaFile);
    this.capacity = new Capacity(() => this.config.queue.timeoutSeconds * 1000, now);
    this.log = new AllocationLog(emit, now);
    this.budget = new BodyBudget(config.maxBufferedBodyBytes);
  }

  /**
   * A reloaded configuration for the requests that arrive from now on (limits, token, timeouts, queue);
   * the listener, header size, body budget and upstream CA stay as started (the daemon says so).
   */
  reconfigure(next: GuardConfig): void {
    this.config = next;
    if (this.server) this.server.maxConnections = next.maxConnections;
    if (this.hosts) this.hosts = this.hostPolicy();
  }

  /** The names the guard answers to in `Host`: loopback, its listen address, guard.allowedHosts. */
  private hostPolicy(): OriginPolicy {
    return buildOriginPolicy({
      listenHost: parseListen(this.config.listen)?.host ?? '127.0.0.1',
      allowedHosts: this.config.allowedHosts,
      corsOrigins: this.config.corsOrigins,
      server: { name: 'the guard', key: 'guard.allowedHosts', originsKey: 'guard.corsOrigins' },
    });
  }

  /** Refuses to start on a non-loopback address without a token: the guard is never an open relay. */
  async start(): Promise<{ host: string; port: number }> {
    const listen = parseListen(this.config.listen);
    if (!listen) throw new Error(`guard.listen "${this.config.listen}" is not HOST:PORT`);
    if (!isLoopback(listen.host) && !this.config.token) {
      throw new Error(
        `the guard would listen on ${this.config.listen}, which is not loopback: set guard.token (16+ characters) first`,
      );
    }
    this.hosts = this.hostPolicy();
    const server = http.createServer(
      { maxHeaderSize: this.config.maxHeaderBytes, requestTimeout: 0, headersTimeout: 30_000 },
      (req, res) => this.pipelined.admit(req, res, () => this.handleSafely(req, res)),
    );
    server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
      // Malformed or oversized framing: answered and closed, never passed on (and never a crash).
      const status =
        e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      socket.destroy();
    });
    // Node hands CONNECT to this event, never to the request handler (without a listener it closes the socket
    // unanswered): the guard relays to EXO only, and says so.
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      const body = JSON.stringify({
        error: {
          message: `the guard forwards only to ${this.upstream.url.origin}; CONNECT is refused`,
          type: 'forbidden',
        },
      });
      if (socket.writable)
        socket.end(
          `HTTP/1.1 405 Method Not Allowed\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      socket.destroy();
    });
    server.maxConnections = this.config.maxConnections;
    // Every header is seen: Node frames the body with headers past the default count of 2000 but would hide
    // them from the guard (a hidden Transfer-Encoding smuggles a body). The byte limit bounds the block.
    server.maxHeadersCount = 0;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    this.address = { host: listen.host, port: a.port };
    this.enforceTimer = setInterval(() => this.tick(), 1000);
    this.enforceTimer.unref();
    return this.address;
  }

  /**
   * Stops listening, refuses everything queued (503), ends what is in flight with its error frame, gives the
   * answers a moment to leave, then closes every connection. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.enforceTimer) clearInterval(this.enforceTimer);
      this.capacity.closeAll('exo-sentinel is stopping');
      this.log.flush();
      const server = this.server;
      if (server)
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // The refusals settle in the next turns of the loop; then idle sockets go, the rest after 500 ms.
          setImmediate(() => server.closeIdleConnections());
          setTimeout(() => server.closeAllConnections(), 500).unref();
        });
      this.upstream.agent.destroy();
    })();
    return this.stopping;
  }

  /** The daemon's latest judgement. A change of mode takes effect at once. */
  update(view: Partial<GuardView>): void {
    const before = this.view.mode;
    this.view = { ...this.view, ...view };
    if (this.view.mode !== before) this.tick();
    else this.capacity.drain(this.view.mode);
  }

  get stats(): { inFlight: number; queued: number; mode: GuardMode; modeSource: ModeSource } {
    return {
      inFlight: this.capacity.inFlight.length,
      queued: this.capacity.queued,
      mode: this.view.mode,
      modeSource: this.view.modeSource,
    };
  }

  /** Every second and on every mode change: cancel-newest acts, the queue is re-judged. */
  private tick(): void {
    if (this.view.mode === 'cancel-newest')
      this.capacity.cancelNewest(
        `cancelled by exo-sentinel, newest request first: ${this.view.modeSource === 'pin' ? 'the guard is pinned to cancel-newest by hand' : `risk level ${this.view.level}`}`,
      );
    this.capacity.drain(this.view.mode);
  }

  /**
   * A generation request set to wait behind another on its connection has its body read now, within the same
   * limits and budget, once it passes the checks `handle` makes first (target, token, a body allowed): the
   * connection keeps being read, so a client that leaves is seen at once. A body read for a request that is
   * never measured gives its bytes back.
   */
  private readAhead(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') return;
    const target = canonicalTarget(req.url ?? '/');
    if (!target.ok || !gatedFamilyFor(routeKey(target.path))) return;
    if (!this.authorised(req) || bodyNotAllowed(req)) return;
    const socket = req.socket;
    // Its bytes go back when it was never measured: its connection closed before its turn, or its turn ended
    // before the gated path took it (a token changed while it waited answers 401 first).
    const giveBack = (): void => {
      entry.settle();
      void entry.body.then((r) => {
        if (r.ok) this.budget.give(r.body.length);
      });
    };
    const entry = {
      body: readGatedBody(req, this.config, this.budget),
      /** Taken or given back: its listeners go (a kept-alive connection pipelines round after round). */
      settle: () => {
        socket?.off('close', giveBack);
        res.off('close', giveBack);
      },
    };
    this.readAheads.set(req, entry);
    socket?.once('close', giveBack);
    res.once('close', giveBack);
  }

  /** A connection closed for pipelining past MAX_PIPELINED: said at most once a minute, with the count. */
  private pipelineOverflow(req: IncomingMessage): void {
    this.overflow.connections++;
    // Spaced on the monotonic clock: a wall clock set back would silence it for as long.
    const t = performance.now();
    if (this.stopping || t - this.overflow.lastEvent < PIPELINE_EVENT_MS) return;
    this.emit({
      time: this.now(),
      kind: 'guard.pipelining',
      severity: 'warning',
      message: `closed ${this.overflow.connections} connection(s) that pipelined more than ${MAX_PIPELINED} requests behind an unanswered one (the last from ${req.socket?.remoteAddress ?? 'an unknown address'})`,
      data: { connections: this.overflow.connections, remote: req.socket?.remoteAddress ?? null },
    });
    this.overflow = { lastEvent: t, connections: 0 };
  }

  private authorised(req: IncomingMessage): boolean {
    if (!this.config.token) return true;
    const header =
      req.headers['x-exo-sentinel-token'] ?? /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const given = Buffer.from(typeof header === 'string' ? header : '');
    const want = Buffer.from(this.config.token);
    return sameSecret(given, want);
  }

  /** Headers to forward: end-to-end only, without the guard's credentials or (for a re-framed body) the length. */
  private forwardHeaders(req: IncomingMessage, reframed: boolean): string[] {
    const drop = [...GUARD_HEADERS, ...(reframed ? ['content-length'] : [])];
    const h = endToEndHeaders(req.rawHeaders, drop);
    if (!this.config.token) return h;
    const out: string[] = [];
    for (let i = 0; i < h.length; i += 2)
      if (!(h[i]!.toLowerCase() === 'authorization' && /^Bearer /i.test(h[i + 1]!)))
        out.push(h[i]!, h[i + 1]!);
    return out;
  }

  /** No error inside a handler ever escapes: it becomes a 500 in the endpoint's style and an event. */
  private handleSafely(req: IncomingMessage, res: ServerResponse): void {
    const fail = (e: unknown): void => {
      this.emit({
        time: this.now(),
        kind: 'guard.fault',
        severity: 'warning',
        message: `the guard failed on ${req.method} ${String(req.url).slice(0, 200)}: ${(e as Error)?.message ?? String(e)}`,
        data: { method: req.method, stack: (e as Error)?.stack?.split('\n').slice(0, 6).join('\n') ?? null },
      });
      try {
        sendError(
          res,
          styleForPath(req.url ?? '/'),
          'internal',
          'exo-sentinel could not handle this request (recorded as guard.fault)',
        );
      } catch {
        res.destroy();
      }
    };
    try {
      this.handle(req, res).catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const raw = req.url ?? '/';
    const target = canonicalTarget(raw);
    if (!target.ok) {
      sendError(res, styleForPath(raw), 'invalid_request', `request target refused: ${target.message}`, {
        close: true,
      });
      return;
    }
    const key = routeKey(target.path);
    const family = method === 'POST' ? gatedFamilyFor(key) : null;
    const style = family ?? styleForPath(key);
    // A web page that rebinds its own name to 127.0.0.1 still sends that name: it reaches neither the guard
    // nor EXO behind it (EXO answers any origin).
    const host = this.hosts ? checkHost(this.hosts, req.headers.host) : { ok: true as const };
    if (!host.ok) {
      sendError(res, style, 'invalid_request', host.message, { status: host.status, close: true });
      return;
    }
    const foreign = this.hosts ? foreignPage(this.hosts, req) : null;
    if (foreign) {
      sendError(res, style, 'forbidden', foreign, { status: 403, close: true });
      return;
    }
    // A browser sends its CORS preflight without credentials: a listed origin's reaches EXO's CORS answer
    // without the token (a preflight runs nothing), or a listed origin could never call a guard with one.
    const preflight =
      method === 'OPTIONS' &&
      req.headers['access-control-request-method'] !== undefined &&
      req.headers.origin !== undefined;
    if (!preflight && !this.authorised(req)) {
      sendError(
        res,
        style,
        'unauthorized',
        'missing or wrong exo-sentinel token (send Authorization: Bearer <token>)',
      );
      return;
    }
    const noBody = bodyNotAllowed(req);
    if (noBody) {
      sendError(res, style, 'invalid_request', noBody, { close: true });
      return;
    }
    if (family) return this.gated(req, res, family, key, target.target).run();
    const load = loadRoute(method, key, target.target);
    if (load) return this.handleLoad(req, res, load, target.target);
    const unload = method === 'DELETE' && key.startsWith('/instance/');
    this.pipe(req, res, target.target, null, (status) => {
      if (unload && status < 300) this.lastLoadOrUnload = this.now();
    });
  }

  private gated(req: IncomingMessage, res: ServerResponse, family: GatedFamily, key: string, target: string) {
    return new GatedRequest(
      {
        config: this.config,
        view: () => this.view,
        capacity: this.capacity,
        log: this.log,
        metrics: this.metrics,
        exoHomeDir: this.exoHomeDir,
        now: this.now,
        budget: this.budget,
        bodyReadAhead: (rq) => {
          const entry = this.readAheads.get(rq);
          if (!entry) return null;
          this.readAheads.delete(rq);
          entry.settle();
          return entry.body;
        },
        forward: (rq, rs, t, g, onDone) => this.pipe(rq, rs, t, g, onDone),
      },
      req,
      res,
      family,
      key,
      target,
    );
  }

  private handleLoad(req: IncomingMessage, res: ServerResponse, load: LoadRoute, target: string): void {
    const { kind, endpoint: key } = load;
    // A last load stamped after now is a wall clock set back since: the cool-down runs from now (once), not
    // for as long as the clock was ahead.
    if (this.lastLoadOrUnload !== null && this.lastLoadOrUnload > this.now())
      this.lastLoadOrUnload = this.now();
    const d = decideLoad({
      level: this.view.level,
      mode: this.view.mode,
      modeSource: this.view.modeSource,
      wakeHold: this.view.wakeHold ?? null,
      hold: this.view.hold,
      lastLoadOrUnload: this.lastLoadOrUnload,
      now: this.now(),
      cooldownSeconds: this.config.loadCooldownSeconds,
      kind,
    });
    if (!d.ok) {
      const reasonKind = d.kind;
      this.metrics.refused(reasonKind);
      this.log.record({ endpoint: key, decision: 'refuse', status: d.status, reason: d.message, reasonKind });
      sendError(res, styleForPath(key), d.status === 409 ? 'forbidden' : 'overloaded', d.message, {
        status: d.status,
        // The sleep/wake hold ends at a known time: its Retry-After says when, as for generation requests.
        retryAfter:
          d.byMode && this.view.modeSource === 'wake-hold' && this.view.wakeHold
            ? wakeHoldRetryAfter(this.view.wakeHold, this.now(), d.retryAfter ?? 60)
            : d.retryAfter
              ? jitteredRetryAfter(d.retryAfter)
              : null,
      });
      return;
    }
    // The load reserves the cool-down now, so loads sent at the same moment cannot all pass; a load EXO
    // refuses gives it back.
    const before = this.lastLoadOrUnload;
    this.lastLoadOrUnload = this.now();
    this.pipe(req, res, target, null, (status) => {
      if (status >= 300) this.lastLoadOrUnload = before;
      this.log.record({
        endpoint: key,
        decision: 'admit',
        status,
        reason: kind === 'rebalance' ? 'layer rebalance' : 'model load',
        reasonKind: 'load',
      });
    });
  }

  /** A cancel EXO did not take is recorded (the request is ended on the guard's side all the same). */
  private cancelFailed(commandId: string, reason: string): void {
    // After stop the daemon's store may be closing: nothing is emitted into it.
    if (this.stopping) return;
    this.emit({
      time: this.now(),
      kind: 'guard.cancel-failed',
      severity: 'warning',
      message: `EXO's cancel of command ${commandId.slice(0, 100)} failed: ${reason}`,
      data: { commandId: commandId.slice(0, 100), reason },
    });
  }

  /** Forwards a request (gated: its body already read and measured) and streams the answer back. */
  private pipe(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    gated: { body: Buffer; family: GatedFamily; onPrefill: (total: number) => void } | null,
    onDone: (status: number, outcome: PipeOutcome, observer: PipeHandle['observer']) => void,
  ): PipeHandle {
    const style = gated?.family ?? styleForPath(target);
    const param = PROMPT_PARAM[target.split('?')[0]!] ?? 'messages';
    const method = req.method ?? 'GET';
    let body: Buffer | IncomingMessage | null = gated ? gated.body : req;
    if (!gated && isBodyless(method)) {
      // Nothing is ever forwarded from a method that takes no body; a byte arriving anyway ends the connection.
      body = null;
      if (!req.complete) req.once('data', () => req.socket?.destroy());
    } else if (!gated) boundStreamedBody(req, BODY_IDLE_MS, BODY_TOTAL_MS);
    return pipeUpstream(
      {
        upstream: this.upstream,
        method,
        target,
        headers: this.forwardHeaders(req, gated !== null),
        body,
        req,
        timeouts: {
          headersMs: this.config.upstreamHeadersSeconds * 1000,
          idleMs: this.config.upstreamIdleSeconds * 1000,
          // An image stream has no keep-alive: EXO may compute for as long as an answer may take to start.
          silentMs:
            gated && isImageFamily(gated.family) ? this.config.upstreamHeadersSeconds * 1000 : undefined,
        },
        res,
        gated: gated
          ? {
              framing: gated.family.streamFraming,
              onPrefill: gated.onPrefill,
              errorFrame: (status, message) =>
                gated.family.streamErrorFrame(
                  status === 400 ? 'context_length_exceeded' : 'overloaded',
                  message,
                ),
            }
          : undefined,
        sendError: (status, message) =>
          sendError(
            res,
            style,
            status === 502 || status === 504
              ? 'upstream_unavailable'
              : status === 400
                ? 'context_length_exceeded'
                : 'overloaded',
            message,
            {
              status,
              param: status === 400 ? param : null,
              retryAfter:
                status === 503 ? this.capacity.retryAfter('mode', this.config.retryAfterSeconds) : null,
            },
          ),
        onDone,
      },
      (id) => cancelInExo(this.upstream, id, (why) => this.cancelFailed(id, why)),
    );
  }
}
