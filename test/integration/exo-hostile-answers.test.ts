import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, afterEach, before, describe, it } from 'node:test';
import { ExoApiClient } from '../../src/main/core/exo/exo-api-client.js';
import { ExoMonitor } from '../../src/main/core/exo/exo-monitor.js';
import { STATE_CAPS } from '../../src/main/core/exo/exo-state-parser.js';
import { PACE_BYTES_PER_SECOND, PACE_FREE_BYTES, StatePacing } from '../../src/main/core/exo/state-pacing.js';

const MiB = 1024 * 1024;

/**
 * Whatever answers on EXO's port (EXO itself, a buggy build, or any local program while EXO is down): the
 * answers of each path are set by the test, and every request is counted.
 */
async function fakeExo(): Promise<{
  url: string;
  answers: Map<string, { status: number; body: string }>;
  asked: Map<string, number>;
  close: () => Promise<void>;
}> {
  const answers = new Map<string, { status: number; body: string }>();
  const asked = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    asked.set(path, (asked.get(path) ?? 0) + 1);
    const a =
      answers.get(path) ??
      (path === '/node_id' ? { status: 200, body: '"node-a"' } : { status: 200, body: '{}' });
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(a.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    answers,
    asked,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe("hostile answers on EXO's port", () => {
  let exo: Awaited<ReturnType<typeof fakeExo>>;
  before(async () => {
    exo = await fakeExo();
  });
  after(() => exo.close());
  afterEach(() => exo.answers.clear());

  it('refuses 10 MB of nesting before parsing it: garbage, named, and no memory to speak of', async () => {
    exo.answers.set('/state/tasks', {
      status: 200,
      body: `${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}`,
    });
    const rss0 = process.memoryUsage().rss;
    const r = await new ExoApiClient(exo.url, 5000).state('tasks');
    const grew = (process.memoryUsage().rss - rss0) / MiB;
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.kind, 'garbage');
    assert.match(!r.ok ? r.error : '', /JSON refused: nesting deeper than 64 at byte 64$/);
    // The answer itself (10 MB as text and bytes) is all that is held; parsed it took 1.4 GB.
    assert.ok(grew < 200, `RSS grew ${grew.toFixed(0)} MiB`);
    exo.answers.delete('/state/tasks');
  });

  it('keeps a few hundred characters of an error message, not 15 MB of it', async () => {
    const message = 'x'.repeat(15_000_000);
    exo.answers.set('/state/runners', { status: 500, body: JSON.stringify({ error: { message } }) });
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000));
    const events = await m.poll();
    assert.equal(m.snapshot.reachable, false);
    assert.ok(m.snapshot.error!.length < 500, `error of ${m.snapshot.error!.length} characters`);
    // An error body that large is quoted, not parsed.
    assert.match(m.snapshot.error!, /HTTP 500: \{"error":\{"message":"x+… \(15000024 characters\)$/);
    assert.ok(JSON.stringify(events).length < 2000, 'the event carries the short text');
    exo.answers.delete('/state/runners');
  });

  it('reads a large state key less often, in proportion to its size, and says so once', async () => {
    // 4 MiB of tasks: a wide object, as a busy EXO or a hostile one could answer.
    const tasks: Record<string, unknown> = {};
    for (let i = 0; tasks && JSON.stringify(tasks).length < 4 * MiB; i += 1000)
      for (let j = i; j < i + 1000; j++)
        tasks[`t${j}`] = { ChatCompletion: { taskStatus: 'Running', pad: 'p'.repeat(100) } };
    const body = JSON.stringify(tasks);
    exo.answers.set('/state/tasks', { status: 200, body });
    let now = 1_000_000;
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000), () => now);
    const before = exo.asked.get('/state/tasks') ?? 0;
    const first = await m.poll();
    const every = Math.ceil(body.length / PACE_BYTES_PER_SECOND);
    assert.deepEqual(m.snapshot.paced, { tasks: every });
    assert.deepEqual(
      first.filter((e) => e.kind === 'exo.state-paced').map((e) => e.message),
      [`EXO's /state/tasks answers are large: read every ${every} s instead of every poll`],
    );
    // One poll a second for `every` seconds: the other keys every time, tasks not again until then.
    for (let s = 1; s < every; s++) {
      now += 1000;
      const events = await m.poll();
      assert.equal(events.filter((e) => e.kind === 'exo.state-paced').length, 0);
    }
    assert.equal((exo.asked.get('/state/tasks') ?? 0) - before, 1);
    assert.ok(m.snapshot.tasks.length > 0, 'the last tasks read are kept meanwhile');
    now += 1000;
    await m.poll();
    assert.equal((exo.asked.get('/state/tasks') ?? 0) - before, 2);
    // Small again: read every poll, and said.
    exo.answers.set('/state/tasks', { status: 200, body: '{}' });
    now += every * 1000;
    const back = await m.poll();
    assert.equal(m.snapshot.paced?.['tasks'], undefined);
    assert.deepEqual(
      back.filter((e) => e.kind === 'exo.state-paced').map((e) => e.message),
      ["EXO's /state/tasks is read every poll again"],
    );
    exo.answers.delete('/state/tasks');
  });

  it("a restarted EXO's state is read afresh: a paced key does not keep the old process's tasks", async () => {
    const tasks: Record<string, unknown> = {};
    // About 2.2 MiB: paced to one read in 5 s.
    for (let j = 0; j < 15_000; j++)
      tasks[`t${j}`] = { ChatCompletion: { taskStatus: 'Running', pad: 'p'.repeat(100) } };
    exo.answers.set('/state/tasks', { status: 200, body: JSON.stringify(tasks) });
    let now = 9_000_000;
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000), () => now);
    await m.poll();
    assert.ok(m.snapshot.paced?.['tasks'], 'tasks are paced');
    assert.ok(m.snapshot.inFlight > 1000);
    // EXO restarts between two polls (a new node id): nothing in flight in the new process.
    exo.answers.set('/node_id', { status: 200, body: '"node-b"' });
    exo.answers.set('/state/tasks', { status: 200, body: '{}' });
    now += 1000;
    await m.poll();
    assert.equal(m.snapshot.nodeId, 'node-b');
    assert.equal(m.snapshot.inFlight, 0, "the old process's tasks are not counted in flight");
    exo.answers.delete('/node_id');
    exo.answers.delete('/state/tasks');
  });

  it('a node id of megabytes is not a node id: not kept, and no event carries it', async () => {
    let n = 0;
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000));
    let events = 0;
    for (let i = 0; i < 3; i++) {
      // A new one every poll: each used to be an exo.restarted event holding it four times (≈200 MB in 20 s).
      exo.answers.set('/node_id', { status: 200, body: JSON.stringify(`${++n}`.padEnd(4_000_000, 'x')) });
      events += JSON.stringify(await m.poll()).length;
    }
    assert.equal(m.snapshot.reachable, false);
    assert.equal(m.snapshot.nodeId, null);
    assert.match(m.snapshot.error!, /\/node_id: HTTP 200, answer longer than 4096 bytes/);
    assert.ok(events < 5000, `events of ${events} characters`);
    // Under the cap but not an id: refused all the same.
    exo.answers.set('/node_id', { status: 200, body: JSON.stringify('x'.repeat(1000)) });
    await m.poll();
    assert.match(m.snapshot.error!, /not a node id/);
    // An error page over the cap still says which status EXO's port answered.
    exo.answers.set('/node_id', { status: 500, body: `<html>${'x'.repeat(10_000)}</html>` });
    await m.poll();
    assert.match(m.snapshot.error!, /\/node_id: HTTP 500, answer longer than 4096 bytes/);
    exo.answers.delete('/node_id');
  });

  it('a node id answer of 15 MB of nested arrays is not read past 4 KiB, poll after poll', async () => {
    // Before, each poll read and parsed it all: a core busy and 500 MB, EXO process or not.
    const nested = `[${Array.from({ length: 200_000 }, () => '[{},{},{},{},{},{},{},{},{},{}]').join(',')}]`;
    exo.answers.set('/node_id', { status: 200, body: nested });
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000));
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < 5; i++) await m.poll();
    const cpuMs = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000;
    assert.equal(m.snapshot.reachable, false);
    assert.match(m.snapshot.error!, /answer longer than 4096 bytes/);
    // Five parses of it took seconds of CPU; five refusals at 4 KiB take almost none.
    assert.ok(cpuMs < 1000, `${cpuMs.toFixed(0)} ms of CPU (the server's writes included)`);
    exo.answers.delete('/node_id');
  });

  it('keeps a thousand characters of any text in the state: ids, model ids, runner errors', async () => {
    const long = (c: string): string => c.repeat(60_000);
    let n = 0;
    const answer = (): void => {
      n++;
      exo.answers.set('/state/instances', {
        status: 200,
        body: JSON.stringify({
          [`i${n}${long('k')}`]: {
            [`Ring${long('t')}`]: { shardAssignments: { modelId: `m${n}${long('m')}`, runnerToShard: {} } },
          },
        }),
      });
      exo.answers.set('/state/runners', {
        status: 200,
        body: JSON.stringify({
          [`r${n}`]: {
            RunnerFailed: { errorMessage: `e${n}${long('e')}`, diagnostics: [{ D: { message: long('d') } }] },
          },
        }),
      });
    };
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000));
    answer();
    await m.poll();
    let events = 0;
    for (let i = 0; i < 3; i++) {
      // New ones every poll: each was an instance and a runner event holding 60,000 characters twice.
      answer();
      events += JSON.stringify(await m.poll()).length;
    }
    const snap = JSON.stringify(m.snapshot);
    assert.ok(snap.length < 12_000, `snapshot of ${snap.length} characters`);
    assert.ok(events < 60_000, `events of ${events} characters`);
    assert.equal(m.snapshot.instances.length, 1);
    assert.equal(m.snapshot.failures.filter((f) => f.kind === 'runner-failed').length, 1);
    exo.answers.delete('/state/instances');
    exo.answers.delete('/state/runners');
  });

  it('no escape sequence from its answers reaches a terminal: errors, node ids and state text are plain', async () => {
    const ESC = '\u001b';
    const evil = `${ESC}]52;c;cHduZWQ=\u0007${ESC}[2J\u202e`;
    const client = new ExoApiClient(exo.url, 5000);
    exo.answers.set('/state/runners', {
      status: 500,
      body: JSON.stringify({ error: { message: `boom${evil}` } }),
    });
    const failed = await client.state('runners');
    assert.match(!failed.ok ? failed.error : '', /HTTP 500: boom/);
    exo.answers.set('/node_id', { status: 200, body: JSON.stringify(`node${evil}`) });
    const id = await client.nodeId();
    assert.match(!id.ok ? id.error : '', /not a node id/);
    exo.answers.delete('/node_id');
    exo.answers.set('/state/runners', {
      status: 200,
      body: JSON.stringify({ [`r${evil}`]: { RunnerFailed: { errorMessage: `killed${evil}` } } }),
    });
    const m = new ExoMonitor(client);
    await m.poll();
    assert.equal(m.snapshot.failures.length, 1);
    const shown = JSON.stringify([failed, id, m.snapshot]);
    assert.doesNotMatch(shown, /\\u001b|\\u0007|\u202e/, shown.slice(0, 2000));
    exo.answers.delete('/state/runners');
  });

  it('a large answer that cannot be used is not fetched again every poll either', async () => {
    // 2 MiB of garbage on one key, then 2 MiB error pages: each waits out its size before the next try.
    exo.answers.set('/state/instances', { status: 200, body: `<html>${'x'.repeat(2 * MiB)}</html>` });
    let now = 5_000_000;
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000), () => now);
    const asked = (): number => exo.asked.get('/state/instances') ?? 0;
    const start = asked();
    await m.poll();
    assert.match(m.snapshot.error!, /HTTP 200, not JSON: "<html>x+"$/);
    const pause = Math.ceil((2 * MiB + 13) / PACE_BYTES_PER_SECOND);
    for (let s = 1; s < pause; s++) {
      now += 1000;
      await m.poll();
      assert.equal(m.snapshot.reachable, false);
      assert.match(m.snapshot.error!, new RegExp(`\\(asked again in ${pause} s\\)$`));
    }
    assert.equal(asked() - start, 1, 'asked once while its size is paid for');
    exo.answers.set('/state/instances', { status: 503, body: 'e'.repeat(2 * MiB) });
    now += 1000;
    await m.poll();
    assert.equal(asked() - start, 2);
    assert.match(m.snapshot.error!, /HTTP 503: e{300}… \(2097152 characters\)$/);
    exo.answers.delete('/state/instances');
    now += 60_000;
    await m.poll();
    assert.equal(m.snapshot.reachable, true);
  });

  it('keeps a few hundred entries of each map, however many the answer holds', async () => {
    const nodes: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++)
      nodes[`n${i}`] = { ramTotal: { inBytes: 1 }, ramAvailable: { inBytes: 1 } };
    exo.answers.set('/state/nodeMemory', { status: 200, body: JSON.stringify(nodes) });
    const m = new ExoMonitor(new ExoApiClient(exo.url, 5000));
    await m.poll();
    assert.equal(m.snapshot.reachable, true);
    assert.equal(Object.keys(m.snapshot.nodeMemory).length, STATE_CAPS.nodes);
    exo.answers.delete('/state/nodeMemory');
  });

  it('a slow EXO: keys known to be small are asked together, so a poll is two round trips, not six', async () => {
    const delayMs = 200;
    const server = createServer((req, res) => {
      setTimeout(() => res.end(req.url === '/node_id' ? '"node-slow"' : '{}'), delayMs);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const m = new ExoMonitor(
        new ExoApiClient(`http://127.0.0.1:${(server.address() as { port: number }).port}`, 5000),
      );
      const first = performance.now();
      await m.poll();
      const firstMs = performance.now() - first;
      const second = performance.now();
      await m.poll();
      const secondMs = performance.now() - second;
      assert.equal(m.snapshot.reachable, true);
      // First contact: sizes unknown, one key at a time (node id + 5 keys).
      assert.ok(firstMs >= 6 * delayMs, `first poll ${firstMs.toFixed(0)} ms`);
      // Then the node id and the five small keys together.
      assert.ok(secondMs < 4 * delayMs, `second poll ${secondMs.toFixed(0)} ms`);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('pacing: free up to PACE_FREE_BYTES, then one second per PACE_BYTES_PER_SECOND; all afresh after EXO was away', () => {
    let now = 0;
    const p = new StatePacing(() => now);
    p.read('a', 1, PACE_FREE_BYTES);
    p.read('b', 2, 16 * MiB);
    assert.equal(p.due('a'), true);
    assert.equal(p.due('b'), false);
    const pause = (16 * MiB) / PACE_BYTES_PER_SECOND;
    assert.deepEqual(p.paced(), { b: pause });
    now = pause * 1000 - 1;
    assert.equal(p.due('b'), false);
    now = pause * 1000;
    assert.equal(p.due('b'), true);
    p.read('b', 3, 16 * MiB);
    p.forget();
    assert.equal(p.due('b'), true);
    assert.equal(p.value('b', 'none'), 'none');
  });
});
