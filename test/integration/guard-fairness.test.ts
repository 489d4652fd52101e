/**
 * The serialise queue between clients: turns go round between the clients (addresses) waiting, and when the
 * queue is full a client below its part takes the place of the newest request of one holding more; a client
 * alone may fill it. Before, one client that filled the queue refused every other client's
 * request with 503 for as long as it kept it full, and a request that did get in waited behind all of its.
 * Two loopback addresses stand in for two machines (Linux routes all of 127/8 to lo).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import { sleep } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';

/** A streamed chat from `from` (a local address); resolves with the status and the whole answer. */
function chat(port: number, from: string, content: string): Promise<{ status: number; text: string }> {
  const body = JSON.stringify({
    model: MODEL,
    max_tokens: 3,
    stream: true,
    messages: [{ role: 'user', content }],
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        localAddress: from,
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the serialise queue between clients', {
  skip: process.platform !== 'linux' && 'needs 127.0.0.2',
}, () => {
  let fake: FakeExoControl;
  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 150, maxGeneratedTokens: 3 });
  });
  after(async () => {
    await fake.close();
  });

  const serialising = async () => {
    const guard = new GuardServer(
      GuardConfigSchema.parse({ listen: '127.0.0.1:0', queue: { max: 4, timeoutSeconds: 30 } }),
      fake.url,
      () => {},
    );
    const { port } = await guard.start();
    guard.update({ mode: 'serialise', modeSource: 'level', level: 'elevated' });
    fake.requests.length = 0;
    return { guard, port };
  };
  /** What reached EXO, by the marker each chat carries, in the order it arrived. */
  const reached = () =>
    fake.requests
      .filter((r) => r.method === 'POST')
      .map((r) => (JSON.parse(r.body) as { messages: Array<{ content: string }> }).messages[0]!.content);

  it('a client that filled the queue gives a place to another that comes; turns go round between them', async () => {
    const { guard, port } = await serialising();
    try {
      const b0 = chat(port, '127.0.0.2', 'b0');
      await sleep(100);
      const a = [1, 2, 3, 4].map((i) => chat(port, '127.0.0.1', `a${i}`));
      await sleep(150);
      assert.equal(guard.stats.queued, 4, 'room in the queue: one client may fill it');
      // Full: the other client, below its part (2 of 4 for two clients), takes the place of a's newest.
      const b1 = chat(port, '127.0.0.2', 'b1');
      await sleep(100);
      assert.equal(guard.stats.queued, 4);
      const answers = await Promise.all([b0, ...a, b1]);
      assert.deepEqual(
        answers.map((r) => r.status),
        [200, 200, 200, 200, 503, 200],
      );
      assert.match(answers[4]!.text, /its newest request gave its place to another client's/);
      // b1 came last and runs after one of a's: a1, then b1 (its round), then a2, a3.
      assert.deepEqual(reached(), ['b0', 'a1', 'b1', 'a2', 'a3']);
    } finally {
      await guard.stop();
    }
  });

  it('two addresses of one sender that fill the queue: a third client still gets a place, theirs gives way', async () => {
    const { guard, port } = await serialising();
    try {
      const running = chat(port, '127.0.0.3', 'x0');
      await sleep(100);
      const theirs = [
        chat(port, '127.0.0.3', 'x1'),
        chat(port, '127.0.0.3', 'x2'),
        chat(port, '127.0.0.4', 'y1'),
        chat(port, '127.0.0.4', 'y2'),
      ];
      await sleep(150);
      assert.equal(guard.stats.queued, 4, 'two clients, half each: the queue is full');
      const victim = chat(port, '127.0.0.2', 'v1');
      await sleep(100);
      assert.equal(guard.stats.queued, 4, 'the victim took the place of one of theirs');
      const answers = await Promise.all([running, ...theirs, victim]);
      const statuses = answers.map((r) => r.status);
      assert.equal(statuses.at(-1), 200, 'the third client is answered');
      assert.equal(statuses.filter((st) => st === 503).length, 1);
      assert.match(answers.find((r) => r.status === 503)!.text, /gave its place to another client's/);
      assert.ok(reached().includes('v1'));
    } finally {
      await guard.stop();
    }
  });

  it('a client alone may fill the whole queue (the usual loopback set-up)', async () => {
    const { guard, port } = await serialising();
    try {
      // A body that is not JSON from elsewhere is a 400 and no client of the queue.
      const junk = await new Promise<number>((resolve) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            localAddress: '127.0.0.9',
            method: 'POST',
            path: '/v1/chat/completions',
            agent: false,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.end('{not json');
      });
      assert.equal(junk, 400);
      const running = chat(port, '127.0.0.1', 'a0');
      await sleep(100);
      const queued = [1, 2, 3, 4].map((i) => chat(port, '127.0.0.1', `a${i}`));
      await sleep(100);
      assert.equal(guard.stats.queued, 4);
      const over = await chat(port, '127.0.0.1', 'a5');
      assert.equal(over.status, 503);
      assert.match(over.text, /the queue is full \(4 waiting\)/);
      assert.deepEqual(
        (await Promise.all([running, ...queued])).map((r) => r.status),
        [200, 200, 200, 200, 200],
      );
      assert.deepEqual(reached(), ['a0', 'a1', 'a2', 'a3', 'a4']);
    } finally {
      await guard.stop();
    }
  });
});
