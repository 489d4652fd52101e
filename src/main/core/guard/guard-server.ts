import { timingSafeEqual } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TimelineEvent } from '../../../shared/events.js';
import type { GuardMode, PostPanicHold, RiskLevel } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import { geometryFor } from '../exo/in-flight-kv.js';
import { kvBytesPerToken, nodeShare } from '../exo/kv-estimator.js';
import { formatBytes } from '../util/format.js';
import { decideAdmission, decideLoad, EXO_DEFAULT_MAX_TOKENS, jitteredRetryAfter } from './admission.js';
import { type EndpointStyle, errorBody, type GatedEndpoint, gatedEndpoint } from './endpoint-styles.js';
import { type GuardConfig, isLoopback, parseListen } from './guard-config.js';
import { SseObserver } from './sse-observer.js';
import { estimateTokens } from './token-estimate.js';

/** What the guard knows of the watchdog's judgement; the daemon refreshes it every tick. */
export interface GuardView {
  level: RiskLevel;
  mode: GuardMode;
  hold: PostPanicHold | null;
  exo: ExoSnapshot | null;
  sample: Sample | null;
}

interface InFlight {
  id: number;
  startedAt: number;
  endpoint: string;
  kvBytes: number | null;
  cancel: (reason: string) => void;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authenticate',
  'proxy-authorization',
]);
const LOAD_PATHS = new Set(['/instance', '/place_instance']);

/** Raw headers minus the hop-by-hop ones (they belong to each connection, not to the message). */
function endToEnd(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2)
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/**
 * The admission-control reverse proxy in front of EXO's API. Transparent for everything it does not gate
 * (every method, path, header and body byte passes; responses, SSE included, are forwarded as they arrive).
 * Generation requests are measured and admitted, queued or refused before EXO allocates anything; model
 * loads are gated on the level, a cool-down and the post-panic hold. It forwards only to its one upstream.
 */
export class GuardServer {
  private server: Server | null = null;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly upstream: URL;
  private view: GuardView = { level: 'ok', mode: 'open', hold: null, exo: null, sample: null };
  private readonly inFlight: InFlight[] = [];
  private readonly queue: Array<{ resolve: (ok: boolean) => void; timer: NodeJS.Timeout }> = [];
  private nextId = 1;
  private lastLoadOrUnload: number | null = null;
  private cancelTimer: NodeJS.Timeout | null = null;
  address: { host: string; port: number } | null = null;

  constructor(
    private readonly config: GuardConfig,
    upstreamUrl: string,
    private readonly emit: (e: TimelineEvent) => void,
    private readonly exoHomeDir: string | null = null,
    private readonly now: () => number = Date.now,
  ) {
    this.upstream = new URL(upstreamUrl);
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
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(listen.port, listen.host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    this.address = { host: listen.host, port: a.port };
    this.cancelTimer = setInterval(() => this.enforceMode(), 1000);
    this.cancelTimer.unref();
    return this.address;
  }

  async stop(): Promise<void> {
    if (this.cancelTimer) clearInterval(this.cancelTimer);
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.timer);
      q.resolve(false);
    }
    for (const f of [...this.inFlight]) f.cancel('exo-sentinel is stopping');
    if (!this.server) return;
    await new Promise<void>((resolve) => {
      this.server!.close(() => resolve());
      this.server!.closeAllConnections();
    });
    this.agent.destroy();
  }

  /** The daemon's latest judgement. A change of mode takes effect at once. */
  update(view: Partial<GuardView>): void {
    const before = this.view.mode;
    this.view = { ...this.view, ...view };
    if (this.view.mode !== before) {
      this.enforceMode();
      this.drainQueue();
    }
  }

  get stats(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight.length, queued: this.queue.length };
  }

  /** cancel-newest: one in-flight request per second, newest first, until the mode changes. */
  private enforceMode(): void {
    if (this.view.mode !== 'cancel-newest') return;
    const newest = this.inFlight[this.inFlight.length - 1];
    newest?.cancel(`cancelled by exo-sentinel: risk level ${this.view.level}, newest request first`);
  }

  private authorised(req: IncomingMessage): boolean {
    if (!this.config.token) return true;
    const header =
      req.headers['x-exo-sentinel-token'] ?? /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const given = Buffer.from(typeof header === 'string' ? header : '');
    const want = Buffer.from(this.config.token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private sendError(
    res: ServerResponse,
    status: number,
    style: EndpointStyle,
    kind: Parameters<typeof errorBody>[1],
    message: string,
    headers: Record<string, string> = {},
  ): void {
    if (res.headersSent) return void res.end();
    const body = JSON.stringify(errorBody(style, kind, message));
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    if (req.method === 'CONNECT' || !raw.startsWith('/')) {
      return this.sendError(
        res,
        req.method === 'CONNECT' ? 405 : 400,
        'openai',
        'forbidden',
        `exo-sentinel's guard forwards only to ${this.upstream.origin}; absolute URLs and CONNECT are refused`,
      );
    }
    const path = raw.split('?')[0]!;
    const gated = gatedEndpoint(req.method ?? 'GET', path);
    const style = gated?.style ?? (path.startsWith('/ollama/') ? 'ollama' : 'openai');
    if (!this.authorised(req))
      return this.sendError(
        res,
        401,
        style,
        'unauthorized',
        'missing or wrong exo-sentinel token (send Authorization: Bearer <token>)',
      );
    if (gated) return this.handleGated(req, res, gated);
    if (req.method === 'POST' && LOAD_PATHS.has(path)) {
      const d = decideLoad({
        level: this.view.level,
        hold: this.view.hold,
        lastLoadOrUnload: this.lastLoadOrUnload,
        now: this.now(),
        cooldownSeconds: this.config.loadCooldownSeconds,
      });
      if (!d.ok) {
        this.record({ endpoint: path, decision: 'refuse', status: d.status, reason: d.message });
        return this.sendError(
          res,
          d.status,
          'openai',
          'overloaded',
          d.message,
          d.retryAfter ? { 'retry-after': String(jitteredRetryAfter(d.retryAfter)) } : {},
        );
      }
      return this.pipe(req, res, null, (status) => {
        if (status < 300) this.lastLoadOrUnload = this.now();
        this.record({ endpoint: path, decision: 'admit', status, reason: 'model load' });
      });
    }
    if (req.method === 'DELETE' && path.startsWith('/instance/')) {
      return this.pipe(req, res, null, (status) => {
        if (status < 300) this.lastLoadOrUnload = this.now();
      });
    }
    return this.pipe(req, res, null);
  }

  /** Reads a request body up to the cap; refuses larger bodies with 413 without reading them whole. */
  private readBody(req: IncomingMessage, res: ServerResponse, style: EndpointStyle): Promise<Buffer | null> {
    const limit = this.config.maxBodyBytes;
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > limit) {
      this.sendError(
        res,
        413,
        style,
        'payload_too_large',
        `request body of ${declared} bytes is over the ${limit}-byte limit`,
        { connection: 'close' },
      );
      req.destroy();
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          this.sendError(
            res,
            413,
            style,
            'payload_too_large',
            `request body is over the ${limit}-byte limit`,
            { connection: 'close' },
          );
          req.destroy();
          resolve(null);
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
      req.on('error', () => resolve(null));
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

  private waitInQueue(): Promise<boolean> {
    return new Promise((resolve) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          resolve(false);
        }, this.config.queue.timeoutSeconds * 1000),
      };
      this.queue.push(entry);
    });
  }

  /** Lets the next queued request go when nothing is in flight (serialise), or all of them when open. */
  private drainQueue(): void {
    while (
      this.queue.length > 0 &&
      (this.view.mode === 'open' || (this.view.mode === 'serialise' && this.inFlight.length === 0))
    ) {
      const next = this.queue.shift()!;
      clearTimeout(next.timer);
      next.resolve(true);
      if (this.view.mode === 'serialise') break;
    }
    if (this.view.mode === 'refuse-new' || this.view.mode === 'cancel-newest') {
      for (const q of this.queue.splice(0)) {
        clearTimeout(q.timer);
        q.resolve(false);
      }
    }
  }

  private async handleGated(req: IncomingMessage, res: ServerResponse, g: GatedEndpoint): Promise<void> {
    const received = this.now();
    const body = await this.readBody(req, res, g.style);
    if (!body) return;
    let parsed: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(body.toString('utf8'));
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      parsed = v as Record<string, unknown>;
    } catch (e) {
      return this.sendError(
        res,
        400,
        g.style,
        'invalid_request',
        `request body is not a JSON object: ${(e as Error).message}`,
      );
    }
    const model = typeof parsed['model'] === 'string' ? (parsed['model'] as string) : null;
    const promptTokens = estimateTokens(g.promptText(parsed));
    const maxTokens = g.maxTokens(parsed);
    const kv = this.kvPerToken(model);
    const base = {
      endpoint: g.path,
      model,
      nodeShare: kv.share,
      promptTokensEstimated: promptTokens,
      maxTokens: maxTokens ?? EXO_DEFAULT_MAX_TOKENS,
      maxTokensDefaulted: maxTokens === null,
      concurrencyAtAdmission: this.inFlight.length,
    };
    const ctx = () => ({
      level: this.view.level,
      mode: this.view.mode,
      hold: this.view.hold,
      contextCap: this.config.contextCap,
      modelContext: kv.contextLength,
      kvPerToken: kv.perToken,
      headroomBytes: this.headroom(),
      inFlight: this.inFlight.length,
      queued: this.queue.length,
      queueMax: this.config.queue.max,
    });
    let d = decideAdmission(ctx(), { promptTokens, maxTokens });
    let queuedMs = 0;
    if (d.decision === 'queue') {
      const t = this.now();
      const admitted = await this.waitInQueue();
      queuedMs = this.now() - t;
      if (res.destroyed) return;
      // Let out of the queue: judged again as it is now (the level may have risen meanwhile).
      const again = decideAdmission(
        { ...ctx(), inFlight: admitted ? 0 : this.inFlight.length },
        { promptTokens, maxTokens },
      );
      if (again.decision === 'refuse') d = again;
      else if (admitted) d = { decision: 'admit', tokens: again.tokens, kvBytes: again.kvBytes };
      else {
        d = {
          decision: 'refuse',
          status: 503,
          kind: 'overloaded',
          message: `waited ${Math.round(queuedMs / 1000)} s in the serialise queue without a turn`,
          tokens: d.tokens,
          kvBytes: d.kvBytes,
        };
      }
    }
    if (d.decision === 'refuse') {
      const retry: Record<string, string> =
        d.status === 503 ? { 'retry-after': String(jitteredRetryAfter(this.config.retryAfterSeconds)) } : {};
      this.record({
        ...base,
        decision: 'refuse',
        status: d.status,
        reason: d.message,
        kvBytesEstimated: d.kvBytes,
        queuedMs,
        durationMs: this.now() - received,
      });
      return this.sendError(res, d.status, g.style, d.kind, d.message, retry);
    }
    const entry: InFlight = {
      id: this.nextId++,
      startedAt: this.now(),
      endpoint: g.path,
      kvBytes: d.kvBytes,
      cancel: () => {},
    };
    this.inFlight.push(entry);
    const cap = Math.min(
      this.config.contextCap ?? Number.POSITIVE_INFINITY,
      kv.contextLength ?? Number.POSITIVE_INFINITY,
    );
    let cancelledReason: string | null = null;
    const observer = new SseObserver((total) => {
      if (total + (maxTokens ?? EXO_DEFAULT_MAX_TOKENS) > cap && cancelledReason === null) {
        entry.cancel(
          `the real prompt is ${total} tokens: with max_tokens ${maxTokens ?? EXO_DEFAULT_MAX_TOKENS} it exceeds the context cap of ${cap}`,
        );
      }
    });
    const done = (status: number): void => {
      const i = this.inFlight.indexOf(entry);
      if (i >= 0) this.inFlight.splice(i, 1);
      this.drainQueue();
      this.record({
        ...base,
        decision: cancelledReason ? 'cancelled' : 'admit',
        status,
        reason: cancelledReason ?? 'admitted',
        kvBytesEstimated: d.kvBytes,
        promptTokensReal: observer.facts.promptTokens,
        peakMemoryBytes: observer.facts.peakMemoryBytes,
        commandId: observer.facts.commandId,
        queuedMs,
        durationMs: this.now() - received,
      });
    };
    this.pipe(
      req,
      res,
      { body, observer, entry, onCancel: (r) => (cancelledReason = r), style: g.style },
      done,
    );
  }

  /**
   * Forwards a request to the upstream and streams the answer back as it arrives. With `gated`, the body
   * was read already, the SSE observer sees every chunk, and the request can be cancelled (upstream closed,
   * the client told why).
   */
  private pipe(
    req: IncomingMessage,
    res: ServerResponse,
    gated: {
      body: Buffer;
      observer: SseObserver;
      entry: InFlight;
      onCancel: (reason: string) => void;
      style: EndpointStyle;
    } | null,
    onDone: (status: number) => void = () => {},
  ): void {
    const headers = endToEnd(req.rawHeaders);
    const up = httpRequest({
      protocol: this.upstream.protocol,
      hostname: this.upstream.hostname,
      port: this.upstream.port,
      method: req.method,
      path: req.url,
      headers: headers,
      agent: this.agent,
    });
    let finished = false;
    let status = 502;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      onDone(status);
    };
    if (gated) {
      gated.entry.cancel = (reason: string) => {
        gated.onCancel(reason);
        const id = gated.observer.facts.commandId;
        if (id) this.cancelUpstream(id);
        up.destroy();
        if (!res.headersSent) this.sendError(res, 413, gated.style, 'context_length_exceeded', reason);
        else {
          res.write(`data: ${JSON.stringify(errorBody(gated.style, 'context_length_exceeded', reason))}\n\n`);
          res.end();
        }
        finish();
      };
    }
    up.on('response', (upRes) => {
      status = upRes.statusCode ?? 502;
      res.writeHead(status, upRes.statusMessage ?? '', endToEnd(upRes.rawHeaders));
      res.flushHeaders();
      upRes.on('data', (chunk: Buffer) => {
        // Forward first, then look: the frame that reveals the size reaches the client before any error frame.
        if (!res.writableEnded) res.write(chunk);
        gated?.observer.push(chunk);
      });
      upRes.on('end', () => {
        if (!res.writableEnded) res.end();
        finish();
      });
      upRes.on('error', () => {
        res.destroy();
        finish();
      });
    });
    up.on('error', (e) => {
      if (finished) return;
      if (!res.headersSent)
        this.sendError(
          res,
          502,
          gated?.style ?? 'openai',
          'overloaded',
          `EXO at ${this.upstream.origin} did not answer: ${(e as NodeJS.ErrnoException).code ?? e.message}`,
        );
      else res.destroy();
      finish();
    });
    // A client that goes away takes its upstream request with it: EXO sees the disconnect and cancels the task.
    res.on('close', () => {
      if (!res.writableFinished) {
        up.destroy();
        if (gated && !finished) gated.onCancel('client disconnected');
        finish();
      }
    });
    if (gated) up.end(gated.body);
    else req.pipe(up);
  }

  private cancelUpstream(commandId: string): void {
    const r = httpRequest({
      protocol: this.upstream.protocol,
      hostname: this.upstream.hostname,
      port: this.upstream.port,
      method: 'POST',
      path: `/v1/cancel/${encodeURIComponent(commandId)}`,
      agent: this.agent,
    });
    r.on('error', () => {});
    r.on('response', (x) => x.resume());
    r.end();
  }

  /** The allocation log: one event per gated request, never the prompt text. */
  private record(data: Record<string, unknown>): void {
    const kv =
      typeof data['kvBytesEstimated'] === 'number'
        ? ` KV ≈${formatBytes(data['kvBytesEstimated'] as number)},`
        : '';
    const tokens =
      data['promptTokensEstimated'] !== undefined
        ? ` ≈${String(data['promptTokensEstimated'])}+${String(data['maxTokens'])} tokens,`
        : '';
    this.emit({
      time: this.now(),
      kind: 'guard.request',
      severity: data['decision'] === 'admit' ? 'info' : 'warning',
      message: `${String(data['decision'])} ${String(data['endpoint'])}${data['model'] ? ` ${String(data['model'])}` : ''}:${tokens}${kv} ${String(data['status'])} — ${String(data['reason'])}`,
      data,
    });
  }
}
