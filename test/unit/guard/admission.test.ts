import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AdmissionContext,
  decideAdmission,
  decideLoad,
  jitteredRetryAfter,
} from '../../../src/main/core/guard/admission.js';
import { errorBody, GATED, gatedEndpoint } from '../../../src/main/core/guard/endpoint-styles.js';
import { isLoopback, parseListen } from '../../../src/main/core/guard/guard-config.js';
import { SseObserver } from '../../../src/main/core/guard/sse-observer.js';
import { estimateTokens } from '../../../src/main/core/guard/token-estimate.js';
import { fixture } from '../../support/fixtures.js';

const GiB = 1024 ** 3;
const ctx = (over: Partial<AdmissionContext> = {}): AdmissionContext => ({
  level: 'ok',
  mode: 'open',
  hold: null,
  contextCap: null,
  modelContext: 262_144,
  kvPerToken: 33_792,
  headroomBytes: 20 * GiB,
  inFlight: 0,
  queued: 0,
  queueMax: 16,
  ...over,
});

describe('admission decisions', () => {
  it('admits what fits, with the tokens and KV it will take', () => {
    assert.deepEqual(decideAdmission(ctx(), { promptTokens: 1000, maxTokens: 1000 }), {
      decision: 'admit',
      tokens: 2000,
      kvBytes: 2000 * 33_792,
    });
  });

  it('counts EXO default max_tokens (32168) when none is given', () => {
    const d = decideAdmission(ctx({ contextCap: 32_768 }), { promptTokens: 1000, maxTokens: null });
    assert.equal(d.decision, 'refuse');
    assert.ok(
      d.decision === 'refuse' &&
        d.status === 413 &&
        /max_tokens 32168 \(EXO's default when none is given\) = 33168 tokens exceeds the context cap of 32768 tokens set by exo-sentinel/.test(
          d.message,
        ),
    );
  });

  it("refuses over the smaller of the configured cap and the model's context length", () => {
    const d = decideAdmission(ctx({ contextCap: null, modelContext: 8192 }), {
      promptTokens: 8000,
      maxTokens: 500,
    });
    assert.ok(
      d.decision === 'refuse' && /context cap of 8192 tokens \(the model's context length\)/.test(d.message),
    );
  });

  it('refuses when the KV would not fit under the Metal ceiling, naming both sizes', () => {
    const d = decideAdmission(ctx({ headroomBytes: 1 * GiB }), { promptTokens: 40_000, maxTokens: 1000 });
    assert.ok(d.decision === 'refuse' && d.status === 413);
    assert.match(
      d.decision === 'refuse' ? d.message : '',
      /would need ≈1\.3 GiB of KV cache on this node; 1\.0 GiB is left under the Metal ceiling/,
    );
    assert.equal(
      decideAdmission(ctx({ headroomBytes: null }), { promptTokens: 40_000, maxTokens: 1000 }).decision,
      'admit',
      'unknown headroom (Linux) is not a refusal',
    );
  });

  it('refuses with 503 at high/critical or in a refusing mode; 413 still wins for a request too big', () => {
    for (const over of [
      { level: 'high' as const },
      { level: 'critical' as const },
      { mode: 'refuse-new' as const },
      { mode: 'cancel-newest' as const },
    ]) {
      const d = decideAdmission(ctx(over), { promptTokens: 10, maxTokens: 10 });
      assert.ok(d.decision === 'refuse' && d.status === 503 && d.kind === 'overloaded');
    }
    const big = decideAdmission(ctx({ level: 'critical', contextCap: 100 }), {
      promptTokens: 1000,
      maxTokens: 10,
    });
    assert.ok(big.decision === 'refuse' && big.status === 413);
  });

  it('queues behind the request in flight when serialising, up to the queue size', () => {
    assert.equal(
      decideAdmission(ctx({ mode: 'serialise', inFlight: 0 }), { promptTokens: 10, maxTokens: 10 }).decision,
      'admit',
    );
    assert.equal(
      decideAdmission(ctx({ mode: 'serialise', inFlight: 1 }), { promptTokens: 10, maxTokens: 10 }).decision,
      'queue',
    );
    const full = decideAdmission(ctx({ mode: 'serialise', inFlight: 1, queued: 16 }), {
      promptTokens: 10,
      maxTokens: 10,
    });
    assert.ok(full.decision === 'refuse' && full.status === 503 && /queue is full \(16\)/.test(full.message));
  });

  it('gates model loads on the hold, the level and the cool-down', () => {
    const hold = {
      since: 1,
      reportId: 2,
      kind: 'completeMemory',
      reason: 'completeMemory kernel panic (report 2)',
    };
    assert.deepEqual(
      decideLoad({ level: 'ok', hold, lastLoadOrUnload: null, now: 0, cooldownSeconds: 120 }),
      {
        ok: false,
        status: 409,
        message:
          'model loads are refused during the post-panic hold (completeMemory kernel panic (report 2)); acknowledge it with `exo-sentinel ack`',
        retryAfter: null,
      },
    );
    assert.equal(
      decideLoad({ level: 'high', hold: null, lastLoadOrUnload: null, now: 0, cooldownSeconds: 120 }).ok,
      false,
    );
    const cool = decideLoad({
      level: 'ok',
      hold: null,
      lastLoadOrUnload: 100_000,
      now: 130_000,
      cooldownSeconds: 120,
    });
    assert.ok(!cool.ok && cool.retryAfter === 90 && /90 s left/.test(cool.message));
    assert.deepEqual(
      decideLoad({ level: 'elevated', hold: null, lastLoadOrUnload: 0, now: 121_000, cooldownSeconds: 120 }),
      { ok: true },
    );
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

describe('endpoints, tokens and the SSE observer', () => {
  it('reads model, prompt and output limit from each gated endpoint', () => {
    const cases: Array<[string, Record<string, unknown>, string, number | null, boolean]> = [
      [
        '/v1/chat/completions',
        {
          messages: [
            { role: 'user', content: 'hi' },
            { role: 'user', content: [{ type: 'text', text: 'there' }] },
          ],
          max_completion_tokens: 5,
          stream: true,
        },
        'hi\nthere',
        5,
        true,
      ],
      [
        '/v1/responses',
        { instructions: 'be brief', input: 'hello', max_output_tokens: 7 },
        'be brief\nhello',
        7,
        false,
      ],
      [
        '/v1/messages',
        {
          system: 'sys',
          messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }],
          max_tokens: 9,
        },
        'sys\nq',
        9,
        false,
      ],
      [
        '/ollama/api/chat',
        { messages: [{ role: 'user', content: 'x' }], options: { num_predict: 3 } },
        'x',
        3,
        true,
      ],
      ['/ollama/api/generate', { prompt: 'p', stream: false }, '\np', null, false],
    ];
    for (const [path, body, text, max, stream] of cases) {
      const g = gatedEndpoint('POST', path)!;
      assert.equal(g.promptText(body), text, path);
      assert.equal(g.maxTokens(body), max, path);
      assert.equal(g.streams(body), stream, path);
    }
    assert.equal(gatedEndpoint('GET', '/v1/chat/completions'), null);
    assert.equal(GATED.length, 5);
  });

  it('spells errors in each style', () => {
    assert.deepEqual(errorBody('openai', 'context_length_exceeded', 'm'), {
      error: { message: 'm', type: 'invalid_request_error', param: null, code: 'context_length_exceeded' },
    });
    assert.deepEqual(errorBody('anthropic', 'overloaded', 'm'), {
      type: 'error',
      error: { type: 'overloaded_error', message: 'm' },
    });
    assert.deepEqual(errorBody('ollama', 'overloaded', 'm'), { error: 'm' });
  });

  it('estimates tokens upward: ASCII / 3, other characters one each', () => {
    assert.equal(estimateTokens('abcdef'), 2);
    assert.equal(estimateTokens('abcdefg'), 3);
    assert.equal(estimateTokens('日本語のテキスト'), 8);
    assert.equal(estimateTokens(''), 0);
  });

  it("reads EXO's real SSE transcript (fixture): prompt size, command id, peak memory", () => {
    const api = JSON.parse(fixture('exo/api-control-and-stream.json'));
    const frames = api[
      'POST /v1/chat/completions stream=true  SSE transcript (one list item per SSE frame)'
    ] as string[];
    const seen: number[] = [];
    const o = new SseObserver((total) => seen.push(total));
    // Fed in awkward pieces, as TCP delivers them.
    const bytes = Buffer.from(frames.map((f) => `${f}\n\n`).join(''));
    for (let i = 0; i < bytes.length; i += 37) o.push(bytes.subarray(i, i + 37));
    assert.deepEqual(seen, [151203, 151203]);
    assert.equal(o.facts.promptTokens, 151203);
    assert.equal(o.facts.commandId, '2b7d9e41-0c3a-4f58-b6e2-91a4c7d35e08');
    assert.ok((o.facts.peakMemoryBytes ?? 0) > 0);
    const err = new SseObserver();
    err.push(Buffer.from(`${api['SSE error frame (runner died mid-request)']}\n\n`));
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
