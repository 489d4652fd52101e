import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { runCli, sleep, startDaemon, startFakeExoProcess, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';

interface Streamed {
  status: number;
  headers: Headers;
  bytes: Buffer;
  firstByteAt: number;
  endAt: number;
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Streamed> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  const chunks: Buffer[] = [];
  let firstByteAt = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!firstByteAt) firstByteAt = Date.now();
    chunks.push(Buffer.from(value));
  }
  return {
    status: res.status,
    headers: res.headers,
    bytes: Buffer.concat(chunks),
    firstByteAt,
    endAt: Date.now(),
  };
}

const chatBody = (promptChars: number, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  stream: true,
  max_tokens: 8,
  messages: [{ role: 'user', content: 'a'.repeat(promptChars) }],
  ...extra,
});

const commandIdOf = (bytes: Buffer): string | null =>
  /"id":"([0-9a-f-]{36})"/.exec(bytes.toString())?.[1] ?? null;

describe('guard end to end: daemon, guard and fake EXO as real processes on loopback', () => {
  const dir = tempDir();
  let fake: Awaited<ReturnType<typeof startFakeExoProcess>>;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let guard: string;
  const dataDir = `${dir.path}/data`;
  const exoHome = `${dir.path}/exo-home`;

  before(async () => {
    fake = await startFakeExoProcess([
      '--log',
      `${exoHome}/exo_log/exo.log`,
      '--token-ms',
      '150',
      '--prefill-tps',
      '4000',
      '--max-gen',
      '40',
    ]);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({
        exo: { url: fake.url, home: exoHome },
        guard: { maxBodyBytes: 262_144, retryAfterSeconds: 30 },
        // The level-driven guard on both platforms: Linux is not an affected platform, so the default protect
        // profile acts as balanced there; on a Mac it would serialise once EXO wires (its own suite tests that).
        ...(process.platform === 'linux' ? {} : { actions: { guardProfile: 'balanced' } }),
      }),
    );
    daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--context-cap', '4000']);
    guard = daemon.guardUrl()!;
    assert.match(guard, /^http:\/\/127\.0\.0\.1:\d+$/);
    // Let the daemon see EXO's instance (the guard learns the model, its share and context length from it).
    for (let i = 0; i < 60; i++) {
      const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
      const seen = new TimelineStore(db).events(0, Date.now() + 1000, 'exo.instance-present').length > 0;
      db.close();
      if (seen) break;
      await sleep(250);
    }
    await sleep(1200);
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.stop();
    dir.cleanup();
  });

  /** Generation requests that reached the fake EXO (the daemon's own /state polling is left out). */
  const fakeRequests = async (): Promise<Array<{ method: string; path: string; size: number; at: number }>> =>
    (
      (await (await fetch(`${fake.control}/__fake/requests`)).json()) as Array<{
        method: string;
        path: string;
        size: number;
        at: number;
      }>
    ).filter((r) => r.method === 'POST' && !r.path.startsWith('/state'));

  it('passes a stream through byte for byte, comment frames included, and everything else unchanged', async () => {
    const viaGuard = await post(`${guard}/v1/chat/completions`, chatBody(2000));
    assert.equal(viaGuard.status, 200);
    assert.equal(viaGuard.headers.get('content-type'), 'text/event-stream');
    const id = commandIdOf(viaGuard.bytes)!;
    const sent = Buffer.from(await (await fetch(`${fake.control}/__fake/response/${id}`)).arrayBuffer());
    assert.ok(sent.length > 500);
    assert.ok(viaGuard.bytes.equals(sent), 'the client received exactly the bytes EXO sent');
    const text = viaGuard.bytes.toString();
    for (const frame of [
      ': keep-alive',
      ': prefill_progress {"PrefillProgressChunk"',
      ': generation_stats {',
      'data: [DONE]',
    ])
      assert.ok(text.includes(frame), frame);
    // The same request straight to EXO has the same frame sequence.
    const direct = await post(`${fake.url}/v1/chat/completions`, chatBody(2000));
    const kinds = (b: Buffer) =>
      b
        .toString()
        .split('\n\n')
        .filter(Boolean)
        .map((f) => `${f.split(' ')[0]}${f.startsWith(':') ? f.split(' ')[1] : ''}`);
    assert.deepEqual(kinds(viaGuard.bytes), kinds(direct.bytes));
    // Ungated paths: state, errors and non-JSON pass through unchanged.
    const st = await fetch(`${guard}/state/nodeIdentities`);
    assert.deepEqual(await st.json(), await (await fetch(`${fake.url}/state/nodeIdentities`)).json());
    const missing = await fetch(`${guard}/state/doesNotExist`);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: {
        message: "unable to find path 'doesNotExist' in state json",
        type: 'Not Found',
        param: null,
        code: 404,
      },
    });
  });

  it('refuses an over-cap prompt with 400 context_length_exceeded before EXO sees it, in each endpoint style', async () => {
    const before = (await fakeRequests()).length;
    const big = await post(`${guard}/v1/chat/completions`, chatBody(20_000, { max_tokens: 100 }));
    assert.equal(big.status, 400);
    const body = JSON.parse(big.bytes.toString());
    assert.equal(body.error.code, 'context_length_exceeded');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.param, 'messages');
    assert.match(
      body.error.message,
      /^prompt ≈\d+ tokens \(estimated\) \+ max_tokens 100 = \d+ tokens exceeds the context cap of 4000 tokens set by exo-sentinel; shorten the prompt or lower max_tokens$/,
    );
    const noMax = await post(`${guard}/v1/chat/completions`, {
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(noMax.status, 400, "EXO's default max_tokens (32168) counts when none is given");
    assert.match(
      JSON.parse(noMax.bytes.toString()).error.message,
      /max_tokens 32168 \(EXO's default when none is given\)/,
    );
    const anthropic = await post(`${guard}/v1/messages`, {
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'b'.repeat(20_000) }],
    });
    assert.equal(anthropic.status, 400);
    assert.deepEqual(Object.keys(JSON.parse(anthropic.bytes.toString())), ['type', 'error']);
    assert.equal(JSON.parse(anthropic.bytes.toString()).error.type, 'invalid_request_error');
    const ollama = await post(`${guard}/ollama/api/generate`, {
      model: MODEL,
      prompt: 'c'.repeat(20_000),
      options: { num_predict: 10 },
    });
    assert.equal(ollama.status, 400);
    assert.match(JSON.parse(ollama.bytes.toString()).error, /exceeds the context cap of 4000/);
    const malformed = await post(`${guard}/v1/chat/completions`, '{"model": ');
    assert.equal(malformed.status, 400);
    assert.equal(JSON.parse(malformed.bytes.toString()).error.type, 'invalid_request_error');
    const huge = await post(`${guard}/v1/chat/completions`, chatBody(300_000));
    assert.equal(huge.status, 413);
    assert.match(JSON.parse(huge.bytes.toString()).error.message, /over the 262144-byte limit/);
    assert.equal((await fakeRequests()).length, before, 'none of them reached EXO');
  });

  it('cancels a request whose real prompt (prefill_progress) breaks the cap, closing it upstream', async () => {
    const r = await post(`${guard}/v1/chat/completions`, chatBody(100), { 'x-fake-prompt-tokens': '9000' });
    assert.equal(r.status, 200);
    const text = r.bytes.toString();
    assert.match(text, /: prefill_progress .*"total_tokens":9000/);
    const last = text.trimEnd().split('\n\n').at(-1)!;
    assert.match(last, /^data: /);
    assert.deepEqual(JSON.parse(last.slice(6)).error, {
      message: 'the real prompt is 9000 tokens: with max_tokens 8 it exceeds the context cap of 4000 tokens',
      type: 'invalid_request_error',
      param: null,
      code: 'context_length_exceeded',
    });
    assert.ok(!text.includes('data: [DONE]'));
    await sleep(300);
    const cancelled = (await (await fetch(`${fake.control}/__fake/cancelled`)).json()) as string[];
    assert.ok(cancelled.length >= 1, 'EXO saw the request closed');
  });

  it('propagates a client disconnect upstream so EXO cancels the task', async () => {
    const before = ((await (await fetch(`${fake.control}/__fake/cancelled`)).json()) as string[]).length;
    const ac = new AbortController();
    const res = await fetch(`${guard}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody(400)),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    let after = before;
    for (let i = 0; i < 20 && after === before; i++) {
      await sleep(100);
      after = ((await (await fetch(`${fake.control}/__fake/cancelled`)).json()) as string[]).length;
    }
    assert.ok(after > before, 'EXO saw the connection closed and cancelled the task');
    assert.deepEqual(
      await (await fetch(`${fake.url}/state/tasks`)).json(),
      {},
      'no task left running in EXO',
    );
  });

  it('at a raised level refuses new requests with 503 and Retry-After while in-flight streams complete', async () => {
    // Two streams of ~5 s each (30 tokens at 150 ms): both are surely in flight when the daemon next
    // polls EXO after reading the eviction, however loaded the machine is.
    const a = post(`${guard}/v1/chat/completions`, chatBody(3000, { max_tokens: 30 }));
    await sleep(200);
    const b = post(`${guard}/v1/chat/completions`, chatBody(3000, { max_tokens: 30 }));
    await sleep(700);
    // A KV-cache eviction with two requests in flight: the best-evidenced trigger → high → refuse-new.
    await fetch(`${fake.control}/__fake/log`, {
      method: 'POST',
      body: 'KV cache evicted LRU entry (48211 tokens) due to memory usage',
    });
    let refused: Streamed | null = null;
    for (let i = 0; i < 30 && !refused; i++) {
      await sleep(150);
      const c = await post(`${guard}/v1/chat/completions`, chatBody(50));
      if (c.status === 503) refused = c;
    }
    assert.ok(refused, 'a new request was refused');
    const retry = Number(refused.headers.get('retry-after'));
    assert.ok(retry >= 24 && retry <= 36, `Retry-After ${retry} is 30 s ± 20 %`);
    const err = JSON.parse(refused.bytes.toString()).error;
    assert.equal(err.type, 'service_unavailable_error');
    assert.match(err.message, /risk level high \(guard refuse-new\)/);
    const [ra, rb] = await Promise.all([a, b]);
    for (const r of [ra, rb]) {
      assert.equal(r.status, 200);
      assert.ok(r.bytes.toString().endsWith('data: [DONE]\n\n'), 'the in-flight stream completed');
    }
  });

  it('records every decision in the timeline (the allocation log), without prompt text', async () => {
    await sleep(1200);
    const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
    const events = new TimelineStore(db).events(0, Date.now() + 1000, 'guard.');
    db.close();
    const requests = events.filter((e) => e.kind === 'guard.request');
    const decisions = new Set(requests.map((e) => `${e.data?.['decision']}:${e.data?.['status']}`));
    for (const d of ['admit:200', 'refuse:400', 'refuse:413', 'refuse:503', 'cancelled:200'])
      assert.ok(decisions.has(d), `${d} in ${[...decisions].join(', ')}`);
    const admitted = requests.find(
      (e) => e.data?.['decision'] === 'admit' && e.data?.['promptTokensReal'] !== null,
    )!;
    for (const k of [
      'model',
      'nodeShare',
      'promptTokensEstimated',
      'promptTokensReal',
      'maxTokens',
      'kvBytesEstimated',
      'concurrencyAtAdmission',
      'peakMemoryBytes',
      'durationMs',
    ]) {
      assert.ok(k in (admitted.data ?? {}), `allocation log has ${k}`);
    }
    assert.equal(admitted.data?.['nodeShare'], 'layers 0-33 of 48');
    assert.ok(!JSON.stringify(events).includes('aaaaaaaaaa'), 'no prompt text');
  });
});

describe('guard end to end: serialise mode', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('runs two requests one after the other', async () => {
    const fake = await startFakeExoProcess(['--token-ms', '120']);
    const dataDir = `${dir.path}/data`;
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({
        exo: { url: fake.url, home: `${dir.path}/exo` },
        actions: { guardModes: { ok: 'serialise' } },
      }),
    );
    const daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5']);
    try {
      const guard = daemon.guardUrl()!;
      for (let i = 0; i < 40; i++) {
        const s = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout);
        if (s.guardMode === 'serialise') break;
        await sleep(250);
      }
      const [a, b] = await Promise.all([
        post(`${guard}/v1/chat/completions`, chatBody(400)),
        (async () => {
          await sleep(50);
          return post(`${guard}/v1/chat/completions`, chatBody(400));
        })(),
      ]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      const ta = (await (await fetch(`${fake.control}/__fake/timing/${commandIdOf(a.bytes)}`)).json()) as {
        start: number;
        end: number;
      };
      const tb = (await (await fetch(`${fake.control}/__fake/timing/${commandIdOf(b.bytes)}`)).json()) as {
        start: number;
        end: number;
      };
      assert.ok(tb.start >= ta.end, `the second began (${tb.start}) after the first ended (${ta.end})`);
      const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
      await sleep(800);
      const queued = new TimelineStore(db)
        .events(0, Date.now() + 1000, 'guard.request')
        .filter((e) => (e.data?.['queuedMs'] as number) > 500);
      db.close();
      assert.equal(queued.length, 1, 'one of the two waited its turn');
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
      await fake.stop();
    }
  });
});
