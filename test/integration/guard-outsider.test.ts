import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import type { TimelineEvent } from '../../src/shared/events.js';
import { sleep } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { rawRequest, rawSocket } from '../support/raw-http.js';

/**
 * What an outsider on the network can do to the guard, against a real guard on loopback in front of the fake
 * EXO (or a raw upstream playing a hostile EXO): the attacks that once broke something, then a few telling
 * ones that already failed safely.
 */

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';
const MiB = 1024 * 1024;
const cfg = (over: Record<string, unknown> = {}) =>
  GuardConfigSchema.parse({ listen: '127.0.0.1:0', ...over });
const chat = (content: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    model: MODEL,
    max_tokens: 8,
    stream: true,
    messages: [{ role: 'user', content }],
    ...extra,
  });

/** A raw upstream: `answer` writes whatever it likes on the socket once the guard's request has arrived. */
async function rawUpstream(answer: (s: Socket) => void) {
  const sockets: Socket[] = [];
  const server = createTcpServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.once('data', () => answer(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Polls until `done()` or `ms` pass; returns how long it took. */
async function within(ms: number, done: () => boolean): Promise<number> {
  const t = Date.now();
  while (!done() && Date.now() - t < ms) await sleep(50);
  return Date.now() - t;
}

describe('guard against an outsider: hostile upstream answers', () => {
  it('an SSE line over 1 MiB before the command id (a giant first frame) does not kill the guard', async () => {
    const line = `data: {"x":"${'a'.repeat(2 * MiB)}"}\n\n`;
    const up = await rawUpstream((s) => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n');
      s.write(': prefill_progress {"PrefillProgressChunk":{"processed_tokens":1,"total_tokens":1}}\n\n');
      // In pieces, as TCP delivers it: the parser holds the partial line until it passes its limit.
      for (let i = 0; i < line.length; i += 64 * 1024) s.write(line.slice(i, i + 64 * 1024));
      s.end('data: [DONE]\n\n');
    });
    const g = new GuardServer(cfg(), up.url, () => {});
    const { port } = await g.start();
    try {
      const r = await rawRequest(port, 'POST', '/v1/chat/completions', chat('hi'));
      assert.equal(r.status, 200);
      assert.ok(r.body.length > 2 * MiB, `the whole answer was relayed (${r.body.length} bytes)`);
      assert.match(r.body, /data: \[DONE\]\n\n$/);
      assert.equal(g.stats.inFlight, 0);
    } finally {
      await g.stop();
      up.close();
    }
  });

  it('an answer that stalls after its headers frees the slot after upstreamIdleSeconds, whatever its type', async () => {
    const up = await rawUpstream((s) =>
      s.write('HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100\r\n\r\n<html>'),
    );
    const events: TimelineEvent[] = [];
    const g = new GuardServer(cfg({ upstreamHeadersSeconds: 60, upstreamIdleSeconds: 1 }), up.url, (e) =>
      events.push(e),
    );
    const { port } = await g.start();
    try {
      const closed = new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.on('close', () => resolve());
        s.resume();
        const b = chat('hi');
        s.write(
          `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
        );
      });
      await within(1000, () => g.stats.inFlight === 1);
      const took = await within(4000, () => g.stats.inFlight === 0);
      assert.equal(g.stats.inFlight, 0, 'the slot is given back');
      assert.ok(took < 3000, `freed after ${took} ms`);
      await closed;
      const rec = events.find((e) => e.kind === 'guard.request');
      assert.equal(rec?.data?.['reasonKind'], 'upstream-error');
    } finally {
      await g.stop();
      up.close();
    }
  });
});

describe('guard against an outsider: clients that stop reading', () => {
  let fake: FakeExoControl;
  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 20, maxGeneratedTokens: 10 });
  });
  after(async () => {
    await fake.close();
  });

  /**
   * A serialising guard (upstreamIdleSeconds 1) with one client's 200 MiB stream in its slot, the client's
   * socket paused from the start; `run` gets the guard's port, its events and the socket.
   */
  async function withStalledStream(
    run: (port: number, events: TimelineEvent[], client: Socket) => Promise<void>,
  ): Promise<void> {
    const events: TimelineEvent[] = [];
    const g = new GuardServer(
      cfg({ upstreamIdleSeconds: 1, queue: { max: 4, timeoutSeconds: 20 } }),
      fake.url,
      (e) => events.push(e),
    );
    const { port } = await g.start();
    g.update({ mode: 'serialise', modeSource: 'level', level: 'elevated' });
    const client = connect(port, '127.0.0.1');
    client.on('error', () => {});
    try {
      await new Promise<void>((r) => client.once('connect', () => r()));
      client.pause();
      const b = chat('stall');
      client.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nx-fake-stream-bytes: ${200 * MiB}\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
      );
      await within(2000, () => fake.bulkBytesSent() > 0);
      await run(port, events, client);
      assert.deepEqual([g.stats.inFlight, g.stats.queued], [0, 0]);
      const stalled = events.find((e) => e.data?.['reasonKind'] === 'client-stalled');
      assert.match(String(stalled?.data?.['reason']), /took nothing of the answer for 1 s in all/);
    } finally {
      client.destroy();
      await g.stop();
    }
  }

  it('a client that reads nothing of a long stream is dropped after upstreamIdleSeconds: EXO cancelled, the queue moves', async () => {
    const cancelledBefore = fake.cancelled.length;
    await withStalledStream(async (port) => {
      // The client reads nothing and never closes.
      const t = Date.now();
      const next = await rawRequest(port, 'POST', '/v1/chat/completions', chat('next'));
      const waited = Date.now() - t;
      assert.equal(next.status, 200);
      assert.match(next.body, /data: \[DONE\]/);
      assert.ok(waited < 4000, `the next request waited ${waited} ms`);
      assert.ok(fake.cancelled.length > cancelledBefore, 'EXO was told to cancel the stalled request');
      const sent = fake.bulkBytesSent();
      assert.ok(sent < 64 * MiB, `EXO sent ${Math.round(sent / MiB)} MiB before it was paused`);
      await sleep(300);
      assert.equal(fake.bulkBytesSent(), sent, 'nothing more is produced for the dropped client');
    });
  });

  it('a client that takes a little of a long stream now and then is dropped once its pauses add up to upstreamIdleSeconds', async () => {
    const cancelledBefore = fake.cancelled.length;
    await withStalledStream(async (port, _events, client) => {
      // Each pause is shorter than the limit (600 ms of 1 s), each followed by 30 ms of reading.
      let reading = true;
      void (async () => {
        while (reading && !client.destroyed) {
          await sleep(600);
          client.resume();
          await sleep(30);
          client.pause();
        }
      })();
      try {
        const t = Date.now();
        const next = await rawRequest(port, 'POST', '/v1/chat/completions', chat('next'));
        const waited = Date.now() - t;
        assert.equal(next.status, 200);
        assert.ok(waited < 5000, `the next request waited ${waited} ms behind the trickling one`);
        assert.ok(fake.cancelled.length > cancelledBefore, 'EXO was told to cancel the trickling request');
      } finally {
        reading = false;
      }
    });
  });

  it('a pipelined answer waiting for the one before it is not taken for a stalled client', async () => {
    const slow = await startFakeExo({ tokenIntervalMs: 100, maxGeneratedTokens: 20 });
    const g = new GuardServer(cfg({ upstreamIdleSeconds: 1 }), slow.url, () => {});
    const { port } = await g.start();
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    try {
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
      });
      const first = chat('first', { max_tokens: 20 });
      const second = chat('second', { max_tokens: 1 });
      // The first streams for ~2 s (20 tokens, 100 ms apart); the second's 4 MiB wait behind it, past 1 s.
      s.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${Buffer.byteLength(first)}\r\n\r\n${first}` +
          `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nx-fake-stream-bytes: ${4 * MiB}\r\nContent-Length: ${Buffer.byteLength(second)}\r\n\r\n${second}`,
      );
      await within(8000, () => (text.match(/data: \[DONE\]/g) ?? []).length === 2);
      assert.equal((text.match(/data: \[DONE\]/g) ?? []).length, 2, 'both answers arrived whole');
      assert.ok(text.length > 4 * MiB);
    } finally {
      s.destroy();
      await g.stop();
      await slow.close();
    }
  });
});

describe('guard against an outsider: attacks that already fail safely', () => {
  let fake: FakeExoControl;
  let g: GuardServer;
  let port: number;
  const big = chat('a'.repeat(6000));
  const len = Buffer.byteLength(big);
  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 20, maxGeneratedTokens: 4 });
    g = new GuardServer(cfg({ contextCap: 1000 }), fake.url, () => {});
    port = (await g.start()).port;
  });
  after(async () => {
    await g.stop();
    await fake.close();
  });

  it('framing and routing tricks: an over-cap chat reaches EXO by none of them', async () => {
    fake.requests.length = 0;
    const post = (head: string, body = big) =>
      `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const cases: Array<[string, string, RegExp]> = [
      [
        'TE + CL',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${len}\r\nTransfer-Encoding: chunked\r\n\r\n${big}`,
        /^HTTP\/1\.1 400/,
      ],
      [
        'two Content-Lengths',
        `POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: ${len}\r\n\r\n{}${big}`,
        /^HTTP\/1\.1 400/,
      ],
      [
        'HTTP/1.0 chunked',
        `POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n${len.toString(16)}\r\n${big}\r\n0\r\n\r\n`,
        /^HTTP\/1\.1 400/,
      ],
      [
        'CONNECT',
        'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n',
        /^HTTP\/1\.1 405 [\s\S]*"the guard forwards only to http:\/\/127\.0\.0\.1:\d+; CONNECT is refused"/,
      ],
      [
        'websocket upgrade',
        post(
          'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
        ),
        /^HTTP\/1\.1 400[\s\S]*context_length_exceeded/,
      ],
      [
        'h2c upgrade',
        post(
          'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n',
        ),
        /^HTTP\/1\.1 400[\s\S]*context_length_exceeded/,
      ],
      [
        'Expect: 100-continue',
        post('Expect: 100-continue\r\n'),
        /^HTTP\/1\.1 100 Continue[\s\S]*HTTP\/1\.1 400[\s\S]*context_length_exceeded/,
      ],
      [
        'pipelined behind a GET',
        `GET /node_id HTTP/1.1\r\nHost: localhost\r\n\r\n${post('')}`,
        /^HTTP\/1\.1 200[\s\S]*HTTP\/1\.1 400[\s\S]*context_length_exceeded/,
      ],
      [
        '%2e%2e',
        post('').replace('/v1/chat/completions', '/v1/x/%2e%2e/chat/completions'),
        /^HTTP\/1\.1 400[\s\S]*context_length_exceeded/,
      ],
    ];
    for (const [name, bytes, want] of cases) assert.match(await rawSocket(port, bytes, 150), want, name);
    // Another machine in Host: refused (421), never sent anywhere.
    assert.equal((await rawRequest(port, 'GET', '/node_id', null, { host: 'evil.example' })).status, 421);
    await sleep(50);
    assert.deepEqual(
      fake.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /node_id'],
    );
  });

  it('body disguises are judged as EXO reads them: duplicate keys, escaped keys, a BOM, stream as a string, compressed bodies', async () => {
    fake.requests.length = 0;
    const long = 'a'.repeat(6000);
    const gzip = gzipSync(big);
    const cases: Array<[string, string | Buffer, Record<string, string>, RegExp]> = [
      [
        'duplicate max_tokens (the last wins, as in Python)',
        `{"model":"${MODEL}","messages":[],"max_tokens":5,"max_tokens":100000}`,
        {},
        /max_tokens 100000/,
      ],
      [
        '\\u-escaped key',
        `{"model":"${MODEL}","\\u006dessages":[{"role":"user","content":"${long}"}],"max_tokens":5}`,
        {},
        /exceeds the context cap/,
      ],
      ['a UTF-8 BOM', `\ufeff${big}`, {}, /exceeds the context cap/],
      ['stream "true"', chat(long, { stream: 'true' }), {}, /exceeds the context cap/],
      ['gzip', gzip, { 'content-encoding': 'gzip' }, /not valid UTF-8/],
    ];
    for (const [name, body, headers, want] of cases) {
      const r = await rawRequest(port, 'POST', '/v1/chat/completions', body as string, headers);
      assert.equal(r.status, 400, name);
      assert.match(JSON.parse(r.body).error.message, want, name);
    }
    // A case-changed path is not EXO's route either: it goes on as spelled and EXO answers 404.
    const upper = await rawRequest(port, 'POST', '/V1/Chat/Completions', big);
    assert.equal(upper.status, 404);
    assert.deepEqual(
      fake.requests.map((r) => r.path),
      ['/V1/Chat/Completions'],
    );
  });
});
