import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { CANCEL_TIMEOUT_MS, cancelInExo, createUpstream } from '../../../src/main/core/guard/upstream.js';

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const openConnections = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n))));

async function until(what: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A hung EXO: it accepts connections and reads what comes, and never answers. */
async function hungExo(): Promise<{ server: Server; port: number; requests: () => number }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => {
      requests += (d.toString('latin1').match(/^POST \/v1\/cancel\//gm) ?? []).length;
    });
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  const port = await listen(server);
  return { server, port, requests: () => requests };
}

describe("EXO's cancel is bounded in time", () => {
  it('the limit is a few seconds', () => {
    assert.ok(CANCEL_TIMEOUT_MS >= 1000 && CANCEL_TIMEOUT_MS <= 10_000, String(CANCEL_TIMEOUT_MS));
  });

  it('against a hung EXO each cancel gives up at its limit, is sent once and leaves no connection open', async () => {
    const exo = await hungExo();
    const upstream = createUpstream(`http://127.0.0.1:${exo.port}`, null);
    try {
      const t0 = Date.now();
      const failures: Array<{ reason: string; after: number }> = [];
      for (let i = 0; i < 20; i++)
        cancelInExo(upstream, `cmd-${i}`, (reason) => failures.push({ reason, after: Date.now() - t0 }), 300);
      await until(async () => (await openConnections(exo.server)) === 20, 2000);
      await until(async () => failures.length === 20, 2000);
      for (const f of failures) {
        assert.match(f.reason, /^EXO did not answer within 0\.3 s$/);
        assert.ok(f.after >= 280 && f.after < 1500, `gave up after ${f.after} ms`);
      }
      await until(async () => (await openConnections(exo.server)) === 0, 1000);
      // Never retried: one POST per cancel, and nothing more arrives later.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(exo.requests(), 20);
      assert.equal(await openConnections(exo.server), 0);
      assert.equal(failures.length, 20);
    } finally {
      upstream.agent.destroy();
      exo.server.close();
    }
  });

  it('an answer is no failure (404: the command had ended), a 5xx or a refused connection is', async () => {
    const server = createHttpServer((req, res) => {
      const status = req.url?.endsWith('/gone') ? 404 : req.url?.endsWith('/broken') ? 500 : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
    );
    const upstream = createUpstream(`http://127.0.0.1:${port}`, null);
    const down = createUpstream('http://127.0.0.1:9', null);
    try {
      const failed = new Map<string, string>();
      const send = (u: typeof upstream, id: string): Promise<void> =>
        new Promise((resolve) => {
          cancelInExo(u, id, (why) => failed.set(id, why), 1000);
          setTimeout(resolve, 300);
        });
      await Promise.all([
        send(upstream, 'ok'),
        send(upstream, 'gone'),
        send(upstream, 'broken'),
        send(down, 'refused'),
      ]);
      assert.deepEqual(Object.fromEntries(failed), {
        broken: 'EXO answered 500',
        refused: 'EXO did not answer: ECONNREFUSED',
      });
    } finally {
      upstream.agent.destroy();
      down.agent.destroy();
      server.closeAllConnections();
      server.close();
    }
  });
});
