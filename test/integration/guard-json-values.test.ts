import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NODE_BUDGET } from '../../src/main/core/guard/endpoints/prompt-counter.js';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import type { TimelineEvent } from '../../src/shared/events.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { residentBytes } from '../support/machine.js';
import { rawRequest } from '../support/raw-http.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * A body of many small values, every array under the 100,000-item cap: it used to be parsed whole (30 MB of
 * `{},` took the daemon from 70 to 848 MB of RSS and held its event loop for seconds) and only then refused
 * by the prompt counter's budget. The scan now refuses it before `JSON.parse`, with the same 400.
 */

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';
const MiB = 1024 * 1024;
const cfg = (over: Record<string, unknown> = {}) =>
  GuardConfigSchema.parse({ listen: '127.0.0.1:0', ...over });

/**
 * A chat body of exactly `values` JSON values: 7 in the request itself (the object, the model, `messages`,
 * the message, its two strings, the array `x`), the rest in `x` as rows of at most 99,999 `{}`.
 */
const smallValues = (values: number): string => {
  const rows: string[] = [];
  for (let left = values - 7; left > 0; ) {
    const k = Math.min(left - 1, 99_999); // the row itself is a value
    rows.push(`[${new Array(k).fill('{}').join(',')}]`);
    left -= k + 1;
  }
  return `{"model":"${MODEL}","messages":[{"role":"user","content":"x"}],"x":[${rows.join(',')}]}`;
};

describe('guard against an outsider: a body of too many JSON values', () => {
  let fake: FakeExoControl;
  let guard: GuardServer;
  let port: number;
  const events: TimelineEvent[] = [];
  const generation = () => fake.requests.filter((r) => r.method === 'POST' && r.path !== '/instance');

  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 20, maxGeneratedTokens: 10 });
    guard = new GuardServer(cfg(), fake.url, (e) => events.push(e));
    port = (await guard.start()).port;
  });
  after(async () => {
    await guard.stop();
    await fake.close();
  });

  it(`one value over ${NODE_BUDGET} is refused with 400 naming the limit and the byte, before EXO`, async () => {
    const exact = smallValues(NODE_BUDGET);
    const over = smallValues(NODE_BUDGET + 1);
    const r = await rawRequest(port, 'POST', '/v1/chat/completions', over, {
      'content-type': 'application/json',
    });
    assert.equal(r.status, 400);
    const e = JSON.parse(r.body).error;
    assert.equal(
      e.message,
      `request body refused: more than ${NODE_BUDGET} JSON values at byte ${over.lastIndexOf('{}')}`,
    );
    assert.equal(e.param, 'body');
    assert.equal(generation().length, 0, 'nothing reached EXO');
    const refusal = events.find(
      (ev) => ev.kind === 'guard.request' && ev.data?.['reasonKind'] === 'bad-body',
    );
    assert.ok(refusal, 'the refusal is recorded as a bad body');
    // Exactly the limit passes the scan and is parsed, counted and admitted as before.
    const atLimit = await rawRequest(port, 'POST', '/v1/chat/completions', exact);
    assert.equal(atLimit.status, 200, atLimit.body.slice(0, 200));
    assert.equal(generation().length, 1);
  });
});

describe('a running daemon refusing 30 MB of `{},` to its guard', () => {
  const dir = tempDir();
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let guardPort: number;
  let api: string;

  before(async () => {
    daemon = await startDaemon(['--exo-url', 'http://127.0.0.1:9', '--interval', '1'], {
      EXO_SENTINEL_HOME: dir.path,
      NO_COLOR: '1',
    });
    guardPort = Number(new URL(daemon.guardUrl()!).port);
    api = daemon.apiUrl()!;
    await sleep(500);
  });
  after(async () => {
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    dir.cleanup();
  });

  it('answers 400 at once, its RSS grows by the body read (not 750 MB of parsed objects), its API stays up', async () => {
    const body = smallValues(10_500_000); // every array under the 100,000-item cap
    assert.ok(body.length > 29 * MiB && body.length < 32 * MiB);
    const pid = daemon.pid!;
    const rss0 = residentBytes(pid);
    let worstRss = rss0;
    let worstMs = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await rawRequest(guardPort, 'POST', '/v1/chat/completions', body);
      worstMs = Math.max(worstMs, performance.now() - t0);
      worstRss = Math.max(worstRss, residentBytes(pid));
      assert.equal(r.status, 400);
      assert.match(
        JSON.parse(r.body).error.message,
        /^request body refused: more than 1000000 JSON values at byte \d+$/,
      );
    }
    const grew = (worstRss - rss0) / MiB;
    process.stdout.write(
      `# daemon: 3 × ${(body.length / MiB).toFixed(1)} MiB of small values refused, worst ${worstMs.toFixed(0)} ms; RSS ${(rss0 / MiB).toFixed(0)} → ${(worstRss / MiB).toFixed(0)} MiB\n`,
    );
    // Before the value limit: 2.5 s and 70 → 810 MiB per body on a fast machine. Now the read body (chunks
    // and their concatenation) is what stays; 3 MB of it are scanned.
    assert.ok(grew < 200, `RSS grew by ${grew.toFixed(0)} MiB`);
    assert.ok(worstMs < 2000, `answered in ${worstMs.toFixed(0)} ms`);
    const status = await fetch(`${api}/api/v1/status`, { signal: AbortSignal.timeout(3000) });
    assert.equal(status.status, 200);
  });
});
