import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import type { TimelineEvent } from '../../src/shared/events.js';
import { sleep } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';

/** The JSON bodies these tests read: an error envelope or EXO's command acknowledgement. */
type Body = { error: { message: string }; message: string };
const cfg = (over: Record<string, unknown> = {}) =>
  GuardConfigSchema.parse({ listen: '127.0.0.1:0', ...over });

/** EXO's model placement through the guard on `port` (a model load: the cool-down and the holds gate it). */
const placeInstance = (port: number) =>
  fetch(`http://127.0.0.1:${port}/place_instance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_id: MODEL, sharding: 'Pipeline', instance_meta: 'MlxRing', min_nodes: 2 }),
  });

describe('the guard in process, against the fake EXO on loopback', () => {
  let fake: FakeExoControl;
  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 200 });
  });
  after(async () => {
    await fake.close();
  });

  it('never starts as an open relay: a non-loopback address needs a token', async () => {
    const g = new GuardServer(cfg({ listen: '0.0.0.0:0' }), fake.url, () => {});
    await assert.rejects(g.start(), /would listen on 0\.0\.0\.0:0, which is not loopback: set guard\.token/);
  });

  it('with a token: 401 without it, the request passes with it', async () => {
    const events: TimelineEvent[] = [];
    const g = new GuardServer(cfg({ token: 'a-very-long-secret-token' }), fake.url, (e) => events.push(e));
    const a = await g.start();
    const base = `http://127.0.0.1:${a.port}`;
    try {
      const no = await fetch(`${base}/node_id`);
      assert.equal(no.status, 401);
      assert.match(((await no.json()) as Body).error.message, /missing or wrong exo-sentinel token/);
      const wrong = await fetch(`${base}/node_id`, {
        headers: { authorization: 'Bearer a-very-long-secret-tokeX' },
      });
      assert.equal(wrong.status, 401);
      const yes = await fetch(`${base}/node_id`, {
        headers: { authorization: 'Bearer a-very-long-secret-token' },
      });
      assert.equal(await yes.json(), fake.nodeId);
    } finally {
      await g.stop();
    }
  });

  it('refuses absolute URLs (proxy requests) and says EXO is down when it is', async () => {
    const g = new GuardServer(cfg(), fake.url, () => {});
    const a = await g.start();
    try {
      const status = await new Promise<number>((resolve) => {
        const r = request(
          { host: '127.0.0.1', port: a.port, method: 'GET', path: 'http://example.com/steal' },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        r.end();
      });
      assert.equal(status, 400);
      const down = new GuardServer(cfg(), 'http://127.0.0.1:9', () => {});
      const d = await down.start();
      const r = await fetch(`http://127.0.0.1:${d.port}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: MODEL, max_tokens: 5, messages: [] }),
      });
      assert.equal(r.status, 502);
      assert.match(((await r.json()) as Body).error.message, /did not answer: ECONNREFUSED/);
      await down.stop();
    } finally {
      await g.stop();
    }
  });

  it('gates model loads: refused during a hold and within the cool-down after a load or unload', async () => {
    const events: TimelineEvent[] = [];
    const g = new GuardServer(cfg({ loadCooldownSeconds: 60 }), fake.url, (e) => events.push(e));
    const a = await g.start();
    const place = () => placeInstance(a.port);
    try {
      g.update({
        hold: {
          since: 1,
          reportId: 9,
          kind: 'completeMemory',
          reason: 'completeMemory kernel panic (report 9)',
        },
      });
      const held = await place();
      assert.equal(held.status, 409);
      assert.match(((await held.json()) as Body).error.message, /post-panic hold.*exo-sentinel ack/);
      g.update({ hold: null });
      const first = await place();
      assert.equal(first.status, 200);
      assert.equal(((await first.json()) as Body).message, 'Command received.');
      const second = await place();
      assert.equal(second.status, 503);
      const retry = Number(second.headers.get('retry-after'));
      assert.ok(retry >= 47 && retry <= 72, `Retry-After ${retry}`);
      assert.match(((await second.json()) as Body).error.message, /after the last load or unload/);
      assert.deepEqual(
        events
          .filter((e) => e.kind === 'guard.request')
          .map((e) => [e.data?.['endpoint'], e.data?.['decision'], e.data?.['status']]),
        [
          ['/place_instance', 'refuse', 409],
          ['/place_instance', 'admit', 200],
          ['/place_instance', 'refuse', 503],
        ],
      );
    } finally {
      await g.stop();
    }
  });

  it('a load made while the clock was a day ahead holds the cool-down once from now when it is set back, not for the day', async () => {
    let now = Date.UTC(2026, 10, 29, 12) + 86_400_000;
    const g = new GuardServer(
      cfg({ loadCooldownSeconds: 60 }),
      fake.url,
      () => {},
      null,
      () => now,
    );
    const a = await g.start();
    const place = () => placeInstance(a.port);
    try {
      assert.equal((await place()).status, 200);
      now -= 86_400_000; // the clock set right
      const refused = await place();
      assert.equal(refused.status, 503);
      const retry = Number(refused.headers.get('retry-after'));
      assert.ok(
        retry <= 72,
        `Retry-After ${retry} s: the cool-down from now, not the day the clock was ahead`,
      );
      await refused.text();
      now += 61_000;
      assert.equal((await place()).status, 200, 'a cool-down later, loads pass');
    } finally {
      await g.stop();
    }
  });

  it('in cancel-newest mode cancels in-flight requests newest first, closing them upstream', async () => {
    const events: TimelineEvent[] = [];
    const g = new GuardServer(cfg(), fake.url, (e) => events.push(e));
    const a = await g.start();
    const base = `http://127.0.0.1:${a.port}`;
    const stream = async (tag: string) => {
      const r = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          stream: true,
          max_tokens: 8,
          messages: [{ role: 'user', content: tag.repeat(400) }],
        }),
      });
      const text = await r.text();
      return { tag, text, at: Date.now() };
    };
    try {
      const older = stream('o');
      await sleep(150);
      const newer = stream('n');
      await sleep(300);
      assert.equal(g.stats.inFlight, 2);
      g.update({ mode: 'cancel-newest', level: 'critical', modeSource: 'level' });
      const n = await newer;
      // The stream ends on a frame boundary with an OpenAI error frame (a retryable overload, not a context error).
      const last = n.text.trimEnd().split('\n\n').at(-1)!;
      assert.match(last, /^data: \{"error":/);
      const err = JSON.parse(last.slice(6)).error;
      assert.match(err.message, /cancelled by exo-sentinel, newest request first: risk level critical/);
      assert.notEqual(err.code, 'context_length_exceeded');
      const o = await older;
      assert.ok(o.at >= n.at, 'the older request was cancelled after the newer one');
      assert.match(o.text, /cancelled by exo-sentinel/);
      const cancelled = events.filter((e) => e.data?.['decision'] === 'cancelled');
      assert.equal(cancelled.length, 2);
      for (let i = 0; i < 20 && fake.cancelled.length < 2; i++) await sleep(50);
      assert.ok(fake.cancelled.length >= 2, `EXO saw both closed (${fake.cancelled.length})`);
    } finally {
      await g.stop();
    }
  });

  it('refuses a declared oversize body without reading it', async () => {
    const g = new GuardServer(cfg({ maxBodyBytes: 1024 }), fake.url, () => {});
    const a = await g.start();
    try {
      const status = await new Promise<number>((resolve) => {
        const r = request(
          {
            host: '127.0.0.1',
            port: a.port,
            method: 'POST',
            path: '/v1/messages',
            headers: { 'content-type': 'application/json', 'content-length': '10000000' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        r.on('error', () => resolve(-1));
        r.write('{');
      });
      assert.equal(status, 413);
    } finally {
      await g.stop();
    }
  });
});
