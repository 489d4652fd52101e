import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { FREE_SOCKET_MS, parseKeepAlive } from '../../../src/main/core/util/http-agent.js';
import { httpRequest, keepAliveAgent } from '../../../src/main/core/util/http-request.js';
import { CLOSING_VARIANTS, closingServer, drivePolls } from '../../support/closing-http-servers.js';

const listen = async <T extends Server | NetServer>(s: T): Promise<{ server: T; url: string }> => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
};
const tick = () => new Promise((r) => setImmediate(r));

describe('httpRequest against servers that close connections', () => {
  const servers: Array<Server | NetServer> = [];
  after(() => {
    for (const s of servers) {
      if ('closeAllConnections' in s) s.closeAllConnections();
      s.close();
    }
  });

  for (const variant of CLOSING_VARIANTS)
    it(`no poll fails against a server: ${variant} (sequential, gaps, bursts, monitor rounds)`, async (t) => {
      const s = await closingServer(variant);
      const agent = keepAliveAgent();
      const tally = await drivePolls(
        (path) => httpRequest(`${s.url}${path}`, { timeoutMs: 2000, maxBytes: 4096, agent }),
        { sequential: 300, gaps: 80, bursts: 40, monitor: 60 },
      );
      t.diagnostic(
        `${variant}: ${tally.failed}/${tally.total} failed, ${s.connections()} connections, ${s.requests()} requests seen`,
      );
      agent.destroy();
      await s.close();
      assert.deepEqual(tally.errors, {});
      assert.equal(tally.failed, 0);
      assert.equal(tally.total, 980);
    });

  it('a POST or DELETE goes on a connection of its own and is sent once, even when it fails', async () => {
    let requests = 0;
    let connections = 0;
    const { server, url } = await listen(
      createServer((req, res) => {
        requests++;
        if (req.method === 'POST') req.socket.destroy();
        else res.end('"ok"');
      }),
    );
    server.on('connection', () => connections++);
    servers.push(server);
    const agent = keepAliveAgent();
    const o = { timeoutMs: 1000, maxBytes: 64, agent };
    assert.equal((await httpRequest(`${url}/state`, o)).ok, true);
    const cancel = await httpRequest(`${url}/v1/cancel/1`, { ...o, method: 'POST' });
    assert.deepEqual(cancel, { ok: false, kind: 'down', error: 'ECONNRESET', status: null });
    assert.equal(requests, 2, 'the POST reached the server once');
    assert.equal((await httpRequest(`${url}/instance/1`, { ...o, method: 'DELETE' })).ok, true);
    assert.equal(connections, 3, 'the GET kept its socket; POST and DELETE each had their own');
    agent.destroy();
  });

  it('a GET whose answer had begun when the connection broke is not asked again', async () => {
    let requests = 0;
    const { server, url } = await listen(
      createNetServer((sock) => {
        sock.on('error', () => undefined);
        sock.on('data', () => {
          requests++;
          if (requests === 1) sock.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n"ok"');
          else {
            sock.write('HTTP/1.1 2');
            setTimeout(() => sock.resetAndDestroy(), 10);
          }
        });
      }),
    );
    servers.push(server);
    const agent = keepAliveAgent();
    const o = { timeoutMs: 1000, maxBytes: 64, agent };
    assert.equal((await httpRequest(`${url}/a`, o)).ok, true);
    const broken = await httpRequest(`${url}/b`, o);
    assert.equal(broken.ok, false);
    assert.equal(!broken.ok && broken.kind, 'down');
    assert.equal(requests, 2);
    agent.destroy();
  });

  it('a second attempt stays within the time limit of the whole request', async () => {
    let requests = 0;
    const { server, url } = await listen(
      createNetServer((sock) => {
        sock.on('error', () => undefined);
        sock.on('data', () => {
          requests++;
          // First: answered; second (the reused socket): dropped after 300 ms; third (new socket): silence.
          if (requests === 1) sock.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n"ok"');
          else if (requests === 2) setTimeout(() => sock.destroy(), 300);
        });
      }),
    );
    servers.push(server);
    const agent = keepAliveAgent();
    assert.equal((await httpRequest(`${url}/a`, { timeoutMs: 1000, maxBytes: 64, agent })).ok, true);
    const t0 = performance.now();
    const r = await httpRequest(`${url}/b`, { timeoutMs: 400, maxBytes: 64, agent });
    const took = performance.now() - t0;
    assert.deepEqual(r, { ok: false, kind: 'timeout', error: 'no answer within 400 ms', status: null });
    assert.equal(requests, 3, 'asked again once, on a new connection');
    assert.ok(took < 650, `${took.toFixed(0)} ms for a 400 ms limit`);
    agent.destroy();
  });

  it('keeps a socket only as long as the server said it may (Keep-Alive timeout and max, any order)', async () => {
    const hints = ['max=100, timeout=1', 'timeout=1', 'max=0', 'max=5, timeout=2', 'timeout=30'];
    const results: Array<{ hint: string; connections: number; idleMs: number | null }> = [];
    for (const hint of hints) {
      let connections = 0;
      const { server, url } = await listen(
        createServer((_req, res) => res.setHeader('keep-alive', hint).end('"ok"')),
      );
      server.on('connection', () => connections++);
      servers.push(server);
      const agent = keepAliveAgent();
      let idleMs: number | null = null;
      for (const p of ['/a', '/b']) {
        assert.equal((await httpRequest(`${url}${p}`, { timeoutMs: 1000, maxBytes: 64, agent })).ok, true);
        await tick();
        idleMs = Object.values(agent.freeSockets).flat()[0]?.timeout ?? null;
      }
      results.push({ hint, connections, idleMs });
      agent.destroy();
    }
    assert.deepEqual(results, [
      { hint: 'max=100, timeout=1', connections: 2, idleMs: null },
      { hint: 'timeout=1', connections: 2, idleMs: null },
      { hint: 'max=0', connections: 2, idleMs: null },
      { hint: 'max=5, timeout=2', connections: 1, idleMs: 1000 },
      { hint: 'timeout=30', connections: 1, idleMs: FREE_SOCKET_MS },
    ]);
  });

  it('an idle socket is closed by this side before common servers close theirs (hypercorn 5 s, gunicorn 2 s)', () => {
    assert.ok(FREE_SOCKET_MS > 1000 && FREE_SOCKET_MS < 2000, `${FREE_SOCKET_MS}`);
    assert.deepEqual(parseKeepAlive('Timeout = 5, MAX="7"'), { timeoutSeconds: 5, max: 7 });
    assert.equal(parseKeepAlive('foo=1'), null);
    assert.equal(parseKeepAlive(undefined), null);
  });

  it('without an agent, GETs share kept-alive sockets', async () => {
    let connections = 0;
    const { server, url } = await listen(createServer((_req, res) => res.end('"ok"')));
    server.on('connection', () => connections++);
    servers.push(server);
    for (const p of ['/a', '/b', '/c'])
      assert.equal((await httpRequest(`${url}${p}`, { timeoutMs: 1000, maxBytes: 64 })).ok, true);
    assert.equal(connections, 1);
  });
});
