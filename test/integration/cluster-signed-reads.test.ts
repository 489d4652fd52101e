import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { signRequest } from '../../src/main/core/api/signed-request.js';
import { ClusterConfigSchema } from '../../src/main/core/cluster/cluster-config.js';
import { collectCluster } from '../../src/main/core/cluster/cluster-view.js';
import { httpRequest } from '../../src/main/core/util/http-request.js';
import { startDaemon, waitForExit } from '../support/cli-runner.js';
import { makeStatusView } from '../support/status-view-factory.js';
import { tempDir } from '../support/temp-dir.js';

type Exo = Parameters<typeof collectCluster>[2];
/** EXO's topology naming one other node, on 127.0.0.1 (the port comes from cluster.apiPort). */
const topologyExo = {
  state: async () => ({
    ok: true,
    value: { connections: { self: { other: [{ sinkMultiaddr: { ip_address: '127.0.0.1' } }] } } },
  }),
} as unknown as Exo;

/** A server on the cluster's port that is not a current exo-sentinel: it keeps what it is sent. */
async function spyPeer(
  challenge: string,
): Promise<{ server: Server; port: number; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
    res.end('{"error":{"message":"no"}}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, seen };
}

describe('the cluster token never leaves this machine for a node found through EXO', () => {
  const dir = tempDir();
  let peer: Awaited<ReturnType<typeof startDaemon>>;
  let peerPort = 0;
  let token = '';
  const spies: Server[] = [];
  before(async () => {
    // A peer as on a real cluster: beyond loopback, so its API needs the token.
    peer = await startDaemon(['--data-dir', dir.path, '--api-listen', '0.0.0.0:0', '--no-guard']);
    peerPort = Number(/api {6}http:\/\/0\.0\.0\.0:(\d+)/.exec(peer.output())![1]);
    token = readFileSync(`${dir.path}/api-token`, 'utf8').trim();
  });
  after(async () => {
    for (const s of spies) s.close();
    peer.kill('SIGTERM');
    await waitForExit(peer);
    dir.cleanup();
  });

  it('a peer found in the topology answers a signed read: its status, no bearer sent', async () => {
    const config = ClusterConfigSchema.parse({ token, apiPort: peerPort, timeoutMs: 3000 });
    // The peer's first sample may still be on its way: ask until it has one (a few seconds at most).
    let rows = (await collectCluster(makeStatusView(), config, topologyExo, 'self')).rows;
    for (let i = 0; i < 30 && rows[1]?.memory.total == null; i++) {
      await new Promise((r) => setTimeout(r, 200));
      rows = (await collectCluster(makeStatusView(), config, topologyExo, 'self')).rows;
    }
    assert.equal(rows.length, 2);
    assert.equal(rows[1]!.source, 'exo-topology');
    assert.equal(rows[1]!.reachable, true, String(rows[1]!.error));
    assert.equal(rows[1]!.level, 'ok');
    assert.ok((rows[1]!.memory.total ?? 0) > 0);
  });

  it('whatever answers at a topology address gets a signature, never the token, even when it asks for a bearer', async () => {
    const spy = await spyPeer('Bearer');
    spies.push(spy.server);
    const config = ClusterConfigSchema.parse({ token, apiPort: spy.port, timeoutMs: 3000 });
    const { rows } = await collectCluster(makeStatusView(), config, topologyExo, 'self');
    assert.equal(spy.seen.length, 1, 'asked once, not again with a bearer');
    assert.match(
      String(spy.seen[0]!.authorization),
      /^ExoSentinel-HMAC-SHA256 t=\d+, n=[0-9a-f]{32}, s=[0-9a-f]{64}$/,
    );
    for (const h of spy.seen) assert.ok(!JSON.stringify(h).includes(token), 'the token is in no header');
    assert.equal(rows[1]!.reachable, false);
    assert.match(
      String(rows[1]!.error),
      /it does not take signed reads: an exo-sentinel older than this one, to upgrade, or not one; the cluster token is never sent/,
    );
  });

  it('what another service answers at a topology address is not shown back: the row says it is not JSON', async () => {
    const other = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('SECRET-INTERNAL-VALUE 42');
    });
    spies.push(other);
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as { port: number }).port;
    const config = ClusterConfigSchema.parse({ apiPort: port, timeoutMs: 3000 });
    const { rows } = await collectCluster(makeStatusView(), config, topologyExo, 'self');
    assert.equal(rows[1]!.reachable, false);
    assert.equal(rows[1]!.error, 'its answer is not JSON (24 characters)');
  });

  it('a configured peer gets a signature, never the token, even when it asks for a bearer (a spoofed name could answer)', async () => {
    const older = await spyPeer('Bearer');
    const current = await spyPeer('Bearer, ExoSentinel-HMAC-SHA256');
    spies.push(older.server, current.server);
    const config = ClusterConfigSchema.parse({
      token,
      peers: [`http://127.0.0.1:${older.port}`, `http://127.0.0.1:${current.port}`],
      timeoutMs: 3000,
    });
    const { rows } = await collectCluster(makeStatusView(), config, null, null);
    assert.deepEqual(
      older.seen.map((h) => String(h.authorization).split(' ')[0]),
      ['ExoSentinel-HMAC-SHA256'],
      'asked once, signed',
    );
    for (const h of [...older.seen, ...current.seen])
      assert.ok(!JSON.stringify(h).includes(token), 'the token is in no header');
    assert.match(String(rows[1]!.error), /^HTTP 401 \(it does not take signed reads: .*to upgrade/);
    assert.equal(current.seen.length, 1, 'a peer that refuses a signature gets no bearer');
    assert.match(String(rows[2]!.error), /^HTTP 401 \(wrong or missing cluster\.token: no\)$/);
  });

  it('the peer refuses a replayed signature, another host, and a wrong token, saying why', async () => {
    const url = `http://127.0.0.1:${peerPort}/api/v1/status`;
    const host = `127.0.0.1:${peerPort}`;
    const read = { method: 'GET', target: '/api/v1/status', host };
    const signed = signRequest(token, read, Date.now());
    const first = await httpRequest(url, {
      headers: { host, authorization: signed },
      timeoutMs: 3000,
      maxBytes: 1 << 20,
    });
    assert.equal(first.ok && first.status, 200);
    const replay = await httpRequest(url, {
      headers: { host, authorization: signed },
      timeoutMs: 3000,
      maxBytes: 1 << 20,
    });
    assert.equal(replay.ok && replay.status, 401);
    assert.match(replay.ok ? replay.text : '', /signed request refused: signed request replayed/);
    assert.equal(replay.ok && replay.authenticate, 'Bearer, ExoSentinel-HMAC-SHA256');
    // Signed for another node: a fake peer relaying what it was sent gets nothing.
    const elsewhere = signRequest(token, { ...read, host: '10.9.9.9:52417' }, Date.now());
    const relayed = await httpRequest(url, {
      headers: { host, authorization: elsewhere },
      timeoutMs: 3000,
      maxBytes: 1 << 20,
    });
    assert.match(relayed.ok ? relayed.text : '', /wrong signature/);
    // Signed for a peer on another loopback port and sent on as signed (its Host passes the Host check on
    // any port): refused for the port.
    const otherPort = peerPort === 65_000 ? 65_001 : 65_000;
    const onLoopback = `127.0.0.1:${otherPort}`;
    const moved = await httpRequest(url, {
      headers: {
        host: onLoopback,
        authorization: signRequest(token, { ...read, host: onLoopback }, Date.now()),
      },
      timeoutMs: 3000,
      maxBytes: 1 << 20,
    });
    assert.equal(moved.ok && moved.status, 401);
    assert.match(
      moved.ok ? moved.text : '',
      new RegExp(`signed for 127\\.0\\.0\\.1:${otherPort}, not for this node's port ${peerPort}`),
    );
    const wrong = ClusterConfigSchema.parse({
      token: 'another-token-of-some-32-chars!!',
      apiPort: peerPort,
      timeoutMs: 3000,
    });
    const { rows } = await collectCluster(makeStatusView(), wrong, topologyExo, 'self');
    assert.match(
      String(rows[1]!.error),
      /wrong or missing cluster\.token: signed request refused: wrong signature/,
    );
  });
});
