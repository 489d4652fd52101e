import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AdmissionContext,
  decideAdmission,
  decideLoad,
  jitteredRetryAfter,
  queueShare,
} from '../../../src/main/core/guard/admission.js';
import { isLoopback, parseListen } from '../../../src/main/core/guard/guard-config.js';
import { StreamObserver } from '../../../src/main/core/guard/stream-observer.js';
import { fixture } from '../../support/fixtures.js';

const GiB = 1024 ** 3;
const ctx = (over: Partial<AdmissionContext> = {}): AdmissionContext => ({
  level: 'ok',
  mode: 'open',
  modeSource: 'level',
  hold: null,
  contextCap: null,
  modelContext: 262_144,
  kvPerToken: 33_792,
  headroomBytes: 20 * GiB,
  inFlight: 0,
  queued: 0,
  queueMax: 16,
  queuedByClient: 0,
  clientShare: 16,
  mostQueuedByOther: 0,
  ...over,
});

describe('admission decisions', () => {
  it('judges an image request (no prompt, no KV) on the mode and the queue alone', () => {
    // No cap or headroom can refuse it: nothing is estimated for it.
    const tight = { contextCap: 256, modelContext: 256, headroomBytes: 0 };
    assert.deepEqual(decideAdmission(ctx(tight), null), { decision: 'admit', tokens: null, kvBytes: null });
    for (const mode of ['refuse-new', 'cancel-newest'] as const) {
      const d = decideAdmission(ctx({ ...tight, mode, level: 'critical' }), null);
      assert.equal(d.decision, 'refuse');
      assert.ok(d.decision === 'refuse' && d.status === 503 && d.reasonKind === 'mode' && d.param === null);
    }
    assert.equal(decideAdmission(ctx({ mode: 'serialise', inFlight: 1 }), null).decision, 'queue');
    assert.equal(decideAdmission(ctx({ mode: 'serialise' }), null).decision, 'admit');
    const full = decideAdmission(ctx({ mode: 'serialise', inFlight: 1, queued: 16 }), null);
    assert.ok(full.decision === 'refuse' && full.reasonKind === 'queue-full');
  });

  it('a client holds its share of the queue while others use the guard, all of it while alone', () => {
    assert.equal(queueShare(16, 1), 16, 'alone (the usual loopback set-up): the whole queue');
    assert.equal(queueShare(16, 2), 8);
    assert.equal(
      queueShare(5, 3),
      1,
      'an equal part for each: two addresses of one sender never hold it all',
    );
    assert.equal(queueShare(16, 3), 5);
    assert.equal(queueShare(1, 2), 1, 'at least one place');
    // Room in the queue: queued whatever the share.
    const room = { mode: 'serialise' as const, inFlight: 1, queued: 8, clientShare: 8 };
    assert.equal(decideAdmission(ctx({ ...room, queuedByClient: 8 }), null).decision, 'queue');
    const atShare = decideAdmission(
      ctx({ ...room, queued: 16, queuedByClient: 8, mostQueuedByOther: 8 }),
      null,
    );
    assert.ok(atShare.decision === 'refuse' && atShare.reasonKind === 'queue-full' && atShare.status === 503);
    assert.match(
      atShare.message,
      /^the queue is full \(16 waiting, 8 of them this client's: its share while other clients use the guard\)/,
    );
    // Full, and this client is below its share while another holds more than its own: it takes a place.
    const full = { mode: 'serialise' as const, inFlight: 1, queued: 16, clientShare: 8 };
    const taken = decideAdmission(ctx({ ...full, queuedByClient: 2, mostQueuedByOther: 14 }), null);
    assert.ok(taken.decision === 'queue' && taken.displace === true);
    const fair = decideAdmission(ctx({ ...full, queuedByClient: 2, mostQueuedByOther: 8 }), null);
    assert.ok(fair.decision === 'refuse' && /the queue is full \(16 waiting\)/.test(fair.message));
    // Not serialising: the share does not apply.
    assert.equal(decideAdmission(ctx({ ...full, mode: 'open', queuedByClient: 8 }), null).decision, 'admit');
  });

  it('admits what fits, with the tokens and KV it will take', () => {
    assert.deepEqual(
      decideAdmission(ctx(), { promptTokens: 1000, maxTokens: 1000, promptParam: 'messages' }),
      {
        decision: 'admit',
        tokens: 2000,
        kvBytes: 2000 * 33_792,
      },
    );
  });

  it('counts EXO default max_tokens (32168) when none is given', () => {
    const d = decideAdmission(ctx({ contextCap: 32_768 }), {
      promptTokens: 1000,
      maxTokens: null,
      promptParam: 'messages',
    });
    assert.equal(d.decision, 'refuse');
    assert.ok(
      d.decision === 'refuse' &&
        d.status === 400 &&
        d.kind === 'context_length_exceeded' &&
        d.param === 'messages' &&
        /max_tokens 32168 \(EXO's default when none is given\) = 33168 tokens exceeds the context cap of 32768 tokens set by exo-sentinel/.test(
          d.message,
        ),
    );
  });

  it("refuses over the smaller of the configured cap and the model's context length", () => {
    const d = decideAdmission(ctx({ contextCap: null, modelContext: 8192 }), {
      promptTokens: 8000,
      maxTokens: 500,
      promptParam: 'messages',
    });
    assert.ok(
      d.decision === 'refuse' && /context cap of 8192 tokens \(the model's context length\)/.test(d.message),
    );
  });

  it('refuses with a retryable 503 when the KV would not fit under the Metal ceiling now, naming both sizes', () => {
    const d = decideAdmission(ctx({ headroomBytes: 1 * GiB }), {
      promptTokens: 40_000,
      maxTokens: 1000,
      promptParam: 'messages',
    });
    assert.ok(
      d.decision === 'refuse' &&
        d.status === 503 &&
        d.reasonKind === 'kv-headroom' &&
        d.kind === 'overloaded',
    );
    assert.match(
      d.decision === 'refuse' ? d.message : '',
      /would need ≈1\.3 GiB of KV cache on this node; 1\.0 GiB is left under the Metal ceiling/,
    );
    assert.equal(
      decideAdmission(ctx({ headroomBytes: null }), {
        promptTokens: 40_000,
        maxTokens: 1000,
        promptParam: 'messages',
      }).decision,
      'admit',
      'unknown headroom (Linux) is not a refusal',
    );
  });

  it('refuses with 503 in a refusing mode, saying who chose it; 400 still wins for a request too big', () => {
    for (const over of [
      { level: 'high' as const, mode: 'refuse-new' as const },
      { level: 'critical' as const, mode: 'cancel-newest' as const },
      { mode: 'refuse-new' as const, modeSource: 'pin' as const },
    ]) {
      const d = decideAdmission(ctx(over), { promptTokens: 10, maxTokens: 10, promptParam: 'messages' });
      assert.ok(
        d.decision === 'refuse' && d.status === 503 && d.kind === 'overloaded' && d.reasonKind === 'mode',
      );
      assert.match(d.message, over.modeSource === 'pin' ? /pinned to refuse-new by hand/ : /risk level/);
    }
    assert.equal(
      decideAdmission(ctx({ level: 'high', mode: 'open', modeSource: 'pin' }), {
        promptTokens: 10,
        maxTokens: 10,
        promptParam: 'messages',
      }).decision,
      'admit',
      'the mode decides: a pin to open is obeyed at a high level',
    );
    const big = decideAdmission(ctx({ level: 'critical', contextCap: 100 }), {
      promptTokens: 1000,
      maxTokens: 10,
      promptParam: 'messages',
    });
    assert.ok(big.decision === 'refuse' && big.status === 400);
  });

  it('queues behind the request in flight when serialising, up to the queue size', () => {
    assert.equal(
      decideAdmission(ctx({ mode: 'serialise', inFlight: 0 }), {
        promptTokens: 10,
        maxTokens: 10,
        promptParam: 'messages',
      }).decision,
      'admit',
    );
    assert.equal(
      decideAdmission(ctx({ mode: 'serialise', inFlight: 1 }), {
        promptTokens: 10,
        maxTokens: 10,
        promptParam: 'messages',
      }).decision,
      'queue',
    );
    assert.equal(
      decideAdmission(ctx({ mode: 'serialise', inFlight: 0, queued: 1 }), {
        promptTokens: 10,
        maxTokens: 10,
        promptParam: 'messages',
      }).decision,
      'queue',
      'FIFO: nobody jumps the queue while others wait',
    );
    const full = decideAdmission(ctx({ mode: 'serialise', inFlight: 1, queued: 16 }), {
      promptTokens: 10,
      maxTokens: 10,
      promptParam: 'messages',
    });
    assert.ok(
      full.decision === 'refuse' && full.status === 503 && /queue is full \(16 waiting\)/.test(full.message),
    );
  });

  it('gates model loads on the hold, the level, a refusing mode and the cool-down', () => {
    const hold = {
      since: 1,
      reportId: 2,
      kind: 'completeMemory',
      reason: 'completeMemory kernel panic (report 2)',
    };
    const base = {
      level: 'ok' as const,
      mode: 'open' as const,
      modeSource: 'level' as const,
      wakeHold: null,
      hold: null,
      lastLoadOrUnload: null,
      now: 0,
      cooldownSeconds: 120,
    };
    assert.deepEqual(decideLoad({ ...base, hold }), {
      ok: false,
      status: 409,
      kind: 'hold',
      message:
        'model loads are refused during the post-panic hold (completeMemory kernel panic (report 2)); acknowledge it with `exo-sentinel ack`',
      retryAfter: null,
    });
    assert.equal(decideLoad({ ...base, level: 'high' }).ok, false);
    // Pinned to refuse new requests by hand at level ok: a load (the largest allocation of all) is refused too.
    const pinned = decideLoad({ ...base, mode: 'refuse-new', modeSource: 'pin' });
    assert.ok(!pinned.ok && pinned.status === 503 && pinned.kind === 'mode');
    assert.match(pinned.message, /^model loads are refused: the guard is pinned to refuse-new by hand/);
    assert.equal(decideLoad({ ...base, mode: 'cancel-newest', modeSource: 'pin' }).ok, false);
    assert.equal(
      decideLoad({ ...base, mode: 'serialise', modeSource: 'pin' }).ok,
      true,
      'serialise: loads pass',
    );
    const cool = decideLoad({ ...base, lastLoadOrUnload: 100_000, now: 130_000 });
    assert.ok(
      !cool.ok && cool.kind === 'load-cooldown' && cool.retryAfter === 90 && /90 s left/.test(cool.message),
    );
    assert.deepEqual(decideLoad({ ...base, level: 'elevated', lastLoadOrUnload: 0, now: 121_000 }), {
      ok: true,
    });
  });

  it('jitters Retry-After by ±20 %', () => {
    assert.equal(
      jitteredRetryAfter(30, () => 0),
      24,
    );
    assert.equal(
      jitteredRetryAfter(30, () => 1),
      36,
    );
    assert.equal(
      jitteredRetryAfter(30, () => 0.5),
      30,
    );
  });
});

describe('the stream observer and listen addresses', () => {
  it("reads EXO's real SSE transcript (fixture): prompt size, command id, peak memory", () => {
    const api = JSON.parse(fixture('exo/api-control-and-stream.json'));
    const frames = api[
      'POST /v1/chat/completions stream=true  SSE transcript (one list item per SSE frame)'
    ] as string[];
    const seen: number[] = [];
    const o = new StreamObserver('sse', (total) => seen.push(total));
    // Fed in awkward pieces, as TCP delivers them.
    const bytes = Buffer.from(frames.map((f) => `${f}\n\n`).join(''));
    for (let i = 0; i < bytes.length; i += 37) o.push(bytes.subarray(i, i + 37));
    o.end();
    assert.deepEqual(seen, [151203, 151203]);
    assert.equal(o.facts.promptTokens, 151203);
    assert.equal(o.facts.commandId, '2b7d9e41-0c3a-4f58-b6e2-91a4c7d35e08');
    assert.ok((o.facts.peakMemoryBytes ?? 0) > 0);
    const err = new StreamObserver('sse');
    err.push(Buffer.from(`${api['SSE error frame (runner died mid-request)']}\n\n`));
    err.end();
    assert.equal(err.facts.error, 'Runner shutdown before completing command (signal=9 (Killed))');
  });

  it('parses listen addresses and knows loopback', () => {
    assert.deepEqual(parseListen('127.0.0.1:52416'), { host: '127.0.0.1', port: 52416 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.equal(parseListen('nope'), null);
    assert.equal(parseListen('1.2.3.4:99999'), null);
    assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('192.168.1.2'));
  });
});
