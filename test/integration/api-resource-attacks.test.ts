import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  API_MAX_CONNECTIONS,
  SSE_MAX_BUFFERED,
  SSE_MAX_CLIENTS,
} from '../../src/main/core/api/api-limits.js';
import type { ApiServer } from '../../src/main/core/api/api-server.js';
import { Metrics, RENDER_REUSE_MS } from '../../src/main/core/api/metrics.js';
import { ClusterConfigSchema } from '../../src/main/core/cluster/cluster-config.js';
import { collectCluster, MAX_TOPOLOGY_PEERS } from '../../src/main/core/cluster/cluster-view.js';
import { configJsonSchema } from '../../src/main/core/config/config-json-schema.js';
import { type Db, openDatabase } from '../../src/main/core/store/database.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { localApiServer } from '../support/local-api.js';
import { residentBytes } from '../support/machine.js';
import { makeStatusView } from '../support/status-view-factory.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore lint/suspicious/noExplicitAny: test reads JSON answers; shapes are asserted field by field
type Json = Record<string, any>;
const MiB = 1024 * 1024;
const linux = process.platform === 'linux';

/** A raw connection that sent `request` and reads nothing (its socket paused) until `drain()`. */
function stalled(port: number, request: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.pause();
      if (request) s.write(request);
      resolve(s);
    });
    s.on('error', reject);
  });
}

/** What a paused socket holds and then receives until the server ends it (or `ms` pass). */
function drain(s: Socket, ms: number): Promise<{ bytes: number; ended: boolean }> {
  return new Promise((resolve) => {
    let bytes = 0;
    const timer = setTimeout(() => resolve({ bytes, ended: false }), ms);
    s.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes, ended: true });
    });
    s.resume();
  });
}

/** The status code of the first answer on a raw socket. */
function firstStatus(port: number, request: string): Promise<{ status: number; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let text = '';
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) {
        s.removeAllListeners('data');
        s.pause();
        resolve({ status: Number(m[1]), socket: s });
      }
    });
    s.on('error', reject);
  });
}

const SSE = 'GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('live-event stream: clients that do not read, and how many there may be (API server over loopback)', () => {
  const dir = tempDir();
  let db: Db;
  let server: ApiServer;
  let port: number;

  before(async () => {
    db = openDatabase(`${dir.path}/timeline.db`);
    server = localApiServer(db, dir.path);
    port = (await server.start()).port;
  });
  after(async () => {
    await server.stop();
    db.close();
    dir.cleanup();
  });

  it('drops a client that stops reading instead of buffering every frame for it', async () => {
    const reader = await stalled(port, SSE);
    const idle = await stalled(port, SSE);
    await sleep(100);
    // 64 MiB of frames: far past the kernel's socket buffers, all of it held by the daemon before.
    const frame = Object.assign(makeStatusView(), { padding: 'p'.repeat(64 * 1024) });
    const got = { bytes: 0 };
    reader.on('data', (c: Buffer) => {
      got.bytes += c.length;
    });
    reader.resume();
    for (let i = 0; i < 1024; i++) {
      server.broadcast('status', frame);
      await sleep(2);
    }
    const idleSaw = await drain(idle, 2000);
    assert.ok(idleSaw.ended, 'the client that read nothing was disconnected');
    assert.ok(
      idleSaw.bytes < 16 * MiB,
      `it was sent ${idleSaw.bytes} bytes (socket buffers plus ${SSE_MAX_BUFFERED}), not 64 MiB`,
    );
    await sleep(500);
    assert.ok(got.bytes > 60 * MiB, `the client that reads got every frame (${got.bytes} bytes)`);
    assert.ok(!reader.destroyed);
    reader.destroy();
  });

  it(`answers 503 past ${SSE_MAX_CLIENTS} live-event clients, and takes one again when one leaves`, async () => {
    const held: Socket[] = [];
    for (let i = 0; i < SSE_MAX_CLIENTS; i++) {
      const r = await firstStatus(port, SSE);
      assert.equal(r.status, 200);
      held.push(r.socket);
    }
    const over = await firstStatus(port, SSE);
    assert.equal(over.status, 503);
    over.socket.destroy();
    held.pop()!.destroy();
    await sleep(100);
    const again = await firstStatus(port, SSE);
    assert.equal(again.status, 200);
    again.socket.destroy();
    for (const s of held) s.destroy();
  });
});

describe('a running daemon under connection floods and hostile config files', () => {
  const dir = tempDir();
  const env = { EXO_SENTINEL_HOME: dir.path, NO_COLOR: '1' };
  const configFile = join(dir.path, 'config.json');
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let api: string;
  let apiPort: number;

  before(async () => {
    daemon = await startDaemon(['--exo-url', 'http://127.0.0.1:9', '--interval', '1'], env);
    api = daemon.apiUrl()!;
    apiPort = Number(new URL(api).port);
  });
  after(async () => {
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    dir.cleanup();
  });

  /** GET /api/v1/status, timed: the loop is free if it answers at once. */
  const timedStatus = async (): Promise<{ status: number; ms: number }> => {
    const t = performance.now();
    const r = await fetch(`${api}/api/v1/status`, { signal: AbortSignal.timeout(3000) });
    await r.arrayBuffer();
    return { status: r.status, ms: performance.now() - t };
  };
  const reloadState = async (): Promise<Json> =>
    ((await (await fetch(`${api}/api/v1/config`)).json()) as Json)['reload'] as Json;

  it('refuses a time no number can hold (400, not a body with Infinity in it)', async () => {
    const r = await fetch(`${api}/api/v1/timeline?from=1&to=${'9'.repeat(400)}`);
    assert.equal(r.status, 400);
    const body = (await r.json()) as Json;
    assert.match(body['error'].message, /"to"/);
  });

  it(`holds at most ${API_MAX_CONNECTIONS} connections, so a flood cannot take the sampler's file descriptors, and still answers`, {
    skip: !linux,
  }, async () => {
    const fds = (): number => readdirSync(`/proc/${daemon.pid}/fd`).length;
    const before = fds();
    const flood: Socket[] = [];
    for (let i = 0; i < 1200; i++) {
      const s = connect(apiPort, '127.0.0.1');
      s.on('error', () => undefined);
      flood.push(s);
    }
    await sleep(1500);
    const during = fds();
    assert.ok(
      during - before <= API_MAX_CONNECTIONS + 8,
      `${during - before} descriptors more with 1200 idle connections open`,
    );
    // With the flood still open, a new client is answered at once: it takes the slot of the connection idle
    // longest (before, it was refused until the headers timeout closed the flood, 10-12 s later).
    const answer = await timedStatus();
    assert.equal(answer.status, 200);
    assert.ok(answer.ms < 1000, `status answered in ${answer.ms.toFixed(0)} ms with the flood open`);
    assert.ok(fds() - before <= API_MAX_CONNECTIONS + 8, 'and the bound still holds');
    for (const s of flood) s.destroy();
  });

  for (const [what, make] of [
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
    ['/dev/zero', (p: string) => symlinkSync('/dev/zero', p)],
    ['an 8 MiB file', (p: string) => writeFileSync(p, `{"logLevel": "info", "x": "${'a'.repeat(8 * MiB)}"}`)],
  ] as const) {
    it(`keeps ticking and answering when config.json becomes a link to ${what}`, async () => {
      const target = join(dir.path, `target-${what.replace(/\W+/g, '-')}`);
      if (what !== '/dev/zero') make(target);
      rmSync(configFile, { force: true });
      if (what === '/dev/zero') make(configFile);
      else symlinkSync(target, configFile);
      const rss0 = residentBytes(daemon.pid!);
      // The debounce (150 ms) and the periodic stat (2 s) have both had their turn.
      await sleep(3000);
      const s = await timedStatus();
      assert.equal(s.status, 200);
      assert.ok(s.ms < 1000, `status answered in ${s.ms.toFixed(0)} ms`);
      const reload = await reloadState();
      assert.ok(reload.error, 'the reload says the file could not be used');
      assert.match(reload.error.errors.join(' '), /not a regular file|larger than/);
      const grew = residentBytes(daemon.pid!) - rss0;
      assert.ok(grew < 64 * MiB, `RSS grew ${(grew / MiB).toFixed(1)} MiB`);
      rmSync(configFile, { force: true });
      rmSync(target, { force: true });
    });
  }
});

describe('cluster view: many callers at once ask each peer once', () => {
  let peer: Server;
  let asked = 0;
  before(async () => {
    // A peer answering slowly with a deeply nested document, costly to parse.
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    peer = createServer((_req, res) => {
      asked++;
      setTimeout(() => res.end(deep), 300);
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  });
  after(() => peer.close());

  it('50 concurrent collections make one request to the peer', async () => {
    const port = (peer.address() as { port: number }).port;
    const config = ClusterConfigSchema.parse({ peers: [`http://127.0.0.1:${port}`], timeoutMs: 5000 });
    const all = await Promise.all(
      Array.from({ length: 50 }, () => collectCluster(makeStatusView(), config, null, null)),
    );
    assert.equal(asked, 1);
    for (const r of all) assert.equal(r.rows.length, 2);
    // Once it is done, the next caller asks again.
    await collectCluster(makeStatusView(), config, null, null);
    assert.equal(asked, 2);
  });
});

describe("a FIFO where EXO's pidfile should be (a running daemon)", () => {
  const dir = tempDir();
  const home = tempDir();
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  before(async () => {
    mkdirSync(join(home.path, '.exo'));
    daemon = await startDaemon(['--exo-url', 'http://127.0.0.1:9', '--interval', '1'], {
      EXO_SENTINEL_HOME: dir.path,
      HOME: home.path,
      NO_COLOR: '1',
    });
  });
  after(async () => {
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    dir.cleanup();
    home.cleanup();
  });

  it('does not hold the tick or the API', async () => {
    execFileSync('mkfifo', [join(home.path, '.exo', 'exo.pid')]);
    await sleep(2500);
    const t = performance.now();
    const r = await fetch(`${daemon.apiUrl()}/api/v1/status`, { signal: AbortSignal.timeout(3000) });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    assert.ok(performance.now() - t < 1000);
  });
});

describe('answers that cost a render are shared by callers asking in a loop', () => {
  it('/metrics: scrapes within RENDER_REUSE_MS of a render, or during one, get its text', async () => {
    const m = new Metrics();
    const first = m.render();
    const during = Array.from({ length: 100 }, () => m.render());
    for (const p of during) assert.equal(p, first);
    const text = (await first).text;
    m.guardRefusals.inc({ reason: 'mode' });
    await sleep(RENDER_REUSE_MS + 50);
    const later = await m.render();
    assert.notEqual(later.text, text, 'a scrape after the window sees the new count');
    assert.match(later.text, /exo_sentinel_guard_refusals_total\{reason="mode"\} 1/);
  });

  it('the configuration schema is built once', () => {
    assert.equal(configJsonSchema(), configJsonSchema());
  });
});

describe("cluster view: what EXO's topology may add", () => {
  it(`asks at most MAX_TOPOLOGY_PEERS addresses however many links the topology lists`, async () => {
    const connections: Record<string, Record<string, unknown[]>> = { self: {} };
    for (let i = 0; i < 2000; i++)
      connections['self']![`n${i}`] = [{ sinkMultiaddr: { ip_address: `127.0.${i >> 8}.${i & 255}` } }];
    const exo = { state: async () => ({ ok: true, value: { connections } }) } as unknown as Parameters<
      typeof collectCluster
    >[2];
    // Port 9 (discard): nothing listens, every row is a refusal.
    const config = ClusterConfigSchema.parse({ apiPort: 9, timeoutMs: 1000 });
    const { rows } = await collectCluster(makeStatusView(), config, exo, 'self');
    assert.equal(rows.length, 1 + MAX_TOPOLOGY_PEERS);
  });
});
