import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { API_MAX_CONNECTIONS, type ApiLimits, SSE_MAX_CLIENTS } from '../../src/main/core/api/api-limits.js';
import type { ApiServer } from '../../src/main/core/api/api-server.js';
import type { ShedCounts } from '../../src/main/core/api/shed-tally.js';
import { type Db, openDatabase } from '../../src/main/core/store/database.js';
import { MAX_PIPELINED } from '../../src/main/core/util/pipelined-requests.js';
import { sleep } from '../support/cli-runner.js';
import { holdConnections, pollFor } from '../support/connection-flood.js';
import { localApiServer } from '../support/local-api.js';
import { makeStatusView } from '../support/status-view-factory.js';
import { tempDir } from '../support/temp-dir.js';

const SSE = 'GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const PARTIAL = 'GET /api/v1/status HTTP/1.1\r\nHo';

/** An API server over a fresh database on a loopback port, with `limits`; its shed reports are collected. */
async function apiServer(
  limits: Partial<ApiLimits>,
): Promise<{ server: ApiServer; port: number; shed: ShedCounts[]; close: () => Promise<void> }> {
  const dir = tempDir();
  const db: Db = openDatabase(`${dir.path}/timeline.db`);
  const shed: ShedCounts[] = [];
  const server = localApiServer(db, dir.path, { limits, onShed: (counts) => shed.push(counts) });
  const { port } = await server.start();
  return {
    server,
    port,
    shed,
    close: async () => {
      await server.stop();
      db.close();
      dir.cleanup();
    },
  };
}

/** Sum of every shed report's counts. */
function shedTotal(reports: ShedCounts[]): Required<ShedCounts> {
  const total = {
    idleConnectionClosed: 0,
    connectionRefused: 0,
    liveClientStalled: 0,
    liveClientOverBuffer: 0,
    liveClientEvicted: 0,
    liveClientRefused: 0,
    pipelineOverflow: 0,
  };
  for (const r of reports) for (const [k, v] of Object.entries(r)) total[k as keyof typeof total] += v ?? 0;
  return total;
}

/** Waits until `check` holds (polling every 20 ms), or fails naming `what` after `ms`. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

/** A raw live-event client: `paused` ones send the request and never read; the others count what comes. */
function liveClient(
  port: number,
  paused: boolean,
): Promise<{ socket: Socket; status: () => number; bytes: () => number; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let head = '';
    let bytes = 0;
    let closed = false;
    const s = connect(port, '127.0.0.1', () => {
      s.write(SSE);
      if (paused) {
        s.pause();
        resolve(handle);
      }
    });
    const handle = {
      socket: s,
      status: () => Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
      bytes: () => bytes,
      closed: () => closed,
    };
    s.on('data', (c: Buffer) => {
      bytes += c.length;
      if (head.length < 64) head += c.toString('latin1', 0, 64);
      if (!paused && handle.status()) resolve(handle);
    });
    s.on('close', () => {
      closed = true;
    });
    s.on('error', reject);
  });
}

describe('connection cap: connections that send nothing give way to ones that ask', () => {
  let api: Awaited<ReturnType<typeof apiServer>>;
  let url: string;
  before(async () => {
    api = await apiServer({ shedReportMs: 1000 });
    url = `http://127.0.0.1:${api.port}/api/v1/status`;
  });
  after(() => api.close());

  it(`answers a new client at once with ${API_MAX_CONNECTIONS} idle connections held`, async () => {
    const idle: Socket[] = [];
    for (let i = 0; i < API_MAX_CONNECTIONS; i++) {
      const s = connect(api.port, '127.0.0.1', () => {
        if (i % 2) s.write(PARTIAL);
      });
      s.on('error', () => undefined);
      idle.push(s);
    }
    await until(
      'every flood connection held',
      async () => (await api.server.load()).idle === API_MAX_CONNECTIONS,
    );
    const t = performance.now();
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    const ms = performance.now() - t;
    assert.ok(ms < 1000, `answered in ${ms.toFixed(0)} ms`);
    const load = await api.server.load();
    assert.ok(load.open <= API_MAX_CONNECTIONS, `${load.open} sockets held`);
    await until(
      'the flood connection idle longest closed',
      () => idle[0]!.destroyed || idle[0]!.readyState === 'closed',
    );
    process.stdout.write(
      `# ${API_MAX_CONNECTIONS} idle held: a new client answered in ${ms.toFixed(0)} ms\n`,
    );
    for (const s of idle) s.destroy();
    await until('the flood gone', async () => (await api.server.load()).open === 0);
  });

  it('keeps answering a polling client while a flood re-opens every connection it loses, within the cap', async () => {
    const flood = [
      holdConnections(api.port, API_MAX_CONNECTIONS / 2),
      holdConnections(api.port, API_MAX_CONNECTIONS / 2, { partial: PARTIAL }),
    ];
    let maxOpen = 0;
    let maxHeld = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const load = await api.server.load();
        maxOpen = Math.max(maxOpen, load.open);
        maxHeld = Math.max(maxHeld, load.idle + load.busy);
        await sleep(10);
      }
    })();
    await sleep(300);
    const reportsBefore = api.shed.length;
    const polled = await pollFor(url, 10_000, { gapMs: 100, timeoutMs: 2000 });
    sampling = false;
    await sampler;
    const opened = flood.reduce((n, f) => n + f.opened(), 0);
    for (const f of flood) f.stop();
    const ratio = polled.ok / polled.total;
    process.stdout.write(
      `# reopen flood: ${opened} connections opened in ~10 s; client ${polled.ok}/${polled.total} answered (${(ratio * 100).toFixed(1)} %), slowest ${polled.slowestMs.toFixed(0)} ms, errors ${JSON.stringify(polled.errors)}; server held at most ${maxHeld} (Node's count ${maxOpen}), cap ${API_MAX_CONNECTIONS}\n`,
    );
    assert.ok(opened > API_MAX_CONNECTIONS * 2, `the flood kept re-opening (${opened})`);
    assert.ok(ratio >= 0.95, `${polled.ok} of ${polled.total} answered`);
    assert.ok(maxHeld <= API_MAX_CONNECTIONS, `held ${maxHeld}`);
    assert.ok(maxOpen <= API_MAX_CONNECTIONS + 4, `Node counted ${maxOpen} open sockets`);
    // Tens of thousands of connections closed, reported a handful of times (one window a second).
    await sleep(1100);
    const reports = api.shed.length - reportsBefore;
    assert.ok(reports >= 1 && reports <= 14, `${reports} shed reports`);
    assert.ok(shedTotal(api.shed).idleConnectionClosed > API_MAX_CONNECTIONS);
    await until('the flood gone', async () => (await api.server.load()).open === 0);
  });
});

describe('connection cap: connections that send a request body and then nothing', () => {
  let api: Awaited<ReturnType<typeof apiServer>>;
  before(async () => {
    api = await apiServer({ shedReportMs: 100 });
  });
  after(() => api.close());

  it(`answers a new client with ${API_MAX_CONNECTIONS} connections each holding a request body open`, async () => {
    // Headers complete, so each counts as a request; a body of 1000 bytes of which one ever comes.
    const slow = holdConnections(api.port, API_MAX_CONNECTIONS, {
      partial:
        'PUT /api/v1/guard/mode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
      reopenMs: 60_000,
    });
    await until('every slot held by a body in progress', async () => {
      const load = await api.server.load();
      return load.busy + load.idle >= API_MAX_CONNECTIONS;
    });
    const polled = await pollFor(`http://127.0.0.1:${api.port}/api/v1/status`, 1500, { timeoutMs: 1000 });
    slow.stop();
    process.stdout.write(
      `# ${API_MAX_CONNECTIONS} bodies held open: client ${polled.ok}/${polled.total} answered, errors ${JSON.stringify(polled.errors)}\n`,
    );
    assert.equal(polled.ok, polled.total, JSON.stringify(polled.errors));
    assert.ok(shedTotal(api.shed).connectionRefused === 0, 'no newcomer refused');
    await until('the flood gone', async () => (await api.server.load()).open === 0);
  });
});

describe('connection cap: when every connection is serving a request', () => {
  let api: Awaited<ReturnType<typeof apiServer>>;
  before(async () => {
    api = await apiServer({ maxConnections: 4, sseMaxClients: 8, shedReportMs: 50 });
  });
  after(() => api.close());

  it('closes the newcomer (streams are busy), and takes one again once a slot is idle', async () => {
    const streams = await Promise.all(Array.from({ length: 4 }, () => liveClient(api.port, false)));
    for (const s of streams) assert.equal(s.status(), 200);
    await assert.rejects(
      fetch(`http://127.0.0.1:${api.port}/api/v1/status`, { signal: AbortSignal.timeout(2000) }),
    );
    await until('refusal reported', () => shedTotal(api.shed).connectionRefused >= 1);
    assert.ok(
      streams.every((s) => !s.closed()),
      'no stream was closed for the newcomer',
    );
    streams[0]!.socket.destroy();
    await until('slot freed', async () => (await api.server.load()).busy === 3);
    const r = await fetch(`http://127.0.0.1:${api.port}/api/v1/status`, {
      signal: AbortSignal.timeout(2000),
    });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    for (const s of streams) s.socket.destroy();
  });
});

describe(`live events: ${SSE_MAX_CLIENTS} clients that never read do not lock out the dashboard`, () => {
  const STALL_MS = 1500;
  const EVICT_MS = 300;
  let api: Awaited<ReturnType<typeof apiServer>>;
  before(async () => {
    api = await apiServer({
      sseStallMs: STALL_MS,
      sseEvictStallMs: EVICT_MS,
      sseKeepAliveMs: 100,
      // Large, so that only the stall limit drops anyone here.
      sseMaxBuffered: 64 * 1024 * 1024,
      shedReportMs: 100,
    });
  });
  after(() => api.close());

  it('gives a new client a stalled client’s slot, drops the rest on the keep-alive path, never a reader', async () => {
    const stalled = [];
    for (let i = 0; i < SSE_MAX_CLIENTS; i++) stalled.push(await liveClient(api.port, true));
    await until('every slot taken', async () => (await api.server.load()).live.clients === SSE_MAX_CLIENTS);
    // Before their bytes queue (the kernel holds megabytes per socket) they look like readers: 503.
    const early = await liveClient(api.port, false);
    assert.equal(early.status(), 503);
    early.socket.destroy();
    // Frames until the kernel's buffers for every stalled client are full and bytes queue in the daemon.
    const frame = Object.assign(makeStatusView(), { padding: 'p'.repeat(64 * 1024) });
    for (let i = 0; i < 1000 && (await api.server.load()).live.queued < SSE_MAX_CLIENTS; i++) {
      api.server.broadcast('status', frame);
      await sleep(2);
    }
    assert.equal((await api.server.load()).live.queued, SSE_MAX_CLIENTS);
    await sleep(EVICT_MS + 150);
    const t = performance.now();
    const reader = await liveClient(api.port, false);
    assert.equal(reader.status(), 200, 'the new client got its stream');
    const second = await liveClient(api.port, false);
    assert.equal(second.status(), 200, 'and so did the next one');
    process.stdout.write(
      `# live slots full of stalled clients: new stream in ${(performance.now() - t).toFixed(0)} ms\n`,
    );
    assert.equal((await api.server.load()).live.clients, SSE_MAX_CLIENTS);
    // The readers take megabytes of frames while the stalled clients run out their time.
    for (let i = 0; i < 60; i++) {
      api.server.broadcast('status', frame);
      await sleep(5);
    }
    await until(
      'every stalled client dropped',
      async () => (await api.server.load()).live.clients === 2,
      STALL_MS * 4,
    );
    const shed = shedTotal(api.shed);
    assert.equal(shed.liveClientEvicted, 2);
    await until('stall drops reported', () => shedTotal(api.shed).liveClientStalled === SSE_MAX_CLIENTS - 2);
    const read = reader.bytes();
    await sleep(300);
    assert.ok(reader.bytes() > read, 'the reader is still sent keep-alives');
    assert.ok(!reader.closed() && !second.closed(), 'no reader was dropped');
    assert.ok(reader.bytes() > 60 * 64 * 1024, `the reader got every frame (${reader.bytes()} bytes)`);
    // The stalled clients see their streams end once they read again.
    const ended = await Promise.all(
      stalled.slice(0, 4).map(
        (c) =>
          new Promise<boolean>((resolve) => {
            if (c.closed()) resolve(true);
            c.socket.on('close', () => resolve(true));
            setTimeout(() => resolve(false), 3000);
            c.socket.resume();
          }),
      ),
    );
    assert.deepEqual(ended, [true, true, true, true]);
    for (const c of [...stalled, reader, second]) c.socket.destroy();
  });
});

describe('pipelined requests: one at a time per connection, as the guard takes them', () => {
  let api: Awaited<ReturnType<typeof apiServer>>;
  before(async () => {
    api = await apiServer({ shedReportMs: 200 });
  });
  after(() => api.close());

  /** What one connection is answered to `text`, until the API closes it or, with `ms`, for that long. */
  const written = (text: string, ms?: number) =>
    new Promise<string>((resolve) => {
      const s = connect(api.port, '127.0.0.1');
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString();
      });
      s.on('error', () => {});
      s.on('close', () => resolve(got));
      s.write(text);
      if (ms !== undefined) setTimeout(() => s.destroy(), ms);
    });

  const pipeline = (n: number, path: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => `GET ${path(i)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join('');

  it(`${MAX_PIPELINED + 1} requests in one write are all answered, in order`, async () => {
    const n = MAX_PIPELINED + 1;
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(api.port, '127.0.0.1');
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString();
        if ((got.match(/HTTP\/1\.1 /g) ?? []).length === n) {
          s.end();
          resolve(got);
        }
      });
      s.on('error', reject);
      // A limit past the page's bound is a 400 naming the value: each answer says which request it is.
      s.write(pipeline(n, (i) => `/api/v1/events?limit=${100_001 + i}`));
    });
    const order = text
      .split('HTTP/1.1 ')
      .slice(1)
      .map((answer) => Number(/1000\d\d/.exec(answer)?.[0]) - 100_001);
    assert.deepEqual(
      order,
      Array.from({ length: n }, (_, i) => i),
      text.slice(0, 600),
    );
  });

  it('2000 requests in one write from a client that reads nothing: closed, not 2000 answers held', async () => {
    // Before, every timeline answer was built and held for the client: 480 MB for one such connection.
    const answered = await new Promise<number>((resolve) => {
      const s = connect(api.port, '127.0.0.1');
      let bytes = 0;
      s.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      s.on('error', () => {});
      s.on('close', () => resolve(bytes));
      s.write(pipeline(2000, () => '/api/v1/timeline?resolution=raw&limit=1800'));
    });
    // At most the answer being written and the requests allowed to wait (each a few hundred bytes here).
    assert.ok(answered < (MAX_PIPELINED + 1) * 2048, `${answered} bytes answered`);
    await until('the closed connection is reported', () => shedTotal(api.shed).pipelineOverflow === 1);
    const status = await fetch(`http://127.0.0.1:${api.port}/api/v1/status`);
    assert.equal(status.status, 200, 'and the API answers the next client');
  });

  it('requests pipelined behind a live-event stream wait for it; past the bound the connection is closed', async () => {
    const waiting = await written(SSE + pipeline(3, () => '/api/v1/status'), 500);
    assert.equal(
      (waiting.match(/HTTP\/1\.1 /g) ?? []).length,
      1,
      'the stream answers; the three behind it wait',
    );
    assert.match(waiting, /text\/event-stream/);
    const before = shedTotal(api.shed).pipelineOverflow;
    // The stream never ends: nothing behind it is answered, and the ninth waiting closes the connection.
    const closed = await written(SSE + pipeline(MAX_PIPELINED + 1, () => '/api/v1/status'));
    // Closed in the same read as the stream's request: its head may not have gone out; no status answer did.
    assert.ok((closed.match(/HTTP\/1\.1 /g) ?? []).length <= 1, closed.slice(0, 300));
    assert.doesNotMatch(closed, /application\/json/);
    await until(
      'the closed connection is reported',
      () => shedTotal(api.shed).pipelineOverflow === before + 1,
    );
    assert.equal((await fetch(`http://127.0.0.1:${api.port}/api/v1/status`)).status, 200);
  });
});
