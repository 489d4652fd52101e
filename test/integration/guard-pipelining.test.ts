/**
 * HTTP/1.1 pipelining through the guard, over real sockets on loopback: requests a client writes at once on one
 * connection reach EXO one at a time, as EXO's own server takes them, and a connection pipelining past the bound
 * is closed. Before, every request of a 66 KB write of 2000 `GET /state` was forwarded at once (2000 upstream
 * sockets, the answers held in the daemon), and a generation request pipelined behind a streaming answer held
 * its slot for as long as that answer lasted.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import { MAX_PIPELINED } from '../../src/main/core/util/pipelined-requests.js';
import type { TimelineEvent } from '../../src/shared/events.js';
import { sleep } from '../support/cli-runner.js';

/** EXO stand-in: counts requests and how many it holds at once; `/slow` streams until `endSlow`. */
function upstream() {
  const seen: string[] = [];
  /** When EXO saw each request's connection close, ms since the test's mark. */
  const closedAt: number[] = [];
  let mark = 0;
  let active = 0;
  let maxActive = 0;
  const slow: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    active++;
    maxActive = Math.max(maxActive, active);
    res.on('close', () => {
      active--;
      closedAt.push(Date.now() - mark);
    });
    if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n');
      slow.push(res);
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () =>
      setTimeout(
        () => {
          const body = req.url?.startsWith('/v1/')
            ? JSON.stringify({ id: 'c', object: 'chat.completion', choices: [] })
            : JSON.stringify({ url: req.url });
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          });
          if (!res.destroyed) res.end(body);
        },
        Buffer.concat(parts).includes('"model":"slow"') ? 3000 : 10,
      ),
    );
  });
  return {
    server,
    seen,
    closedAt,
    mark: () => {
      mark = Date.now();
      closedAt.length = 0;
    },
    maxActive: () => maxActive,
    endSlow: () => {
      for (const r of slow.splice(0)) r.end();
    },
  };
}

const chat = JSON.stringify({
  model: 'm',
  max_tokens: 4,
  messages: [{ role: 'user', content: 'hi' }],
});

describe('pipelined requests through the guard', () => {
  const exo = upstream();
  let url = '';
  before(async () => {
    await new Promise<void>((r) => exo.server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(exo.server.address() as { port: number }).port}`;
  });
  after(() => {
    exo.endSlow();
    exo.server.closeAllConnections();
    exo.server.close();
  });

  it(`${MAX_PIPELINED + 1} requests in one write: forwarded one at a time, answered in order`, async () => {
    const g = new GuardServer(GuardConfigSchema.parse({ listen: '127.0.0.1:0' }), url, () => {});
    const { port } = await g.start();
    exo.seen.length = 0;
    try {
      const n = MAX_PIPELINED + 1;
      const text = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d.toString();
          if ((got.match(/"url":/g) ?? []).length === n) {
            s.end();
            resolve(got);
          }
        });
        s.on('error', reject);
        s.write(
          Array.from({ length: n }, (_, i) => `GET /state?i=${i} HTTP/1.1\r\nhost: localhost\r\n\r\n`).join(
            '',
          ),
        );
      });
      const order = [...text.matchAll(/"url":"\/state\?i=(\d+)"/g)].map((m) => Number(m[1]));
      assert.deepEqual(
        order,
        Array.from({ length: n }, (_, i) => i),
      );
      assert.equal(exo.seen.length, n);
      assert.equal(exo.maxActive(), 1, 'EXO never held two of them at once');
    } finally {
      await g.stop();
    }
  });

  it('2000 requests in one write: the connection is closed, EXO sees at most the bound, and says so once', async () => {
    const events: TimelineEvent[] = [];
    const g = new GuardServer(GuardConfigSchema.parse({ listen: '127.0.0.1:0' }), url, (e) => events.push(e));
    const { port } = await g.start();
    exo.seen.length = 0;
    try {
      const flood = Array.from({ length: 2000 }, () => 'GET /state HTTP/1.1\r\nhost: localhost\r\n\r\n').join(
        '',
      );
      for (let i = 0; i < 3; i++)
        await new Promise<void>((resolve) => {
          const s = connect(port, '127.0.0.1');
          s.on('error', () => {});
          s.on('close', () => resolve());
          s.resume();
          s.write(flood);
        });
      await sleep(100);
      assert.ok(exo.seen.length <= 3, `${exo.seen.length} requests reached EXO`);
      assert.equal(exo.maxActive(), 1);
      const said = events.filter((e) => e.kind === 'guard.pipelining');
      assert.equal(said.length, 1, 'one event a minute, however many connections');
      assert.match(said[0]!.message, /^closed 1 connection\(s\) that pipelined more than 8 requests/);
      // Anyone else is served as before.
      const r = await fetch(`http://127.0.0.1:${port}/state`);
      assert.deepEqual(await r.json(), { url: '/state' });
    } finally {
      await g.stop();
    }
  });

  it('a generation request pipelined behind a streaming answer is not judged, and holds no slot, until that answer ends', async () => {
    const g = new GuardServer(GuardConfigSchema.parse({ listen: '127.0.0.1:0' }), url, () => {});
    const { port } = await g.start();
    g.update({ mode: 'serialise', level: 'elevated', modeSource: 'level' });
    try {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString();
      });
      s.write(
        'GET /slow HTTP/1.1\r\nhost: localhost\r\n\r\n' +
          `POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(chat)}\r\n\r\n${chat}`,
      );
      await sleep(300);
      assert.equal(g.stats.inFlight, 0, 'the pipelined chat holds no slot while /slow streams');
      // Another client's generation is admitted at once, not queued behind it.
      const other = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chat,
      });
      assert.equal(other.status, 200);
      await other.text();
      exo.endSlow();
      for (let i = 0; i < 50 && !got.includes('chat.completion'); i++) await sleep(20);
      assert.match(got, /chat\.completion/, 'the pipelined chat is answered once /slow has ended');
      s.destroy();
    } finally {
      await g.stop();
    }
  });

  it('a client that leaves with a large body pipelined behind its chat is seen at once: EXO is let go, nothing else is sent', async () => {
    const g = new GuardServer(GuardConfigSchema.parse({ listen: '127.0.0.1:0' }), url, () => {});
    const { port } = await g.start();
    exo.seen.length = 0;
    try {
      const slow = JSON.stringify({
        model: 'slow',
        max_tokens: 4,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const big = JSON.stringify({
        model: 'm',
        max_tokens: 4,
        messages: [{ role: 'user', content: 'x'.repeat(256 * 1024) }],
      });
      const post = (body: string) =>
        `POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      exo.mark();
      s.write(post(slow) + post(big));
      await sleep(500);
      assert.equal(g.stats.inFlight, 1);
      s.destroy();
      for (let i = 0; i < 40 && g.stats.inFlight > 0; i++) await sleep(25);
      // Before, the unread 256 KB body stopped Node reading the connection: the leaving was seen only when
      // EXO's answer ended (3 s here, 12 s in the attack), the slot held all that time.
      assert.equal(g.stats.inFlight, 0, 'the slot is given back at once');
      assert.ok(
        (exo.closedAt[0] ?? Number.POSITIVE_INFINITY) < 1500,
        `EXO let go after ${exo.closedAt[0]} ms`,
      );
      await sleep(3000);
      assert.equal(exo.seen.length, 1, 'the pipelined chat never reached EXO');
    } finally {
      await g.stop();
    }
  });

  it('a body read ahead and never measured (its token changed while it waited: 401) gives its bytes back at once', async () => {
    const cfg = (token: string) =>
      GuardConfigSchema.parse({ listen: '127.0.0.1:0', token, maxBufferedBodyBytes: 1024 * 1024 });
    const g = new GuardServer(cfg('first-token-0123456789'), url, () => {});
    const { port } = await g.start();
    try {
      const body = (model: string) =>
        JSON.stringify({
          model,
          max_tokens: 4,
          messages: [{ role: 'user', content: 'x'.repeat(600 * 1024) }],
        });
      const post = (b: string, token: string) =>
        `POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`;
      const slow = JSON.stringify({
        model: 'slow',
        max_tokens: 4,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString();
      });
      s.on('error', () => {});
      s.write(post(slow, 'first-token-0123456789') + post(body('m'), 'first-token-0123456789'));
      await sleep(500); // the 600 KB body is read ahead while the slow one is answered
      g.reconfigure(cfg('second-token-0123456789'));
      for (let i = 0; i < 200 && !got.includes(' 401 '); i++) await sleep(25);
      assert.match(got, /HTTP\/1\.1 401 /, 'its turn came and the new token refused it');
      // The connection stays open; another client's 600 KB body fits only if the first's bytes came back.
      const other = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer second-token-0123456789' },
        body: body('m'),
      });
      assert.equal(other.status, 200, await other.text());
      s.destroy();
    } finally {
      await g.stop();
    }
  });
});
