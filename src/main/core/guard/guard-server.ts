import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { TimelineEvent } from '../../../shared/events.js';
import type { GuardMode, PostPanicHold, RiskLevel } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import { geometryFor } from '../exo/in-flight-kv.js';
import { kvBytesPerToken, nodeShare } from '../exo/kv-estimator.js';
import {
  decideAdmission,
  decideLoad,
  EXO_DEFAULT_MAX_TOKENS,
  jitteredRetryAfter,
  type ModeSource,
  type RefusalKind,
} from './admission.js';
import { AdmissionQueue } from './admission-queue.js';
import { AllocationLog, type GuardRecord } from './allocation-log.js';
import { type EndpointFamily, type ErrorKind, familyFor, statusFor } from './endpoints/endpoint-family.js';
import { type GuardConfig, isLoopback, parseListen } from './guard-config.js';
import { HoldTimeEstimator } from './hold-time-estimator.js';
import { endToEndHeaders } from './hop-by-hop.js';
import { parseJsonBody } from './json-body.js';
import { canonicalTarget, routeKey } from './request-path.js';
import { bodyNotAllowed, readBody } from './request-reader.js';
import { type PipeHandle, type PipeOutcome, pipeUpstream, type Upstream } from './upstream-pipe.js';

/** What the guard knows of the watchdog's judgement; the daemon refreshes it every tick. */
export interface GuardView {
  level: RiskLevel;
  mode: GuardMode;
  modeSource: ModeSource;
  hold: PostPanicHold | null;
  exo: ExoSnapshot | null;
  sample: Sample | null;
}

/** Counters the guard feeds (Prometheus, through the daemon). */
export interface GuardMetricsSink {
  refused(reasonKind: string): void;
  queueWait(seconds: number): void;
}

interface InFlight {
  id: number;
  startedAt: number;
  kvBytes: number | null;
  cancel: (status: number, reason: string) => void;
}

/** The request field that carries the prompt, for the `param` of a context error. */
const PROMPT_PARAM: Record<string, string> = {
  '/v1/responses': 'input',
  '/ollama/api/generate': 'prompt',
};
const LOAD_PATHS = new Set(['/instance', '/place_instance']);
/** The guard's own credentials never travel on to EXO. */
const GUARD_HEADERS = ['x-exo-sentinel-token'];
const BODY_IDLE_MS = 30_000;
const JSON_LIMITS = { maxDepth: 64, maxArrayItems: 100_000 };

/** Node's bundled roots plus the system's bundle (where there is one) plus an optional extra CA file. */
function trustedCAs(extra: string | null): string[] {
  const cas = [...rootCertificates];
  for (const f of ['/etc/ssl/cert.pem', '/etc/ssl/certs/ca-certificates.crt']) {
    try {
      cas.push(readFileSync(f, 'utf8'));
      break;
    } catch {}
  }
  if (extra) cas.push(readFileSync(extra, 'utf8'));
  return cas;
}

/**
 * The admission-control reverse proxy in front of EXO's API. It routes exactly as EXO's server does (on the
 * decoded, normalised path, which is also what it forwards), re-frames every body it forwards, and is
 * transparent for everything it does not gate: responses, SSE included, pass byte for byte with backpressure.
 * Generation requests are measured and admitted, queued or refused before EXO allocates anything; model loads
 * are gated on the level, a cool-down and the post-panic hold. It forwards only to its one upstream, and
 * nothing a client sends can make it throw out of a handler.
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
  private readonly inFlight: InFlight[] = [];
  /** Requests given a turn out of the queue that have not started yet: they hold their slot. */
  private woken = 0;
  private readonly queue: AdmissionQueue;
  private readonly log: AllocationLog;
  private readonly holds = new HoldTimeEstimator();
  private nextId = 1;
  private lastLoadOrUnload: number | null = null;
  private enforceTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  address: { host: string; port: number } | null = null;

  constructor(
    private readonly config: GuardConfig,
    upstreamUrl: string,
    private readonly emit: (e: TimelineEvent) => void,
    private readonly exoHomeDir: string | null = null,
    private readonly now: () => number = Date.now,
    private readonly metrics: GuardMetricsSink = { refused: () => {}, queueWait: () => {} },
  ) {
    const url = new URL(upstreamUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`EXO's URL "${upstreamUrl}" must be http:// or https://`);
    const agentOptions = { keepAlive: true, maxSockets: 256 };
    this.upstream = {
      url,
      agent:
        url.protocol === 'https:'
          ? new HttpsAgent({ ...agentOptions, ca: trustedCAs(config.upstreamCaFile) })
          : new HttpAgent(agentOptions),
    };
    this.queue = new AdmissionQueue(() => this.config.queue.timeoutSeconds * 1000, now);
    this.log = new AllocationLog(emit, now);
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
    this.server = createServer(
      { maxHeaderSize: this.config.maxHeaderBytes, requestTimeout: 0, headersTimeout: 30_000 },
      (req, res) => this.handleSafely(req, res),
    );
    this.server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
      // Malformed or oversized framing: answered and closed, never passed on (and never a crash).
      const status =
        e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(listen.port, listen.host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.address = { host: listen.host, port: a.port };
    this.enforceTimer = setInterval(() => this.tick(), 1000);
    this.enforceTimer.unref();
    return this.address;
  }

  /** Stops listening, refuses everything queued, ends what is in flight. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.enforceTimer) clearInterval(this.enforceTimer);
      this.queue.refuseAll();
      for (const f of [...this.inFlight]) f.cancel(503, 'exo-sentinel is stopping');
      this.log.flush();
      const server = this.server;
      if (server)
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
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
    else this.drainQueue();
  }

  get stats(): { inFlight: number; queued: number; mode: GuardMode; modeSource: ModeSource } {
    return {
      inFlight: this.inFlight.length,
      queued: this.queue.length,
      mode: this.view.mode,
      modeSource: this.view.modeSource,
    };
  }

  /** Every second and on every mode change: cancel-newest acts, the queue is re-judged. */
  private tick(): void {
    if (this.view.mode === 'cancel-newest') {
      const newest = this.inFlight[this.inFlight.length - 1];
      newest?.cancel(
        503,
        `cancelled by exo-sentinel, newest request first: ${this.view.modeSource === 'pin' ? `the guard is pinned to cancel-newest by hand` : `risk level ${this.view.level}`}`,
      );
    }
    this.drainQueue();
  }

  private get busy(): number {
    return this.inFlight.length + this.woken;
  }

  /** Wakes queued requests while the mode lets them run; refuses them all when it refuses. */
  private drainQueue(): void {
    const m = this.view.mode;
    if (m === 'refuse-new' || m === 'cancel-newest') {
      this.queue.refuseAll();
      return;
    }
    while (this.queue.length > 0 && (m === 'open' || this.busy === 0)) {
      this.woken++;
      if (!this.queue.wakeNext()) {
        this.woken--;
        break;
      }
    }
  }

  private authorised(req: IncomingMessage): boolean {
    if (!this.config.token) return true;
    const header =
      req.headers['x-exo-sentinel-token'] ?? /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const given = Buffer.from(typeof header === 'string' ? header : '');
    const want = Buffer.from(this.config.token);
    return given.length === want.length && timingSafeEqual(given, want);
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

  private sendError(
    res: ServerResponse,
    family: EndpointFamily | null,
    kind: ErrorKind,
    message: string,
    opts: { status?: number; param?: string | null; retryAfter?: number | null; close?: boolean } = {},
  ): void {
    if (res.headersSent || res.destroyed) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    const body = JSON.stringify(
      family
        ? family.errorBody(kind, message, opts.param ?? null)
        : { error: { message, type: kind, param: opts.param ?? null, code: kind } },
    );
    res.writeHead(opts.status ?? statusFor(kind), {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...(opts.retryAfter ? { 'retry-after': String(opts.retryAfter) } : {}),
      ...(opts.close ? { connection: 'close' } : {}),
    });
    res.end(body);
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
        this.sendError(
          res,
          null,
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
    if (method === 'CONNECT')
      return this.sendError(
        res,
        null,
        'forbidden',
        `the guard forwards only to ${this.upstream.url.origin}; CONNECT is refused`,
        { status: 405 },
      );
    const target = canonicalTarget(req.url ?? '/');
    const pathGuess = (req.url ?? '').startsWith('/ollama/') ? familyFor('/ollama/api/chat') : null;
    if (!target.ok)
      return this.sendError(res, pathGuess, 'invalid_request', `request target refused: ${target.message}`, {
        close: true,
      });
    const key = routeKey(target.path);
    const family = method === 'POST' ? familyFor(key) : null;
    const style = family ?? (key.startsWith('/ollama/') ? familyFor('/ollama/api/chat') : null);
    if (!this.authorised(req))
      return this.sendError(
        res,
        style,
        'unauthorized',
        'missing or wrong exo-sentinel token (send Authorization: Bearer <token>)',
      );
    const noBody = bodyNotAllowed(req);
    if (noBody) return this.sendError(res, style, 'invalid_request', noBody, { close: true });
    if (family) return this.handleGated(req, res, family, key, target.target);
    if (method === 'POST' && LOAD_PATHS.has(key)) return this.handleLoad(req, res, key, target.target);
    const unload = method === 'DELETE' && key.startsWith('/instance/');
    this.pipe(req, res, target.target, null, (status) => {
      if (unload && status < 300) this.lastLoadOrUnload = this.now();
    });
  }

  private handleLoad(req: IncomingMessage, res: ServerResponse, key: string, target: string): void {
    const d = decideLoad({
      level: this.view.level,
      hold: this.view.hold,
      lastLoadOrUnload: this.lastLoadOrUnload,
      now: this.now(),
      cooldownSeconds: this.config.loadCooldownSeconds,
    });
    if (!d.ok) {
      const reasonKind = this.view.hold ? 'hold' : d.retryAfter === 60 ? 'mode' : 'load-cooldown';
      this.refused({ endpoint: key, decision: 'refuse', status: d.status, reason: d.message, reasonKind });
      this.sendError(res, null, d.status === 409 ? 'forbidden' : 'overloaded', d.message, {
        status: d.status,
        retryAfter: d.retryAfter ? jitteredRetryAfter(d.retryAfter) : null,
      });
      return;
    }
    this.pipe(req, res, target, null, (status) => {
      if (status < 300) this.lastLoadOrUnload = this.now();
      this.log.record({ endpoint: key, decision: 'admit', status, reason: 'model load', reasonKind: 'load' });
    });
  }

  /** This node's KV bytes per token for a model, from EXO's instance (config.json when available). */
  private kvPerToken(model: string | null): {
    perToken: number | null;
    contextLength: number | null;
    share: string | null;
  } {
    const exo = this.view.exo;
    const inst = exo?.instances.find((i) => i.modelId === model);
    const shard =
      inst?.shards.find((s) => s.nodeId === exo?.nodeId) ??
      (inst && inst.shards.length === 1 ? inst.shards[0] : undefined);
    if (!shard?.card)
      return { perToken: null, contextLength: inst?.shards[0]?.card?.contextLength ?? null, share: null };
    const g = geometryFor(shard.card.modelId, shard.card, this.exoHomeDir);
    const share = nodeShare(shard, g);
    return {
      perToken: kvBytesPerToken(g) * share.kv,
      contextLength: shard.card.contextLength,
      share:
        shard.kind === 'pipeline'
          ? `layers ${shard.startLayer}-${shard.endLayer} of ${shard.nLayers}`
          : `${shard.kind} 1/${shard.worldSize}`,
    };
  }

  private headroom(): number | null {
    const g = this.view.sample?.gpu;
    if (!g || g.ceilingBytes === null || g.inUseBytes === null) return null;
    const reserved = this.inFlight.reduce((n, f) => n + (f.kvBytes ?? 0), 0);
    return Math.max(0, g.ceilingBytes - g.inUseBytes - reserved);
  }

  private refused(r: GuardRecord): void {
    this.metrics.refused(r.reasonKind);
    this.log.record(r);
  }

  /** Retry-After for a capacity refusal: from how long admitted requests actually hold capacity, jittered. */
  private retryAfter(kind: RefusalKind | 'queue-timeout'): number {
    const base = this.config.retryAfterSeconds;
    const ahead = kind === 'queue-full' || kind === 'queue-timeout' ? this.queue.length : 0;
    const s = kind === 'mode' ? base : this.holds.retryAfter(ahead, base, base * 4);
    return jitteredRetryAfter(s);
  }

  private async handleGated(
    req: IncomingMessage,
    res: ServerResponse,
    family: EndpointFamily,
    key: string,
    target: string,
  ): Promise<void> {
    const received = this.now();
    const read = await readBody(req, this.config.maxBodyBytes, BODY_IDLE_MS);
    if (!read.ok) {
      if (read.status === 413)
        this.refused({
          endpoint: key,
          decision: 'refuse',
          status: 413,
          reason: read.message,
          reasonKind: 'body-too-large',
        });
      if (read.status !== 413 && read.aborted) return void res.destroy();
      this.sendError(
        res,
        family,
        read.status === 413 ? 'payload_too_large' : 'invalid_request',
        read.message,
        {
          status: read.status,
          close: true,
        },
      );
      req.resume();
      return;
    }
    const parsed = parseJsonBody(read.body, JSON_LIMITS);
    if (!parsed.ok) {
      this.refused({
        endpoint: key,
        decision: 'refuse',
        status: 400,
        reason: parsed.message,
        reasonKind: 'bad-body',
      });
      return this.sendError(res, family, 'invalid_request', `request body refused: ${parsed.message}`, {
        param: 'body',
      });
    }
    const facts = family.facts(parsed.value);
    if (!facts.ok) {
      this.refused({
        endpoint: key,
        decision: 'refuse',
        status: 400,
        reason: facts.message,
        reasonKind: 'bad-body',
      });
      return this.sendError(res, family, 'invalid_request', facts.message, { param: facts.param });
    }
    const { model, promptTokens, maxTokens } = facts.facts;
    const kv = this.kvPerToken(model);
    const request = { promptTokens, maxTokens, promptParam: PROMPT_PARAM[key] ?? 'messages' };
    const base = {
      endpoint: key,
      model,
      nodeShare: kv.share,
      promptTokensEstimated: promptTokens,
      images: facts.facts.images,
      stream: facts.facts.stream,
      maxTokens: maxTokens ?? EXO_DEFAULT_MAX_TOKENS,
      maxTokensDefaulted: maxTokens === null,
      concurrencyAtAdmission: this.inFlight.length,
    };
    const ctx = (turn: boolean) => ({
      level: this.view.level,
      mode: this.view.mode,
      modeSource: this.view.modeSource,
      hold: this.view.hold,
      contextCap: this.config.contextCap,
      modelContext: kv.contextLength,
      kvPerToken: kv.perToken,
      headroomBytes: this.headroom(),
      // A request given its turn holds the slot: it is judged on everything but the queue.
      inFlight: turn ? 0 : this.busy,
      queued: turn ? 0 : this.queue.length,
      queueMax: this.config.queue.max,
    });
    let d = decideAdmission(ctx(false), request);
    let queuedMs = 0;
    let turn = false;
    if (d.decision === 'queue') {
      const left = new AbortController();
      const onClose = (): void => left.abort();
      res.once('close', onClose);
      const t = this.now();
      const outcome = await this.queue.wait(left.signal);
      res.off('close', onClose);
      queuedMs = this.now() - t;
      this.metrics.queueWait(queuedMs / 1000);
      turn = outcome === 'turn';
      if (!turn || res.destroyed) {
        if (turn) {
          // Given a turn after it left: pass the slot on at once.
          this.woken--;
          this.drainQueue();
        }
        if (outcome === 'left' || res.destroyed) {
          this.log.record({
            ...base,
            decision: 'refuse',
            status: 499,
            reason: `the client left after ${queuedMs} ms in the queue`,
            reasonKind: 'client-left',
            queuedMs,
          });
          return;
        }
        const reasonKind: RefusalKind = outcome === 'timeout' ? 'queue-timeout' : 'mode';
        const now = decideAdmission(ctx(true), request);
        const message =
          outcome === 'timeout'
            ? `waited ${Math.round(queuedMs / 1000)} s in the serialise queue without a turn (the limit is ${this.config.queue.timeoutSeconds} s)`
            : `refused while queued: ${now.decision === 'refuse' ? now.message : 'the guard stopped admitting requests'}`;
        this.refused({ ...base, decision: 'refuse', status: 503, reason: message, reasonKind, queuedMs });
        return this.sendError(res, family, 'overloaded', message, {
          retryAfter: this.retryAfter(reasonKind),
        });
      }
      this.woken--;
      d = decideAdmission(ctx(true), request);
      if (d.decision === 'queue') d = { decision: 'admit', tokens: d.tokens, kvBytes: d.kvBytes };
    }
    if (d.decision === 'refuse') {
      this.refused({
        ...base,
        decision: 'refuse',
        status: d.status,
        reason: d.message,
        reasonKind: d.reasonKind,
        kvBytesEstimated: d.kvBytes,
        queuedMs,
        durationMs: this.now() - received,
      });
      if (turn) this.drainQueue();
      return this.sendError(res, family, d.kind, d.message, {
        status: d.status,
        param: d.param,
        retryAfter: d.status === 503 ? this.retryAfter(d.reasonKind) : null,
      });
    }
    this.admit(req, res, family, target, read.body, d.kvBytes, {
      base,
      received,
      queuedMs,
      maxTokens,
      kv,
    });
  }

  private admit(
    req: IncomingMessage,
    res: ServerResponse,
    family: EndpointFamily,
    target: string,
    body: Buffer,
    kvBytes: number | null,
    m: {
      base: Record<string, unknown> & { endpoint: string };
      received: number;
      queuedMs: number;
      maxTokens: number | null;
      kv: { contextLength: number | null };
    },
  ): void {
    const entry: InFlight = { id: this.nextId++, startedAt: this.now(), kvBytes, cancel: () => {} };
    this.inFlight.push(entry);
    const cap = Math.min(
      this.config.contextCap ?? Number.POSITIVE_INFINITY,
      m.kv.contextLength ?? Number.POSITIVE_INFINITY,
    );
    const max = m.maxTokens ?? EXO_DEFAULT_MAX_TOKENS;
    let cancelled: { status: number; reason: string } | null = null;
    let handle: PipeHandle | null = null;
    entry.cancel = (status, reason) => {
      if (cancelled) return;
      cancelled = { status, reason };
      handle?.cancel(status, reason);
    };
    handle = this.pipe(
      req,
      res,
      target,
      {
        body,
        family,
        onPrefill: (total) => {
          if (total + max > cap)
            entry.cancel(
              400,
              `the real prompt is ${total} tokens: with max_tokens ${max} it exceeds the context cap of ${cap} tokens`,
            );
        },
      },
      (status, outcome, observer) => {
        const i = this.inFlight.indexOf(entry);
        if (i >= 0) this.inFlight.splice(i, 1);
        if (outcome === 'completed') this.holds.observe(this.now() - entry.startedAt);
        this.drainQueue();
        const reason =
          cancelled?.reason ??
          (outcome === 'client-left'
            ? 'client disconnected'
            : outcome === 'upstream-error'
              ? 'EXO failed mid-request'
              : 'admitted');
        this.log.record({
          ...m.base,
          decision: cancelled ? 'cancelled' : 'admit',
          // The HTTP status the client got (200 when the cancel came mid-stream), and the cancel's own.
          status,
          cancelStatus: cancelled?.status ?? null,
          reason,
          reasonKind: cancelled ? (cancelled.status === 400 ? 'context' : 'mode') : outcome,
          kvBytesEstimated: kvBytes,
          promptTokensReal: observer?.facts.promptTokens ?? null,
          peakMemoryBytes: observer?.facts.peakMemoryBytes ?? null,
          commandId: observer?.facts.commandId ?? null,
          upstreamError: observer?.facts.error ?? null,
          queuedMs: m.queuedMs,
          durationMs: this.now() - m.received,
        });
      },
    );
  }

  /** Forwards a request (gated: its body already read and measured) and streams the answer back. */
  private pipe(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    gated: {
      body: Buffer;
      family: EndpointFamily;
      onPrefill: (total: number, processed: number) => void;
    } | null,
    onDone: (status: number, outcome: PipeOutcome, observer: PipeHandle['observer']) => void,
  ): PipeHandle {
    const family = gated?.family ?? null;
    return pipeUpstream(
      {
        upstream: this.upstream,
        method: req.method ?? 'GET',
        target,
        headers: this.forwardHeaders(req, gated !== null),
        body: gated
          ? gated.body
          : req.method === 'GET' || req.method === 'HEAD' || !req.readable
            ? null
            : req,
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
          this.sendError(
            res,
            family,
            status === 502
              ? 'upstream_unavailable'
              : status === 400
                ? 'context_length_exceeded'
                : 'overloaded',
            message,
            {
              status,
              param: status === 400 ? (PROMPT_PARAM[target.split('?')[0]!] ?? 'messages') : null,
              retryAfter: status === 503 ? this.retryAfter('mode') : null,
            },
          ),
        onDone,
      },
      (id) => this.cancelUpstream(id),
    );
  }

  /** EXO's own cancel lever (only on the node whose API took the request: this one). */
  private cancelUpstream(commandId: string): void {
    const { url, agent } = this.upstream;
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = request({
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (url.protocol === 'https:' ? 443 : 80),
      method: 'POST',
      path: `/v1/cancel/${encodeURIComponent(commandId)}`,
      agent: agent as HttpAgent,
    });
    r.on('error', () => {});
    r.on('response', (x) => x.resume());
    r.end();
  }
}
