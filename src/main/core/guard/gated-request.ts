import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AdmissionContext,
  decideAdmission,
  EXO_DEFAULT_MAX_TOKENS,
  queueShare,
  type RefusalKind,
  type RequestFacts,
  wakeHoldRetryAfter,
} from './admission.js';
import type { QueueOutcome } from './admission-queue.js';
import type { AllocationLog, GuardRecord } from './allocation-log.js';
import type { Capacity } from './capacity.js';
import {
  type GatedFamily,
  type ImageFacts,
  isImageFamily,
  type PromptFacts,
} from './endpoints/endpoint-family.js';
import { sendError } from './error-response.js';
import type { GuardConfig } from './guard-config.js';
import type { GuardMetricsSink, GuardView } from './guard-view.js';
import { DEFAULT_JSON_BODY_LIMITS, parseJsonBody } from './json-body.js';
import { type NodeKv, nodeKv } from './node-kv.js';
import { type BodyBudget, type BodyRead, readBody } from './request-reader.js';
import type { PipeHandle, PipeOutcome } from './upstream-pipe.js';

/** The request field that carries the prompt, for the `param` of a context error. */
export const PROMPT_PARAM: Record<string, string> = {
  '/v1/responses': 'input',
  '/ollama/api/generate': 'prompt',
};
const BODY_IDLE_MS = 30_000;
const NO_KV: NodeKv = { perToken: null, contextLength: null, share: null };

export interface GatedDeps {
  config: GuardConfig;
  view: () => GuardView;
  capacity: Capacity;
  log: AllocationLog;
  metrics: GuardMetricsSink;
  exoHomeDir: string | null;
  now: () => number;
  /** The bytes all bodies held at once may take (read, queued or being sent). */
  budget: BodyBudget;
  /** The body of this request when it was read ahead, while it waited behind another on its connection. */
  bodyReadAhead?: (req: IncomingMessage) => Promise<BodyRead> | null;
  /** Forwards the measured body upstream and streams the answer back (see upstream-pipe). */
  forward: (
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    gated: { body: Buffer; family: GatedFamily; onPrefill: (total: number) => void },
    onDone: (status: number, outcome: PipeOutcome, observer: PipeHandle['observer']) => void,
  ) => PipeHandle;
}

/** A gated request's body, read within the guard's limits (its bytes taken from `budget` while held). */
export const readGatedBody = (
  req: IncomingMessage,
  config: GuardConfig,
  budget: BodyBudget,
): Promise<BodyRead> => readBody(req, config.maxBodyBytes, BODY_IDLE_MS, undefined, budget);

/** What a gated body says: a prompt's estimate, or (images) only what the log shows. */
type BodyFacts =
  | { body: Buffer; prompt: PromptFacts; image: null }
  | { body: Buffer; prompt: null; image: ImageFacts };

/**
 * One gated generation request: read within limits, measured, judged (queued if need be), then admitted.
 * An image request is read within the same limits but not measured: it is judged on the mode and the queue.
 */
export class GatedRequest {
  private readonly received: number;
  /** Who sent it, for the queue's share and turns: its address (an IPv4 client over IPv6 as IPv4). */
  private readonly client: string;
  /**
   * Clients that sent a generation request in the last 10 minutes, this one included: counted when it is
   * first judged (read and measured), so a request refused before (a 400) counts no client.
   */
  private clients = 1;
  private queuedMs = 0;
  private held = 0;

  constructor(
    private readonly d: GatedDeps,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly family: GatedFamily,
    private readonly key: string,
    private readonly target: string,
  ) {
    this.received = d.now();
    this.client = (req.socket?.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  }

  /** A refusing mode of the sleep/wake hold ends at a known time: Retry-After says when. */
  private retryAfter(kind: RefusalKind): number {
    const v = this.d.view();
    if (kind === 'mode' && v.modeSource === 'wake-hold' && v.wakeHold)
      return wakeHoldRetryAfter(v.wakeHold, this.d.now(), this.d.config.retryAfterSeconds);
    return this.d.capacity.retryAfter(kind, this.d.config.retryAfterSeconds);
  }

  private refused(r: GuardRecord): void {
    this.d.metrics.refused(r.reasonKind);
    this.d.log.record(r);
  }

  private ctx(kv: NodeKv, turn: boolean): AdmissionContext {
    const v = this.d.view();
    const c = this.d.capacity;
    return {
      level: v.level,
      mode: v.mode,
      modeSource: v.modeSource,
      hold: v.hold,
      wakeHold: v.wakeHold ?? null,
      contextCap: this.d.config.contextCap,
      modelContext: kv.contextLength,
      kvPerToken: kv.perToken,
      headroomBytes: c.headroom(v.sample),
      // A request given its turn holds the slot: it is judged on everything but the queue.
      inFlight: turn ? 0 : c.busy,
      queued: turn ? 0 : c.queued,
      queuedByClient: turn ? 0 : c.queuedBy(this.client),
      queueMax: this.d.config.queue.max,
      clientShare: queueShare(this.d.config.queue.max, this.clients),
      mostQueuedByOther: turn ? 0 : c.mostQueuedBesides(this.client),
    };
  }

  /** Reads and parses the body; answers the error itself and returns null when it cannot. */
  private async facts(): Promise<BodyFacts | null> {
    const { req, res, family, key } = this;
    const read = await (this.d.bodyReadAhead?.(req) ?? readGatedBody(req, this.d.config, this.d.budget));
    if (read.ok) this.held = read.body.length;
    if (!read.ok && read.status === 503) {
      this.refused({
        endpoint: key,
        decision: 'refuse',
        status: 503,
        reason: read.message,
        reasonKind: 'body-budget',
      });
      sendError(res, family, 'overloaded', read.message, { retryAfter: 1, close: true });
      req.resume();
      return null;
    }
    if (!read.ok) {
      if (read.status === 413)
        this.refused({
          endpoint: key,
          decision: 'refuse',
          status: 413,
          reason: read.message,
          reasonKind: 'body-too-large',
        });
      if ('aborted' in read && read.aborted) res.destroy();
      else {
        sendError(res, family, read.status === 413 ? 'payload_too_large' : 'invalid_request', read.message, {
          status: read.status,
          close: true,
        });
        req.resume();
      }
      return null;
    }
    if (isImageFamily(family)) {
      // Edits are multipart (the image itself): held within the body caps above, never parsed. A JSON body
      // is read for the log only; one that is not JSON goes on for EXO to refuse (422), it allocates nothing.
      const multipart = /^multipart\//i.test(String(req.headers['content-type'] ?? ''));
      const parsed = multipart ? null : parseJsonBody(read.body, DEFAULT_JSON_BODY_LIMITS);
      return {
        body: read.body,
        prompt: null,
        image: family.describe(parsed?.ok ? parsed.value : null, key),
      };
    }
    const parsed = parseJsonBody(read.body, DEFAULT_JSON_BODY_LIMITS);
    const facts = parsed.ok ? family.facts(parsed.value) : null;
    if (!parsed.ok || !facts?.ok) {
      const message = parsed.ok
        ? (facts as { message: string }).message
        : `request body refused: ${parsed.message}`;
      const param = parsed.ok ? (facts as { param: string }).param : 'body';
      this.refused({
        endpoint: key,
        decision: 'refuse',
        status: 400,
        reason: message,
        reasonKind: 'bad-body',
      });
      sendError(res, family, 'invalid_request', message, { param });
      return null;
    }
    return { body: read.body, prompt: facts.facts, image: null };
  }

  /** The body's bytes go back to the shared budget (once). */
  private release(): void {
    this.d.budget.give(this.held);
    this.held = 0;
  }

  async run(): Promise<void> {
    let admitted = false;
    try {
      admitted = await this.judge();
    } finally {
      if (!admitted) this.release();
    }
  }

  /** True when the request was admitted (its body is then released when the answer ends). */
  private async judge(): Promise<boolean> {
    const got = await this.facts();
    if (!got) return false;
    const p = got.prompt;
    const model = p ? p.model : got.image.model;
    // An image model has no KV geometry: nothing is looked up for it.
    const kv = p ? nodeKv(this.d.view().exo, model, this.d.exoHomeDir) : NO_KV;
    const request: RequestFacts | null = p
      ? {
          promptTokens: p.promptTokens,
          maxTokens: p.maxTokens,
          promptParam: PROMPT_PARAM[this.key] ?? 'messages',
        }
      : null;
    const base = {
      endpoint: this.key,
      model,
      nodeShare: kv.share,
      ...(p
        ? {
            promptTokensEstimated: p.promptTokens,
            maxTokens: p.maxTokens ?? EXO_DEFAULT_MAX_TOKENS,
            maxTokensDefaulted: p.maxTokens === null,
          }
        : {}),
      images: p ? p.images : got.image.images,
      stream: p ? p.stream : got.image.stream,
      concurrencyAtAdmission: this.d.capacity.inFlight.length,
    };
    this.clients = this.d.capacity.seen(this.client);
    let d = decideAdmission(this.ctx(kv, false), request);
    let turn = false;
    if (d.decision === 'queue') {
      if (d.displace) this.d.capacity.displaceFor(this.client);
      const outcome = await this.waitTurn();
      if (outcome !== 'turn') {
        this.leftQueue(outcome, kv, request, base);
        return false;
      }
      turn = true;
      d = decideAdmission(this.ctx(kv, true), request);
    }
    if (d.decision === 'refuse') {
      if (turn) this.d.capacity.pass(this.d.view().mode);
      this.refused({
        ...base,
        decision: 'refuse',
        status: d.status,
        reason: d.message,
        reasonKind: d.reasonKind,
        kvBytesEstimated: d.kvBytes,
        queuedMs: this.queuedMs,
        durationMs: this.d.now() - this.received,
      });
      sendError(this.res, this.family, d.kind, d.message, {
        status: d.status,
        param: d.param,
        retryAfter: d.status === 503 ? this.retryAfter(d.reasonKind) : null,
      });
      return false;
    }
    this.admit(got.body, d.kvBytes, turn, kv, request, base);
    return true;
  }

  /** Waits in the serialise queue; a client that leaves takes its entry with it at once. */
  private async waitTurn(): Promise<QueueOutcome> {
    const left = new AbortController();
    const onClose = (): void => left.abort();
    // A pipelined request of a client that left never sees its response close: its socket's close counts.
    const socket = this.req.socket;
    this.res.once('close', onClose);
    socket?.once('close', onClose);
    const t = this.d.now();
    let outcome = await this.d.capacity.wait(left.signal, this.client);
    this.res.off('close', onClose);
    socket?.off('close', onClose);
    this.queuedMs = this.d.now() - t;
    this.d.metrics.queueWait(this.queuedMs / 1000);
    if (outcome === 'turn' && (this.res.destroyed || this.req.socket?.destroyed)) {
      // Given a turn just as it left: pass the slot on at once.
      this.d.capacity.pass(this.d.view().mode);
      outcome = 'left';
    }
    return outcome;
  }

  private leftQueue(
    outcome: 'timeout' | 'left' | 'refused' | 'displaced',
    kv: NodeKv,
    request: RequestFacts | null,
    base: Record<string, unknown> & { endpoint: string },
  ): void {
    if (outcome === 'left') {
      this.d.log.record({
        ...base,
        decision: 'refuse',
        status: 499,
        reason: `the client left after ${this.queuedMs} ms in the queue`,
        reasonKind: 'client-left',
        queuedMs: this.queuedMs,
      });
      return;
    }
    const now = decideAdmission(this.ctx(kv, true), request);
    const reasonKind: RefusalKind =
      outcome === 'timeout' ? 'queue-timeout' : outcome === 'displaced' ? 'queue-full' : 'mode';
    const message =
      outcome === 'timeout'
        ? `waited ${Math.round(this.queuedMs / 1000)} s in the serialise queue without a turn (the limit is ${this.d.config.queue.timeoutSeconds} s)`
        : outcome === 'displaced'
          ? `the queue is full and this client held more than its share of its ${this.d.config.queue.max} places while other clients use the guard: its newest request gave its place to another client's`
          : `refused while queued: ${now.decision === 'refuse' ? now.message : 'the guard stopped admitting requests'}`;
    this.refused({
      ...base,
      decision: 'refuse',
      status: 503,
      reason: message,
      reasonKind,
      queuedMs: this.queuedMs,
    });
    sendError(this.res, this.family, 'overloaded', message, {
      retryAfter: this.retryAfter(reasonKind),
    });
  }

  private admit(
    body: Buffer,
    kvBytes: number | null,
    fromQueue: boolean,
    kv: NodeKv,
    request: RequestFacts | null,
    base: Record<string, unknown> & { endpoint: string },
  ): void {
    const entry = this.d.capacity.start(kvBytes, fromQueue);
    const maxTokens = request?.maxTokens ?? null;
    const cap = Math.min(
      this.d.config.contextCap ?? Number.POSITIVE_INFINITY,
      kv.contextLength ?? Number.POSITIVE_INFINITY,
    );
    const max = maxTokens ?? EXO_DEFAULT_MAX_TOKENS;
    let cancelled: { status: number; reason: string } | null = null;
    let handle: PipeHandle | null = null;
    entry.cancel = (status, reason) => {
      if (cancelled) return;
      cancelled = { status, reason };
      handle?.cancel(status, reason);
    };
    const onPrefill = (total: number): void => {
      // An image stream carries no prefill progress; were one to arrive, there is no cap to hold it to.
      if (request !== null && total + max > cap)
        entry.cancel(
          400,
          `the real prompt is ${total} tokens: with max_tokens ${max} it exceeds the context cap of ${cap} tokens`,
        );
    };
    handle = this.d.forward(
      this.req,
      this.res,
      this.target,
      { body, family: this.family, onPrefill },
      (status, outcome, observer) => {
        this.release();
        this.d.capacity.finish(entry, outcome === 'completed', this.d.view().mode);
        const c = cancelled as { status: number; reason: string } | null;
        this.d.log.record({
          ...base,
          decision: c ? 'cancelled' : 'admit',
          // The HTTP status the client got (200 when the cancel came mid-stream), and the cancel's own.
          status,
          cancelStatus: c?.status ?? null,
          reason:
            c?.reason ??
            (outcome === 'client-left'
              ? 'client disconnected'
              : outcome === 'client-stalled'
                ? `the client took nothing of the answer for ${this.d.config.upstreamIdleSeconds} s in all (dropped, cancelled in EXO)`
                : outcome === 'upstream-error'
                  ? 'EXO failed mid-request'
                  : 'admitted'),
          reasonKind: c ? (c.status === 400 ? 'context' : 'mode') : outcome,
          kvBytesEstimated: kvBytes,
          promptTokensReal: observer?.facts.promptTokens ?? null,
          peakMemoryBytes: observer?.facts.peakMemoryBytes ?? null,
          commandId: observer?.facts.commandId ?? null,
          upstreamError: observer?.facts.error ?? null,
          queuedMs: this.queuedMs,
          durationMs: this.d.now() - this.received,
        });
      },
    );
  }
}
