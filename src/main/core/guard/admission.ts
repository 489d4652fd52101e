import type { GuardMode, PostPanicHold, RiskLevel } from '../../../shared/risk.js';
import type { ModeSource, WakeHoldView } from '../../../shared/status-view.js';
import { formatBytes } from '../util/format.js';
import type { LoadRoute } from './load-route.js';

/** EXO's max_tokens when a request gives none (mlx/constants.py). */
export const EXO_DEFAULT_MAX_TOKENS = 32168;

/** Who chose the guard's mode, and the sleep/wake hold as the guard sees it (wire types in shared). */
export type { ModeSource, WakeHoldView };

export interface AdmissionContext {
  level: RiskLevel;
  mode: GuardMode;
  modeSource: ModeSource;
  hold: PostPanicHold | null;
  wakeHold?: WakeHoldView | null;
  /** The configured cap, tokens (prompt + max_tokens). */
  contextCap: number | null;
  /** The model's own context length from its card. */
  modelContext: number | null;
  /** KV bytes one token adds on this node (its share), when the model is known. */
  kvPerToken: number | null;
  /** Room left under the Metal ceiling after what admitted requests may still add; null when unknown. */
  headroomBytes: number | null;
  /** Requests running or given a turn. */
  inFlight: number;
  queued: number;
  /** Of `queued`, those from this request's client (its address). */
  queuedByClient: number;
  queueMax: number;
  /** The places one client may hold: all of them, or its share while others use the guard (`queueShare`). */
  clientShare: number;
  /** The most requests one other client has waiting: over its share, a full queue gives up one of them. */
  mostQueuedByOther: number;
}

/**
 * The places of the serialise queue one client (one address) may hold: all of them while it is the only one
 * to use the guard (the usual loopback set-up), else an equal part (at least one) for each client that used
 * it in the last 10 minutes: two addresses of one sender get two parts, never the whole queue.
 */
export const queueShare = (queueMax: number, clients: number): number =>
  clients > 1 ? Math.max(1, Math.floor(queueMax / clients)) : queueMax;

export interface RequestFacts {
  promptTokens: number;
  maxTokens: number | null;
  /** The request field that carries the prompt (`messages`, `input`, `prompt`), for the error's `param`. */
  promptParam: string;
}

/** Why a request was refused: the refusal metric's label and the allocation log's aggregation key. */
export type RefusalKind = 'context' | 'kv-headroom' | 'mode' | 'queue-full' | 'queue-timeout';

export type Decision =
  | { decision: 'admit'; tokens: number | null; kvBytes: number | null }
  | {
      decision: 'queue';
      tokens: number | null;
      kvBytes: number | null;
      /** The queue is full: the newest request of a client over its share gives up its place for this one. */
      displace?: true;
    }
  | {
      decision: 'refuse';
      /** 400: the request can never fit (do not retry as is); 503: capacity, retry after Retry-After. */
      status: 400 | 503;
      kind: 'context_length_exceeded' | 'overloaded';
      reasonKind: RefusalKind;
      param: string | null;
      message: string;
      tokens: number | null;
      kvBytes: number | null;
    };

/** Why the mode refuses, in words a person acts on: a hand pin says it is one. */
export function modeReason(
  ctx: Pick<AdmissionContext, 'mode' | 'modeSource' | 'level' | 'hold' | 'wakeHold'>,
): string {
  if (ctx.modeSource === 'pin')
    return `the guard is pinned to ${ctx.mode} by hand (\`exo-sentinel guard auto\` returns it to the risk level)`;
  if (ctx.modeSource === 'profile')
    return `the protect profile serialises requests while EXO has wired the Metal working set on this macOS build (\`exo-sentinel guard profile balanced\` leaves it to the risk level)`;
  if (ctx.modeSource === 'hold' && ctx.hold)
    return `the post-panic hold (${ctx.hold.reason}) keeps the guard in ${ctx.mode} until \`exo-sentinel ack\``;
  if (ctx.modeSource === 'wake-hold' && ctx.wakeHold) return `sleep/wake hold: ${ctx.wakeHold.reason}`;
  return `EXO is at risk level ${ctx.level} (guard ${ctx.mode}); new requests are refused until the level falls`;
}

/**
 * Whether a generation request may reach EXO now. A request that can never fit the context is refused first
 * (400, whatever the mode); one that does not fit the KV headroom left now, or that the mode refuses, gets a
 * retryable 503; serialise queues behind the one in flight. The mode alone decides (the level acts through it),
 * so a mode pinned by hand is obeyed. An image request (`req` null) has no prompt and no KV cache to
 * estimate: the context cap and the KV-headroom fit do not apply to it (no token count is made up for it);
 * the mode (and through it the holds) and the serialise queue judge it like any other.
 */
export function decideAdmission(ctx: AdmissionContext, req: RequestFacts | null): Decision {
  if (req === null) return decideOnMode(ctx, null, null);
  const max = req.maxTokens ?? EXO_DEFAULT_MAX_TOKENS;
  const tokens = req.promptTokens + max;
  const kvBytes = ctx.kvPerToken !== null ? Math.round(tokens * ctx.kvPerToken) : null;
  const caps = [ctx.contextCap, ctx.modelContext].filter((c): c is number => c !== null);
  const cap = caps.length ? Math.min(...caps) : null;
  const maxText =
    req.maxTokens === null ? `max_tokens ${max} (EXO's default when none is given)` : `max_tokens ${max}`;
  const refuse = (
    status: 400 | 503,
    reasonKind: RefusalKind,
    message: string,
  ): Extract<Decision, { decision: 'refuse' }> => ({
    decision: 'refuse',
    status,
    kind: status === 400 ? 'context_length_exceeded' : 'overloaded',
    reasonKind,
    param: status === 400 ? req.promptParam : null,
    message,
    tokens,
    kvBytes,
  });
  if (cap !== null && tokens > cap) {
    return refuse(
      400,
      'context',
      `prompt ≈${req.promptTokens} tokens (estimated) + ${maxText} = ${tokens} tokens exceeds the context cap of ${cap} tokens${ctx.contextCap !== null && cap === ctx.contextCap ? ' set by exo-sentinel' : " (the model's context length)"}; shorten the prompt or lower max_tokens`,
    );
  }
  if (ctx.mode === 'refuse-new' || ctx.mode === 'cancel-newest') return refuse(503, 'mode', modeReason(ctx));
  if (kvBytes !== null && ctx.headroomBytes !== null && kvBytes > ctx.headroomBytes) {
    return refuse(
      503,
      'kv-headroom',
      `prompt ≈${req.promptTokens} tokens + ${maxText} would need ≈${formatBytes(kvBytes)} of KV cache on this node; ${formatBytes(ctx.headroomBytes)} is left under the Metal ceiling now (retry when running requests finish, or lower max_tokens)`,
    );
  }
  return decideOnMode(ctx, tokens, kvBytes);
}

/** What the mode and the serialise queue say, once whatever depends on tokens has passed (or does not apply). */
function decideOnMode(ctx: AdmissionContext, tokens: number | null, kvBytes: number | null): Decision {
  const refuse = (reasonKind: RefusalKind, message: string): Decision => ({
    decision: 'refuse',
    status: 503,
    kind: 'overloaded',
    reasonKind,
    param: null,
    message,
    tokens,
    kvBytes,
  });
  if (ctx.mode === 'refuse-new' || ctx.mode === 'cancel-newest') return refuse('mode', modeReason(ctx));
  if (ctx.mode === 'serialise' && (ctx.inFlight > 0 || ctx.queued > 0)) {
    const why = modeReason(ctx).replace(/; new requests are refused until the level falls$/, '');
    // The share matters only once the queue is full: then a client below its part takes the place of the
    // newest request of one holding more than its own; else the queue is full for it.
    if (ctx.queued >= ctx.queueMax) {
      if (ctx.queuedByClient < ctx.clientShare && ctx.mostQueuedByOther > ctx.clientShare)
        return { decision: 'queue', tokens, kvBytes, displace: true };
      const over =
        ctx.clientShare < ctx.queueMax && ctx.queuedByClient >= ctx.clientShare
          ? `, ${ctx.queuedByClient} of them this client's: its share while other clients use the guard`
          : '';
      return refuse(
        'queue-full',
        `the queue is full (${ctx.queueMax} waiting${over}) while requests are serialised: ${why}`,
      );
    }
    return { decision: 'queue', tokens, kvBytes };
  }
  return { decision: 'admit', tokens, kvBytes };
}

export interface LoadContext extends Pick<AdmissionContext, 'mode' | 'modeSource' | 'wakeHold'> {
  level: RiskLevel;
  hold: PostPanicHold | null;
  lastLoadOrUnload: number | null;
  now: number;
  cooldownSeconds: number;
  /** What is asked, as the refusal names it: a model load (the default) or a layer rebalance. */
  kind?: LoadRoute['kind'];
}

/**
 * Whether a model load (POST /instance, /place_instance) or a layer rebalance (load-route.ts) may reach EXO now: not during the post-panic hold,
 * at a high or critical level, in a mode that refuses new requests (a hand pin, a profile or the sleep/wake
 * hold: a load allocates more than any request), or within the cool-down after the last load or unload.
 */
export function decideLoad(ctx: LoadContext):
  | { ok: true }
  | {
      ok: false;
      status: 409 | 503;
      kind: 'hold' | 'mode' | 'load-cooldown';
      message: string;
      retryAfter: number | null;
      /** Refused by the guard's mode (not the level): a sleep/wake hold's end is when to retry. */
      byMode?: true;
    } {
  const what = ctx.kind === 'rebalance' ? 'layer rebalances' : 'model loads';
  if (ctx.hold) {
    return {
      ok: false,
      status: 409,
      kind: 'hold',
      message: `${what} are refused during the post-panic hold (${ctx.hold.reason}); acknowledge it with \`exo-sentinel ack\``,
      retryAfter: null,
    };
  }
  if (ctx.level === 'high' || ctx.level === 'critical') {
    return {
      ok: false,
      status: 503,
      kind: 'mode',
      message: `${what} are refused at risk level ${ctx.level}`,
      retryAfter: 60,
    };
  }
  if (ctx.mode === 'refuse-new' || ctx.mode === 'cancel-newest') {
    return {
      ok: false,
      status: 503,
      kind: 'mode',
      message: `${what} are refused: ${modeReason({ ...ctx, hold: null })}`,
      retryAfter: 60,
      byMode: true,
    };
  }
  if (ctx.lastLoadOrUnload !== null) {
    const wait = ctx.lastLoadOrUnload + ctx.cooldownSeconds * 1000 - ctx.now;
    if (wait > 0) {
      return {
        ok: false,
        status: 503,
        kind: 'load-cooldown',
        message: `${what} are refused for ${ctx.cooldownSeconds} s after the last load or unload (back-to-back loads are a reported trigger); ${Math.ceil(wait / 1000)} s left`,
        retryAfter: Math.ceil(wait / 1000),
      };
    }
  }
  return { ok: true };
}

/**
 * Retry-After for a refusal of the sleep/wake hold: the seconds left, plus up to 20 % (never less: a client
 * that comes back early is refused again); the base while the machine still sleeps.
 */
export function wakeHoldRetryAfter(
  hold: WakeHoldView,
  now: number,
  base: number,
  random: () => number = Math.random,
): number {
  if (hold.until === null) return jitteredRetryAfter(base, random);
  const left = Math.max(1, Math.ceil((hold.until - now) / 1000));
  return left + Math.floor(left * 0.2 * random());
}

/** Retry-After with ±20 % jitter, so refused clients do not come back in step. */
export const jitteredRetryAfter = (base: number, random: () => number = Math.random): number =>
  Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
