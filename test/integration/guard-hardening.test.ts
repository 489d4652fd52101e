import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import type { TimelineEvent } from '../../src/shared/events.js';
import { sleep } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { rawRequest, rawSocket, selfSignedCert } from '../support/raw-http.js';
import { tempDir } from '../support/temp-dir.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';
const cfg = (over: Record<string, unknown> = {}) =>
  GuardConfigSchema.parse({ listen: '127.0.0.1:0', ...over });
// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary JSON answers
type Json = Record<string, any>;

/** An error's message in any protocol's shape (Ollama's error is the string itself). */
const errorMessage = (body: string): string => {
  const e = (JSON.parse(body) as Json)['error'];
  return typeof e === 'string' ? e : String(e?.message);
};

const chat = (content: string, extra: Json = {}): string =>
  JSON.stringify({
    model: MODEL,
    max_tokens: 8,
    stream: true,
    messages: [{ role: 'user', content }],
    ...extra,
  });

/** Reads a whole streamed response as text. */
async function streamText(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const chunks: Buffer[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks).toString();
}

/** SSE events as each SDK's parser sees them. */
function sseEvents(text: string): EventSourceMessage[] {
  const out: EventSourceMessage[] = [];
  const p = createParser({ onEvent: (e) => out.push(e) });
  p.feed(text);
  return out;
}

describe('guard hardening: in process, against the fake EXO on loopback', () => {
  let fake: FakeExoControl;
  let guard: GuardServer;
  let port: number;
  let events: TimelineEvent[];
  const generation = () => fake.requests.filter((r) => r.method === 'POST' && r.path !== '/instance');

  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 100, maxGeneratedTokens: 30 });
  });
  after(async () => {
    await fake.close();
  });

  const withGuard = async (over: Record<string, unknown>, fn: () => Promise<void>): Promise<void> => {
    events = [];
    guard = new GuardServer(cfg(over), fake.url, (e) => events.push(e));
    port = (await guard.start()).port;
    fake.requests.length = 0;
    try {
      await fn();
    } finally {
      await guard.stop();
    }
  };

  it('a body nesting 20,000 levels deep is refused with 400 and the guard keeps serving', () =>
    withGuard({}, async () => {
      const deep = `{"model":"${MODEL}","messages":[{"role":"user","content":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`;
      const r = await rawRequest(port, 'POST', '/v1/chat/completions', deep, {
        'content-type': 'application/json',
      });
      assert.equal(r.status, 400);
      assert.match(JSON.parse(r.body).error.message, /nest/i);
      assert.equal(generation().length, 0);
      const alive = await rawRequest(port, 'GET', '/node_id');
      assert.equal(alive.status, 200);
    }));

  it('routes on the decoded, normalised path as EXO does: encoded and dotted spellings are gated too', () =>
    withGuard({ contextCap: 1000 }, async () => {
      const big = chat('a'.repeat(6000));
      for (const path of [
        '/v1/chat/completion%73',
        '/v1//chat/completions',
        '/v1/x/../chat/completions',
        '/v1/./chat/completions',
        '/v1/chat/completions/',
        '/bench/chat/completions',
        '/ollama/v1/chat/completions',
      ]) {
        const r = await rawRequest(port, 'POST', path, big);
        assert.equal(r.status, 400, path);
        const e = JSON.parse(r.body).error;
        assert.equal(e.code, 'context_length_exceeded', path);
        assert.equal(e.param, 'messages', path);
      }
      for (const path of [
        '/v1/chat%2Fcompletions',
        '/v1/chat%2fcompletions',
        '/v1/chat/completions%00',
        '/v1/chat/%zz',
      ]) {
        const r = await rawRequest(port, 'POST', path, big);
        assert.equal(r.status, 400, path);
        assert.match(JSON.parse(r.body).error.message, /request target refused/, path);
      }
      assert.equal(generation().length, 0, 'nothing over the cap reached EXO');
      // A small request through an encoded spelling reaches EXO under the canonical path it was judged by.
      const ok = await rawRequest(port, 'POST', '/v1/chat/completion%73', chat('hello'));
      assert.equal(ok.status, 200);
      assert.deepEqual(
        generation().map((r) => r.rawPath),
        ['/v1/chat/completions'],
      );
    }));

  it('an encoded /instance is still a model load: the cool-down holds', () =>
    withGuard({ loadCooldownSeconds: 120 }, async () => {
      const first = await rawRequest(port, 'POST', '/instance', '{"instance":{}}');
      assert.equal(first.status, 200);
      const second = await rawRequest(port, 'POST', '/instanc%65', '{"instance":{}}');
      assert.equal(second.status, 503);
      assert.match(JSON.parse(second.body).error.message, /after the last load or unload/);
      assert.ok(Number(second.headers['retry-after']) > 0);
      assert.equal(fake.requests.filter((r) => r.path === '/instance').length, 1);
    }));

  it('a layer rebalance (newer EXO) is a load: refused in a refusing mode, in any spelling; a dry run passes', () =>
    withGuard({}, async () => {
      const id = Object.keys(fake.state['instances'] as Json)[0]!;
      guard.update({ mode: 'refuse-new', modeSource: 'pin', level: 'ok' });
      for (const target of [
        `/instance/${id}/rebalance`,
        `/instance/${id}/rebalanc%65?mode=experts`,
        `/instance/${id}/./rebalance/`,
        `/instance/${id}/rebalance?dry_run=false`,
        // FastAPI reads the last of repeated values, and EXO answers 422 to a word pydantic does not know.
        `/instance/${id}/rebalance?dry_run=true&dry_run=0`,
        `/instance/${id}/rebalance?dry_run=maybe`,
        `/instance/${id}/rebalance?dry_run=`,
      ]) {
        const r = await rawRequest(port, 'POST', target, '');
        assert.equal(r.status, 503, target);
        assert.match(
          JSON.parse(r.body).error.message,
          /layer rebalances are refused: the guard is pinned/,
          target,
        );
      }
      assert.equal(fake.requests.length, 0, 'EXO saw no rebalance');
      // Planning moves nothing: a dry run in any of pydantic's true words, and the GET preview, pass.
      for (const target of [
        `/instance/${id}/rebalance?dry_run=true`,
        `/instance/${id}/rebalance?dry_run=YES&dry_run=1`,
        `/instance/${id}/rebalance?mode=speed&dry%5Frun=on`,
      ]) {
        const r = await rawRequest(port, 'POST', target, '');
        assert.equal(r.status, 200, target);
        assert.equal(JSON.parse(r.body).dry_run, true, target);
      }
      assert.equal((await rawRequest(port, 'GET', `/instance/${id}/rebalance/preview`)).status, 200);
      assert.equal(fake.requests.length, 4);
    }));

  it('a rebalance and a model load share the cool-down; refusals naming new instances stay aggregated', () =>
    withGuard({ loadCooldownSeconds: 120 }, async () => {
      const id = Object.keys(fake.state['instances'] as Json)[0]!;
      const first = await rawRequest(port, 'POST', `/instance/${id}/rebalance`, '');
      assert.equal(first.status, 200);
      assert.equal(JSON.parse(first.body).dry_run, false);
      const load = await rawRequest(port, 'POST', '/place_instance', '{"model_id":"m"}');
      assert.equal(load.status, 503);
      assert.match(
        JSON.parse(load.body).error.message,
        /model loads are refused for 120 s after the last load/,
      );
      const statuses = new Set<number>();
      for (let i = 0; i < 200; i++)
        statuses.add((await rawRequest(port, 'POST', `/instance/${id}-${i}/rebalance`, '')).status);
      await sleep(1100);
      assert.deepEqual([...statuses], [503]);
      const refusals = events.filter((e) => e.kind === 'guard.request' || e.kind === 'guard.refusals');
      assert.ok(
        refusals.length <= 6,
        `${refusals.length} events for 201 refusals and one admitted rebalance`,
      );
      assert.ok(
        refusals.some((e) => e.data?.['endpoint'] === '/instance/{instance_id}/rebalance'),
        'recorded under the route, not the instance named',
      );
      assert.equal(fake.requests.filter((r) => r.path.endsWith('/rebalance')).length, 1);
    }));

  it('never forwards a body EXO would read as another request (chunked GET smuggling)', () =>
    withGuard({}, async () => {
      const inner = `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(chat('smuggled'))}\r\n\r\n${chat('smuggled')}`;
      const smuggle = `GET /node_id HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(inner).toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
      const out = await rawSocket(port, smuggle);
      assert.match(out, /^HTTP\/1\.1 400/);
      assert.match(out, /must not carry a body/);
      const withLength = await rawSocket(
        port,
        `DELETE /instance/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(inner)}\r\n\r\n${inner}`,
      );
      assert.match(withLength, /^HTTP\/1\.1 400/);
      await sleep(100);
      assert.equal(fake.requests.length, 0, 'EXO saw nothing at all');
    }));

  it('bounds headers: an oversized header block is 431 and never forwarded', () =>
    withGuard({ maxHeaderBytes: 8192 }, async () => {
      const out = await rawSocket(
        port,
        `GET /node_id HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      );
      assert.match(out, /^HTTP\/1\.1 431/);
      assert.equal(fake.requests.length, 0);
      assert.equal((await rawRequest(port, 'GET', '/node_id')).status, 200);
    }));

  it('validates max_tokens and friends: negative, fractional and string values are 400s naming the field', () =>
    withGuard({}, async () => {
      for (const [field, value] of [
        ['max_tokens', -1_000_000],
        ['max_tokens', 1.5],
        ['max_tokens', '100'],
        ['max_completion_tokens', -1],
      ] as const) {
        const r = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi', { [field]: value }));
        assert.equal(r.status, 400, `${field}=${value}`);
        const e = JSON.parse(r.body).error;
        assert.equal(e.param, field);
        assert.match(e.message, new RegExp(field));
      }
      const ollama = await rawRequest(
        port,
        'POST',
        '/ollama/api/chat',
        JSON.stringify({ model: MODEL, messages: [], options: { num_predict: -5 } }),
      );
      assert.equal(ollama.status, 400);
      assert.match(JSON.parse(ollama.body).error, /num_predict/);
      assert.equal(generation().length, 0);
    }));

  it('counts the prompt in tools, system and other fields, not only messages', () =>
    withGuard({ contextCap: 1000 }, async () => {
      const tools = [
        { type: 'function', function: { name: 'f', description: 'd'.repeat(6000), parameters: {} } },
      ];
      const r = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi', { tools }));
      assert.equal(r.status, 400);
      assert.equal(JSON.parse(r.body).error.code, 'context_length_exceeded');
      const anthropic = await rawRequest(
        port,
        'POST',
        '/v1/messages',
        JSON.stringify({
          model: MODEL,
          max_tokens: 8,
          system: 's'.repeat(6000),
          messages: [{ role: 'user', content: 'hi' }],
        }),
      );
      assert.equal(anthropic.status, 400);
      assert.deepEqual(Object.keys(JSON.parse(anthropic.body)), ['type', 'error']);
      assert.equal(JSON.parse(anthropic.body).error.type, 'invalid_request_error');
      assert.equal(generation().length, 0);
    }));

  it('a hand-pinned mode says so, with a jittered Retry-After and the overload type of each protocol', () =>
    withGuard({ retryAfterSeconds: 30 }, async () => {
      guard.update({ mode: 'refuse-new', modeSource: 'pin' });
      const r = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'));
      assert.equal(r.status, 503);
      assert.match(JSON.parse(r.body).error.message, /pinned to refuse-new by hand/);
      const retry = Number(r.headers['retry-after']);
      assert.ok(retry >= 24 && retry <= 36, `Retry-After ${retry}`);
      const a = await rawRequest(
        port,
        'POST',
        '/v1/messages',
        JSON.stringify({ model: MODEL, max_tokens: 8, messages: [] }),
      );
      assert.equal(a.status, 503);
      assert.equal(JSON.parse(a.body).error.type, 'overloaded_error');
      guard.update({ mode: 'refuse-new', modeSource: 'level', level: 'high' });
      const l = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'));
      assert.match(JSON.parse(l.body).error.message, /risk level high/);
      guard.update({ mode: 'open', modeSource: 'pin', level: 'high' });
      const open = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'));
      assert.equal(open.status, 200, 'a pin to open is obeyed even at a high level');
    }));

  it('a retry storm is aggregated: hundreds of refusals make a handful of events', () =>
    withGuard({}, async () => {
      guard.update({ mode: 'refuse-new', modeSource: 'level', level: 'high' });
      const statuses = new Set<number>();
      for (let i = 0; i < 300; i++)
        statuses.add((await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'))).status);
      await sleep(1100);
      assert.deepEqual([...statuses], [503]);
      const recorded = events.filter((e) => e.kind.startsWith('guard.'));
      assert.ok(recorded.length <= 6, `${recorded.length} events for 300 refusals`);
      const counted = recorded.reduce(
        (n, e) => n + (e.kind === 'guard.refusals' ? Number(e.data?.['count']) : 1),
        0,
      );
      assert.equal(counted, 300, 'every refusal is still counted');
    }));

  it('an error inside a handler is a 500 in style and a guard.fault event, never a dead guard', () =>
    withGuard({}, async () => {
      guard.update({ exo: { instances: null } as never });
      const r = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'));
      assert.equal(r.status, 500);
      assert.ok(events.some((e) => e.kind === 'guard.fault'));
      guard.update({ exo: null });
      assert.equal((await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'))).status, 200);
    }));

  it('strips hop-by-hop headers, including those Connection names, and the guard token', () =>
    withGuard({ token: 'a-very-long-secret-token' }, async () => {
      const r = await rawRequest(port, 'GET', '/node_id', null, {
        connection: 'keep-alive, x-hop',
        'x-hop': 'private',
        'x-end': 'kept',
        'x-exo-sentinel-token': 'a-very-long-secret-token',
      });
      assert.equal(r.status, 200);
      const seen = fake.requests.at(-1)!.headers;
      assert.equal(seen['x-hop'], undefined);
      assert.equal(seen['x-exo-sentinel-token'], undefined);
      assert.equal(seen['x-end'], 'kept');
    }));
});

describe('guard streams: cancellation frames, both prefill forms, the queue', () => {
  let fake: FakeExoControl;
  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 100, maxGeneratedTokens: 30 });
  });
  after(async () => {
    await fake.close();
  });

  const families: Array<{ path: string; body: Json; check: (text: string) => void }> = [
    {
      path: '/v1/chat/completions',
      body: { model: MODEL, stream: true, max_tokens: 30, messages: [{ role: 'user', content: 'hi' }] },
      check: (text) => {
        const last = sseEvents(text).at(-1)!;
        const err = JSON.parse(last.data).error;
        assert.match(err.message, /cancelled by exo-sentinel/);
        assert.equal(typeof err.type, 'string');
      },
    },
    {
      path: '/v1/messages',
      body: { model: MODEL, stream: true, max_tokens: 30, messages: [{ role: 'user', content: 'hi' }] },
      check: (text) => {
        const last = sseEvents(text).at(-1)!;
        assert.equal(last.event, 'error');
        const d = JSON.parse(last.data);
        assert.equal(d.type, 'error');
        assert.equal(d.error.type, 'overloaded_error');
      },
    },
    {
      path: '/v1/responses',
      body: { model: MODEL, stream: true, max_output_tokens: 30, input: 'hi' },
      check: (text) => {
        const last = sseEvents(text).at(-1)!;
        assert.equal(last.event, 'error');
        assert.equal(JSON.parse(last.data).type, 'error');
      },
    },
    {
      path: '/ollama/api/chat',
      body: { model: MODEL, messages: [{ role: 'user', content: 'hi' }], options: { num_predict: 30 } },
      check: (text) => {
        const lines = text.split('\n').filter(Boolean);
        const parsed = lines.map((l) => JSON.parse(l) as Json); // every line parses: nothing foreign in NDJSON
        assert.match(parsed.at(-1)!['error'], /cancelled by exo-sentinel/);
        assert.ok(parsed.length >= 2);
      },
    },
  ];

  for (const f of families) {
    it(`a mid-stream cancel on ${f.path} ends with the error its own SDK reads`, async () => {
      const guard = new GuardServer(cfg(), fake.url, () => {});
      const { port } = await guard.start();
      try {
        const res = await fetch(`http://127.0.0.1:${port}${f.path}`, {
          method: 'POST',
          body: JSON.stringify(f.body),
        });
        assert.equal(res.status, 200);
        const text = streamText(res);
        await sleep(400);
        guard.update({ mode: 'cancel-newest', level: 'critical', modeSource: 'level' });
        f.check(await text);
        await sleep(100);
        assert.ok(fake.cancelled.length > 0, 'EXO was told');
      } finally {
        await guard.stop();
      }
    });
  }

  it('reads the real prompt size in both forms EXO sends and cancels past the cap', async () => {
    for (const form of ['comment', 'event']) {
      const guard = new GuardServer(cfg({ contextCap: 1000 }), fake.url, () => {});
      const { port } = await guard.start();
      try {
        const before = fake.cancelled.length;
        const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'x-fake-prompt-tokens': '5000', 'x-fake-prefill-form': form },
          body: chat('short'),
        });
        const events = sseEvents(await streamText(res));
        const err = JSON.parse(events.at(-1)!.data).error;
        assert.equal(err.code, 'context_length_exceeded', form);
        assert.match(err.message, /the real prompt is 5000 tokens/);
        await sleep(100);
        assert.equal(fake.cancelled.length, before + 1, `${form}: EXO cancelled`);
      } finally {
        await guard.stop();
      }
    }
  });

  it('serialise: a queued client that leaves frees its place; the next one starts within 1 s of the slot', async () => {
    const guard = new GuardServer(cfg(), fake.url, () => {});
    const { port } = await guard.start();
    guard.update({ mode: 'serialise', modeSource: 'level', level: 'elevated' });
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    try {
      const first = fetch(url, { method: 'POST', body: chat('first', { max_tokens: 15 }) }).then(streamText);
      await sleep(150);
      const quitter = new AbortController();
      const leaving = fetch(url, { method: 'POST', body: chat('leaves'), signal: quitter.signal }).catch(
        () => null,
      );
      await sleep(100);
      const third = fetch(url, { method: 'POST', body: chat('third') }).then(streamText);
      await sleep(100);
      assert.equal(guard.stats.queued, 2);
      quitter.abort();
      await leaving;
      await sleep(50);
      assert.equal(guard.stats.queued, 1, 'the leaver is gone from the queue at once');
      const firstText = await first;
      const firstEnd = Date.now();
      const thirdText = await third;
      const ids = [firstText, thirdText].map((t) => /"id":"([0-9a-f-]{36})"/.exec(t)![1]!);
      const t1 = fake.timings.get(ids[0]!)!;
      const t3 = fake.timings.get(ids[1]!)!;
      assert.ok(t3.start >= t1.end!, 'one at a time');
      assert.ok(t3.start - t1.end! < 1000, `the next started ${t3.start - t1.end!} ms after the slot freed`);
      assert.ok(Math.abs(firstEnd - t1.end!) < 1000);
      assert.equal(
        fake.requests.filter((r) => r.body.includes('leaves')).length,
        0,
        'the leaver never reached EXO',
      );
    } finally {
      await guard.stop();
    }
  });
});

describe('guard hardening: what an outside review found', () => {
  let fake: FakeExoControl;
  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 100, maxGeneratedTokens: 10 });
  });
  after(async () => {
    await fake.close();
  });
  const start = async (over: Record<string, unknown> = {}, url = fake.url) => {
    const g = new GuardServer(cfg(over), url, () => {});
    return { g, port: (await g.start()).port };
  };
  /** A raw upstream that answers every request with the given bytes (or never, with null). */
  const rawUpstream = async (answer: string | null) => {
    const sockets: Socket[] = [];
    const server = createTcpServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
      s.on('data', () => {
        if (answer !== null) s.write(answer);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => {
        for (const s of sockets) s.destroy();
        server.close();
      },
    };
  };

  it('answers only to its own names in Host: a rebinding page reaches neither the guard nor EXO behind it', async () => {
    const { g, port } = await start({ allowedHosts: ['studio-1.local'] });
    fake.requests.length = 0;
    try {
      for (const host of [
        `rebind.evil.example:${port}`,
        'evil.example',
        `studio-2.local:${port}`,
        '10.0.0.9',
      ]) {
        for (const [method, path, body] of [
          ['GET', '/state', null],
          ['POST', '/v1/chat/completions', chat('hi')],
          ['DELETE', '/instance/x', null],
        ] as const) {
          const r = await rawRequest(port, method, path, body, { host });
          assert.equal(r.status, 421, `${host} ${method} ${path}`);
          assert.match(
            JSON.parse(r.body).error.message,
            /^Host ".*" is not a name the guard answers to \(loopback, its listen address or guard\.allowedHosts\)$/,
          );
        }
      }
      assert.equal(fake.requests.length, 0, 'EXO saw nothing');
      for (const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        `[::1]:${port}`,
        'app.localhost',
        `studio-1.local:${port}`,
      ])
        assert.equal((await rawRequest(port, 'GET', '/node_id', null, { host })).status, 200, host);
    } finally {
      await g.stop();
    }
  });

  it('refuses a page of another site (EXO answers any origin): no generation, no state, no unload; its own origin and tools pass', async () => {
    const listed = 'https://chat.example:8443';
    const { g, port } = await start({ corsOrigins: [listed] });
    fake.requests.length = 0;
    const self = `127.0.0.1:${port}`;
    try {
      for (const [method, path, body, headers] of [
        [
          'POST',
          '/ollama/api/chat',
          chat('hi'),
          { origin: 'https://evil.example', 'content-type': 'text/plain' },
        ],
        ['GET', '/state', null, { origin: 'https://evil.example' }],
        [
          'OPTIONS',
          '/instance/abc',
          null,
          { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' },
        ],
        ['DELETE', '/instance/abc', null, { origin: 'null' }],
        ['GET', '/state', null, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }],
        ['POST', '/v1/chat/completions', chat('hi'), { origin: `http://localhost:${port + 1}` }],
      ] as const) {
        const r = await rawRequest(port, method, path, body, { host: self, ...headers });
        assert.equal(r.status, 403, `${method} ${path} ${JSON.stringify(headers)}`);
        assert.match(
          errorMessage(r.body),
          /not allowed \(not the guard's own origin, nor in guard\.corsOrigins\)|a request from another site/,
        );
      }
      assert.equal(fake.requests.length, 0, 'EXO saw none of them');
      for (const headers of [
        {},
        { origin: `http://${self}` },
        { origin: listed, 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-origin' },
        { 'sec-fetch-site': 'none' },
      ] as Record<string, string>[])
        assert.equal(
          (await rawRequest(port, 'GET', '/node_id', null, { host: self, ...headers })).status,
          200,
          JSON.stringify(headers),
        );
    } finally {
      await g.stop();
    }
  });

  it('two Origin headers (one listed, one not), or a look-alike of a listed origin, are refused', async () => {
    const { g, port } = await start({ corsOrigins: ['https://chat.example'] });
    fake.requests.length = 0;
    try {
      const two = await rawSocket(
        port,
        `GET /node_id HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: https://chat.example\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n`,
      );
      assert.match(two, /^HTTP\/1\.1 403/);
      for (const origin of [
        'https://chat.example.evil.example',
        'https://evil.example#https://chat.example',
      ]) {
        const r = await rawRequest(port, 'GET', '/node_id', null, { host: `127.0.0.1:${port}`, origin });
        assert.equal(r.status, 403, origin);
      }
      assert.equal(fake.requests.length, 0);
    } finally {
      await g.stop();
    }
  });

  it("a listed origin's preflight reaches EXO without the token; origins that are not http(s) can be listed", async () => {
    const token = 'a-very-long-guard-token';
    const { g, port } = await start({
      token,
      corsOrigins: ['http://localhost:3000', 'tauri://localhost', 'chrome-extension://abcdefghijklmnop/'],
    });
    fake.requests.length = 0;
    const self = `127.0.0.1:${port}`;
    try {
      const preflight = await rawRequest(port, 'OPTIONS', '/v1/chat/completions', null, {
        host: self,
        origin: 'http://localhost:3000',
        'access-control-request-method': 'POST',
      });
      assert.notEqual(preflight.status, 401, 'a preflight carries no credentials');
      assert.deepEqual(
        fake.requests.map((r) => r.method),
        ['OPTIONS'],
      );
      // Anything else from it still needs the token.
      const noToken = await rawRequest(port, 'GET', '/node_id', null, {
        host: self,
        origin: 'http://localhost:3000',
      });
      assert.equal(noToken.status, 401);
      for (const origin of [
        'tauri://localhost',
        'TAURI://LOCALHOST',
        'chrome-extension://abcdefghijklmnop',
      ]) {
        const r = await rawRequest(port, 'GET', '/node_id', null, {
          host: self,
          origin,
          authorization: `Bearer ${token}`,
        });
        assert.equal(r.status, 200, origin);
      }
      const other = await rawRequest(port, 'GET', '/node_id', null, {
        host: self,
        origin: 'tauri://evil',
        authorization: `Bearer ${token}`,
      });
      assert.equal(other.status, 403);
    } finally {
      await g.stop();
    }
  });

  it('sees a Transfer-Encoding hidden past 2,000 headers: the smuggled body is refused, EXO sees nothing', async () => {
    const { g, port } = await start({ contextCap: 1000 });
    fake.requests.length = 0;
    try {
      const body = chat('x'.repeat(30_000), { max_tokens: 100_000 });
      const inner = `POST /v1/chat/completions HTTP/1.1\r\nHost: exo\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const filler = Array.from({ length: 2000 }, (_, i) => `a${i}: b\r\n`).join('');
      for (const line of ['DELETE /instance/nope', 'OPTIONS /node_id']) {
        const out = await rawSocket(
          port,
          `${line} HTTP/1.1\r\nHost: localhost\r\n${filler}Transfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(inner).toString(16)}\r\n${inner}\r\n0\r\n\r\n`,
        );
        assert.match(out, /^HTTP\/1\.1 400/, line);
      }
      await sleep(200);
      assert.deepEqual(fake.requests, []);
    } finally {
      await g.stop();
    }
  });

  it("gates EXO's two other spellings of the Ollama chat endpoint", async () => {
    const { g, port } = await start();
    g.update({ mode: 'refuse-new', modeSource: 'pin' });
    fake.requests.length = 0;
    try {
      for (const path of ['/ollama/api/api/chat', '/ollama/api/v1/chat']) {
        const r = await rawRequest(port, 'POST', path, JSON.stringify({ model: MODEL, messages: [] }));
        assert.equal(r.status, 503, path);
        assert.match(JSON.parse(r.body).error, /pinned/);
      }
      assert.deepEqual(fake.requests, []);
    } finally {
      await g.stop();
    }
  });

  it('counts what EXO will run: max_tokens over max_completion_tokens, 0 as the default, unknown fields', async () => {
    const { g, port } = await start({ contextCap: 1000 });
    fake.requests.length = 0;
    try {
      const cases: Array<[string, Json]> = [
        [
          '/v1/chat/completions',
          {
            model: MODEL,
            messages: [{ role: 'user', content: 'hi' }],
            max_completion_tokens: 10,
            max_tokens: 1_000_000,
          },
        ],
        [
          '/v1/chat/completions',
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 10 },
        ],
        [
          '/v1/chat/completions',
          { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 },
        ],
        ['/v1/messages', { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 0 }],
        ['/ollama/api/generate', { model: MODEL, prompt: 'hi', options: { num_predict: 0 }, stream: false }],
        [
          '/v1/responses',
          {
            model: MODEL,
            input: 'hi',
            max_output_tokens: 10,
            chat_template_messages: [{ role: 'user', content: 'x'.repeat(30_000) }],
          },
        ],
      ];
      for (const [path, body] of cases) {
        const r = await rawRequest(port, 'POST', path, JSON.stringify(body));
        assert.equal(r.status, 400, `${path} ${JSON.stringify(body).slice(0, 120)}`);
      }
      assert.deepEqual(fake.requests, []);
    } finally {
      await g.stop();
    }
  });

  it('an upstream status line Node will not relay is a 502, and the guard lives on', async () => {
    for (const line of ['HTTP/1.1 099 Odd', 'HTTP/1.1 200 O\x01K']) {
      const up = await rawUpstream(`${line}\r\nContent-Length: 0\r\n\r\n`);
      const { g, port } = await start({}, up.url);
      try {
        const r = await rawRequest(port, 'GET', '/node_id');
        assert.ok(r.status === 502 || r.status === 200, `${JSON.stringify(line)} → ${r.status}`);
        if (line.includes('099')) assert.equal(r.status, 502);
        assert.equal((await rawRequest(port, 'GET', '/node_id')).status >= 200, true, 'still serving');
      } finally {
        await g.stop();
        up.close();
      }
    }
  });

  it('a hung EXO (silent, or answering 101) frees the slot with 504/502 instead of holding it for ever', async () => {
    for (const [answer, status] of [
      [null, 504],
      ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n', 502],
    ] as const) {
      const up = await rawUpstream(answer);
      const { g, port } = await start({ upstreamHeadersSeconds: 1 }, up.url);
      g.update({ mode: 'serialise', modeSource: 'level', level: 'elevated' });
      try {
        const t = Date.now();
        const r = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'));
        assert.equal(r.status, status);
        assert.ok(Date.now() - t < 3000);
        assert.equal(g.stats.inFlight, 0);
      } finally {
        await g.stop();
        up.close();
      }
    }
  });

  it('a client that leaves takes its pipelined requests with it: nothing stays in flight or queued', async () => {
    const { g, port } = await start({ contextCap: 100_000 });
    g.update({ mode: 'serialise', modeSource: 'level', level: 'elevated' });
    try {
      const b = chat('hi', { max_tokens: 10 });
      const one = (h = '') =>
        `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n${h}Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.write(one() + one('x-fake-stream-bytes: 100000000\r\n'));
      await sleep(300);
      s.destroy();
      for (let i = 0; i < 40 && (g.stats.inFlight > 0 || g.stats.queued > 0); i++) await sleep(100);
      assert.deepEqual([g.stats.inFlight, g.stats.queued], [0, 0]);
      const sent = fake.bulkBytesSent();
      await sleep(500);
      assert.equal(fake.bulkBytesSent(), sent, 'no stream left running in EXO');
    } finally {
      await g.stop();
    }
  });

  it('bodies held at once share a budget: past it a new body is refused with 503, and the budget comes back', async () => {
    const { g, port } = await start({ maxBufferedBodyBytes: 1024 * 1024, maxBodyBytes: 900 * 1024 });
    try {
      const part = Buffer.alloc(700 * 1024, 0x61);
      const hold = connect(port, '127.0.0.1');
      hold.on('error', () => {});
      hold.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${800 * 1024}\r\n\r\n`,
      );
      hold.write(part);
      await sleep(200);
      const second = await rawRequest(
        port,
        'POST',
        '/v1/chat/completions',
        `{"model":"${MODEL}","messages":[{"role":"user","content":"${'a'.repeat(600 * 1024)}"}]}`,
      );
      assert.equal(second.status, 503);
      assert.match(JSON.parse(second.body).error.message, /too many request bodies/);
      hold.destroy();
      await sleep(200);
      assert.equal((await rawRequest(port, 'POST', '/v1/chat/completions', chat('small'))).status, 200);
    } finally {
      await g.stop();
    }
  });

  it('concurrent model loads: the first reserves the cool-down, the others are refused', async () => {
    const { g, port } = await start({ loadCooldownSeconds: 120 });
    fake.requests.length = 0;
    try {
      const statuses = await Promise.all(
        ['/place_instance', '/place_instance', '/instance', '/place_instance', '/instance'].map(
          async (p) => (await rawRequest(port, 'POST', p, '{"model_id":"m"}')).status,
        ),
      );
      assert.deepEqual(statuses.sort(), [200, 503, 503, 503, 503]);
      assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 1);
    } finally {
      await g.stop();
    }
  });

  it('a model load in a refusing mode is refused whatever set it; the sleep/wake hold says when it ends', async () => {
    const { g, port } = await start();
    fake.requests.length = 0;
    try {
      g.update({ mode: 'refuse-new', modeSource: 'pin', level: 'ok' });
      const pinned = await rawRequest(port, 'POST', '/instance', '{"model_id":"m"}');
      assert.equal(pinned.status, 503);
      assert.match(pinned.body, /model loads are refused: the guard is pinned to refuse-new by hand/);
      g.update({
        mode: 'refuse-new',
        modeSource: 'wake-hold',
        wakeHold: { reason: 'the machine woke 1 s ago', until: Date.now() + 5000 },
      });
      const held = await rawRequest(port, 'POST', '/place_instance', '{"model_id":"m"}');
      assert.equal(held.status, 503);
      assert.match(held.body, /model loads are refused: sleep\/wake hold: the machine woke/);
      const retry = Number(held.headers['retry-after']);
      assert.ok(retry >= 4 && retry <= 6, `Retry-After ${retry}: when the hold ends, not a minute`);
      // At a critical level during the hold: the level refuses it, and the level's minute is when to retry.
      g.update({ level: 'critical' });
      const critical = await rawRequest(port, 'POST', '/instance', '{"model_id":"m"}');
      assert.match(critical.body, /model loads are refused at risk level critical/);
      assert.ok(Number(critical.headers['retry-after']) >= 48, String(critical.headers['retry-after']));
      assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 0, 'EXO saw no load');
    } finally {
      await g.stop();
    }
  });

  it('stop() answers a queued client 503 and ends an in-flight stream with its error frame', async () => {
    const { g, port } = await start();
    g.update({ mode: 'serialise', modeSource: 'level', level: 'elevated' });
    const url = `http://127.0.0.1:${port}/v1/chat/completions`;
    const inflight = fetch(url, { method: 'POST', body: chat('a') }).then(
      async (r) => [r.status, await streamText(r)] as const,
    );
    await sleep(200);
    const queued = fetch(url, { method: 'POST', body: chat('b') }).then(
      async (r) => [r.status, await r.text()] as const,
    );
    await sleep(200);
    await g.stop();
    const [qs, qb] = await queued;
    assert.equal(qs, 503);
    assert.match(JSON.parse(qb).error.message, /stopping|refused/);
    const [fs, fb] = await inflight;
    assert.equal(fs, 200);
    assert.match(sseEvents(fb).at(-1)!.data, /exo-sentinel is stopping/);
  });
});

describe('guard upstream over https', () => {
  it('forwards to an https EXO it trusts (an extra CA file), streams included', async () => {
    const dir = tempDir('guard-tls-');
    const { key, cert } = selfSignedCert(dir.path);
    const { readFileSync } = await import('node:fs');
    const fake = await startFakeExo({
      tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') },
    });
    const guard = new GuardServer(cfg({ upstreamCaFile: cert }), fake.url, () => {});
    const { port } = await guard.start();
    try {
      assert.match(fake.url, /^https:/);
      const id = await fetch(`http://127.0.0.1:${port}/node_id`);
      assert.equal(await id.json(), fake.nodeId);
      const s = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        body: chat('hi'),
      });
      const text = await streamText(s);
      assert.match(text, /data: \[DONE\]/);
      const untrusted = new GuardServer(cfg(), fake.url, () => {});
      const u = await untrusted.start();
      const r = await fetch(`http://127.0.0.1:${u.port}/node_id`);
      assert.equal(r.status, 502);
      assert.match(((await r.json()) as Json).error.message, /did not answer/);
      await untrusted.stop();
    } finally {
      await guard.stop();
      await fake.close();
      dir.cleanup();
    }
  });

  it('refuses a CA file that is a device, a FIFO or huge, at once and naming it (it used to grow without end)', async () => {
    const dir = tempDir('guard-ca-');
    const { execFileSync } = await import('node:child_process');
    const { writeFileSync } = await import('node:fs');
    const fifo = join(dir.path, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const huge = join(dir.path, 'huge.pem');
    writeFileSync(huge, Buffer.alloc(5 * 1024 * 1024, 0x41));
    try {
      for (const [file, why] of [
        ['/dev/zero', /not a regular file/],
        [fifo, /not a regular file/],
        [huge, /larger than 4194304 bytes/],
      ] as const) {
        const t = performance.now();
        assert.throws(
          () => new GuardServer(cfg({ upstreamCaFile: file }), 'https://127.0.0.1:9', () => {}),
          (e: Error) => e.message.startsWith(`guard.upstreamCaFile "${file}": `) && why.test(e.message),
        );
        assert.ok(performance.now() - t < 500, `${file} refused in ${performance.now() - t} ms`);
      }
    } finally {
      dir.cleanup();
    }
  });
});
