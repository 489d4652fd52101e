import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { httpRequest, keepAliveAgent } from '../../../src/main/core/util/http-request.js';

/** A loopback server whose handler the test chooses; counts the connections it accepted. */
async function serve(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; connections: () => number; server: Server }> {
  const server = createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    server,
  };
}

describe('httpRequest (node:http in place of fetch)', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('reads a whole answer and keeps one socket for a poller', async () => {
    const s = await serve((req, res) => res.end(JSON.stringify({ path: req.url })));
    servers.push(s.server);
    const agent = keepAliveAgent();
    for (const p of ['/a', '/b', '/c']) {
      const r = await httpRequest(`${s.url}${p}`, { timeoutMs: 1000, maxBytes: 1024, agent });
      assert.deepEqual(r, { ok: true, status: 200, text: JSON.stringify({ path: p }) });
    }
    assert.equal(s.connections(), 1, 'three requests over one kept-alive connection');
    agent.destroy();
  });

  it('drops an answer past its byte limit without keeping it', async () => {
    const s = await serve((_req, res) => {
      res.write(Buffer.alloc(600_000, 97));
      res.end(Buffer.alloc(600_000, 97));
    });
    servers.push(s.server);
    const r = await httpRequest(`${s.url}/big`, { timeoutMs: 2000, maxBytes: 1_000_000 });
    assert.deepEqual(r, {
      ok: false,
      kind: 'too-large',
      error: 'answer longer than 1000000 bytes',
      status: 200,
    });
  });

  it('gives up at the time limit, however slowly the answer trickles', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(t));
    });
    servers.push(s.server);
    const t0 = Date.now();
    const r = await httpRequest(`${s.url}/slow`, { timeoutMs: 300, maxBytes: 1_000_000 });
    assert.deepEqual(r, { ok: false, kind: 'timeout', error: 'no answer within 300 ms', status: null });
    assert.ok(Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  });

  it('asks again on a new socket when a kept-alive one was closed by the server', async () => {
    // The second request on a connection finds it closed, as when EXO drops an idle socket.
    const served = new WeakMap<object, number>();
    const s = await serve((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n > 1) req.socket.destroy();
      else res.end('"ok"');
    });
    servers.push(s.server);
    const agent = keepAliveAgent();
    assert.equal((await httpRequest(`${s.url}/1`, { timeoutMs: 1000, maxBytes: 64, agent })).ok, true);
    const again = await httpRequest(`${s.url}/2`, { timeoutMs: 1000, maxBytes: 64, agent });
    assert.deepEqual(again, { ok: true, status: 200, text: '"ok"' });
    assert.equal(s.connections(), 2);
    agent.destroy();
  });

  it('says why it could not connect, and a cut answer is a lost connection', async () => {
    const refused = await httpRequest('http://127.0.0.1:9/x', { timeoutMs: 1000, maxBytes: 64 });
    assert.deepEqual(refused, { ok: false, kind: 'down', error: 'ECONNREFUSED', status: null });
    const s = await serve((req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20);
    });
    servers.push(s.server);
    const cut = await httpRequest(`${s.url}/cut`, { timeoutMs: 1000, maxBytes: 1024 });
    assert.equal(cut.ok, false);
    assert.equal(!cut.ok && cut.kind, 'down');
    assert.match(!cut.ok ? cut.error : '', /^connection lost/);
  });
});
