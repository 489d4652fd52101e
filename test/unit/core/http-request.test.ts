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

  it('a URL node:http cannot ask, or a header it refuses, is an answer, not a throw', async () => {
    const o = { timeoutMs: 1000, maxBytes: 64 };
    assert.deepEqual(await httpRequest('file:///etc/passwd', o), {
      ok: false,
      kind: 'down',
      error: 'file: is not http: or https:',
      status: null,
    });
    assert.equal((await httpRequest('ftp://127.0.0.1/x', o)).ok, false);
    assert.deepEqual(await httpRequest('http://[::1', o), {
      ok: false,
      kind: 'down',
      error: '"http://[::1" is not a URL',
      status: null,
    });
    // A cluster token with a line break in it (the schema only asks for 16 characters).
    const header = await httpRequest('http://127.0.0.1:9/x', {
      ...o,
      headers: { authorization: 'Bearer abc\r\nX-Injected: 1' },
    });
    assert.deepEqual(header, { ok: false, kind: 'down', error: 'ERR_INVALID_CHAR', status: null });
  });

  it('a server speaking bad HTTP, or sending elsewhere, gets a value; a redirect is not followed', async () => {
    const { createServer: rawServer } = await import('node:net');
    const answers = [
      'HTTP/1.1 abc\r\n\r\n',
      'not http at all\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde',
      `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100_000)}\r\n\r\n`,
      'HTTP/1.1 302 Found\r\nLocation: http://203.0.113.1/\r\nContent-Length: 0\r\n\r\n',
    ];
    const results = [];
    for (const text of answers) {
      const srv = rawServer((sock) => {
        sock.on('error', () => undefined);
        sock.once('data', () => sock.end(text));
      });
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/state`;
      results.push(await httpRequest(url, { timeoutMs: 1000, maxBytes: 1024 }));
      srv.close();
    }
    assert.deepEqual(
      results.map((r) => (r.ok ? `ok ${r.status}` : `${r.kind} ${r.error}`)),
      [
        'down HPE_INVALID_STATUS',
        'down HPE_INVALID_CONSTANT',
        'down HPE_INVALID_CHUNK_SIZE',
        'down HPE_UNEXPECTED_CONTENT_LENGTH',
        'down HPE_HEADER_OVERFLOW',
        'ok 302',
      ],
    );
  });
});
