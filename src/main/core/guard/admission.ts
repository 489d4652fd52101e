import type { GuardMode, PostPanicHold, RiskLevel } from '../../../shared/risk.js';
import { formatBytes } from '../util/format.js';

/** EXO's max_tokens when a request gives none (mlx/constants.py). */
export const EXO_DEFAULT_MAX_TOKENS = 32168;

export interface AdmissionContext {
  level: RiskLevel;
  mode: GuardMode;
  hold: PostPanicHold | null;
  /** The configured cap, tokens (prompt + max_tokens). */
  contextCap: number | null;
  /** The model's own context length from its card. */
  modelContext: number | null;
  /** KV bytes one token adds on this node (its share), when the model is known. */
  kvPerToken: number | null;
  /** Room left under the Metal ceiling after what admitted requests may still add; null when unknown. */
  headroomBytes: number | null;
  inFlight: number;
  queued: number;
  queueMax: number;
}

export interface RequestFacts {
  promptTokens: number;
  maxTokens: number | null;
}

export type Decision =
  | { decision: 'admit'; tokens: number; kvBytes: number | null }
  | { decision: 'queue'; tokens: number; kvBytes: number | null }
  | {
      decision: 'refuse';
      status: 413 | 503;
      kind: 'context_length_exceeded' | 'overloaded';
      message: string;
      tokens: number;
      kvBytes: number | null;
    };

/**
 * Whether a generation request may reach EXO now. Too big is refused first (413, whatever the level);
 * then a raised level or a refusing mode gives 503; serialise queues behind the one in flight.
 */
export function decideAdmission(ctx: AdmissionContext, req: RequestFacts): Decision {
  const max = req.maxTokens ?? EXO_DEFAULT_MAX_TOKENS;
  const tokens = req.promptTokens + max;
  const kvBytes = ctx.kvPerToken !== null ? Math.round(tokens * ctx.kvPerToken) : null;
  const caps = [ctx.contextCap, ctx.modelContext].filter((c): c is number => c !== null);
  const cap = caps.length ? Math.min(...caps) : null;
  const maxText =
    req.maxTokens === null ? `max_tokens ${max} (EXO's default when none is given)` : `max_tokens ${max}`;
  if (cap !== null && tokens > cap) {
    return {
      decision: 'refuse',
      status: 413,
      kind: 'context_length_exceeded',
      message: `prompt ≈${req.promptTokens} tokens (estimated) + ${maxText} = ${tokens} tokens exceeds the context cap of ${cap} tokens${ctx.contextCap !== null && cap === ctx.contextCap ? ' set by exo-sentinel' : " (the model's context length)"}`,
      tokens,
      kvBytes,
    };
  }
  if (kvBytes !== null && ctx.headroomBytes !== null && kvBytes > ctx.headroomBytes) {
    return {
      decision: 'refuse',
      status: 413,
      kind: 'context_length_exceeded',
      message: `prompt ≈${req.promptTokens} tokens + ${maxText} would need ≈${formatBytes(kvBytes)} of KV cache on this node; ${formatBytes(ctx.headroomBytes)} is left under the Metal ceiling`,
      tokens,
      kvBytes,
    };
  }
  if (
    ctx.level === 'high' ||
    ctx.level === 'critical' ||
    ctx.mode === 'refuse-new' ||
    ctx.mode === 'cancel-newest'
  ) {
    return {
      decision: 'refuse',
      status: 503,
      kind: 'overloaded',
      message: `EXO is at risk level ${ctx.level} (guard ${ctx.mode}): new requests are refused until memory recovers`,
      tokens,
      kvBytes,
    };
  }
  if (ctx.mode === 'serialise' && ctx.inFlight > 0) {
    if (ctx.queued >= ctx.queueMax) {
      return {
        decision: 'refuse',
        status: 503,
        kind: 'overloaded',
        message: `requests are serialised and the queue is full (${ctx.queueMax})`,
        tokens,
        kvBytes,
      };
    }
    return { decision: 'queue', tokens, kvBytes };
  }
  return { decision: 'admit', tokens, kvBytes };
}

export interface LoadContext {
  level: RiskLevel;
  hold: PostPanicHold | null;
  lastLoadOrUnload: number | null;
  now: number;
  cooldownSeconds: number;
}

/** Whether a model load (POST /instance, /place_instance) may reach EXO now. */
export function decideLoad(
  ctx: LoadContext,
): { ok: true } | { ok: false; status: 409 | 503; message: string; retryAfter: number | null } {
  if (ctx.hold) {
    return {
      ok: false,
      status: 409,
      message: `model loads are refused during the post-panic hold (${ctx.hold.reason}); acknowledge it with \`exo-sentinel ack\``,
      retryAfter: null,
    };
  }
  if (ctx.level === 'high' || ctx.level === 'critical') {
    return {
      ok: false,
      status: 503,
      message: `model loads are refused at risk level ${ctx.level}`,
      retryAfter: 60,
    };
  }
  if (ctx.lastLoadOrUnload !== null) {
    const wait = ctx.lastLoadOrUnload + ctx.cooldownSeconds * 1000 - ctx.now;
    if (wait > 0) {
      return {
        ok: false,
        status: 503,
        message: `model loads are refused for ${ctx.cooldownSeconds} s after the last load or unload (back-to-back loads are a reported trigger); ${Math.ceil(wait / 1000)} s left`,
        retryAfter: Math.ceil(wait / 1000),
      };
    }
  }
  return { ok: true };
}

/** Retry-After with ±20 % jitter, so refused clients do not come back in step. */
export const jitteredRetryAfter = (base: number, random: () => number = Math.random): number =>
  Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
