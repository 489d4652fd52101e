/**
 * Real processes any local user can start, named like an MLX server (`mlx_lm.server` on the command line,
 * matched by the default watch.mlxServerPatterns), each with 400 KB of arguments, against the real daemon (procfs, SQLite):
 * at most MAX_WATCHED are sampled per tick, once said in the timeline, and each command line is stored
 * bounded. Before, every one was a process row per second (kept two days) and its whole argv was stored
 * twice (the pid map and its process.started event, kept 30 days).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { MAX_WATCHED } from '../../src/main/core/exo/watch-limit.js';
import { createProbe } from '../../src/main/core/probes/create-probe.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

const linux = process.platform === 'linux';

/** The real daemon ticking every 0.5 s on `dataDir`: no EXO, no guard. */
const watching = (dataDir: string) =>
  startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--exo-url', 'http://127.0.0.1:9', '--no-guard']);

describe('a flood of processes named like an MLX server', {
  skip: !linux && 'reads real processes through procfs',
}, () => {
  const dir = tempDir('exo-sentinel-watch-limit-');
  const flood: ChildProcess[] = [];
  after(() => {
    // Each in a group of its own: its sleep goes with it.
    for (const p of flood) if (p.pid) process.kill(-p.pid, 'SIGKILL');
    dir.cleanup();
  });

  it(`samples at most ${MAX_WATCHED} of 100, says so once, and stores each command line bounded`, async () => {
    const big = Array.from({ length: 4 }, () => 'a'.repeat(100_000)); // 128 KB is one argument's limit
    for (let i = 0; i < 100; i++)
      flood.push(
        // bash -c names itself mlx_lm.server ($0) and stays (two commands), holding the arguments.
        spawn('bash', ['-c', 'sleep 60; :', 'mlx_lm.server', ...big], { stdio: 'ignore', detached: true }),
      );
    await sleep(300);
    // The probe reads the first 16 KiB of a command line, not its 400 KB.
    const probe = createProbe(new EventCollector(() => Date.now()));
    const named = (await probe.listProcesses(true)).filter((e) => e.argv.includes('mlx_lm.server'));
    assert.ok(named.length >= 100, `${named.length} seen`);
    assert.ok(
      named.every((e) => e.uid === process.getuid?.()),
      'each with its owner (this user), for the watch limit',
    );
    assert.ok(
      named.every((e) => e.argv.join('\0').length <= 16 * 1024),
      `longest ${Math.max(...named.map((e) => e.argv.join('\0').length))}`,
    );
    const daemon = await watching(join(dir.path, 'data'));
    try {
      await sleep(3000);
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
    const db = openDatabase(join(dir.path, 'data', 'timeline.db'), { readonly: true });
    try {
      const perTick = db.prepare('SELECT ts, count(*) n FROM process_samples GROUP BY ts').all() as Array<{
        ts: number;
        n: number;
      }>;
      assert.ok(perTick.length >= 3, `${perTick.length} ticks stored`);
      assert.ok(
        perTick.every((t) => t.n === MAX_WATCHED),
        `process rows per tick: ${perTick.map((t) => t.n).join(' ')}`,
      );
      const said = db.prepare("SELECT message FROM events WHERE kind = 'watch.limit'").all() as Array<{
        message: string;
      }>;
      assert.equal(said.length, 1);
      assert.match(said[0]!.message, /^\d+ more process\(es\) match/);
      const longest = db.prepare('SELECT max(length(argv)) n FROM processes').get() as { n: number };
      assert.ok(longest.n <= 4200, `a stored command line of ${longest.n} characters`);
      const started = db
        .prepare("SELECT max(length(message) + length(data)) n FROM events WHERE kind = 'process.started'")
        .get() as { n: number };
      assert.ok(started.n <= 6000, `a process.started event of ${started.n} characters`);
    } finally {
      db.close();
    }
  });
});

describe("another user's processes starting and ending all the time", {
  skip: (!linux || process.getuid?.() !== 0) && 'starts processes as user nobody (root, Linux)',
}, () => {
  const dir = tempDir('exo-sentinel-watch-churn-');
  after(() => dir.cleanup());

  it('takes a few of them a minute; this user’s process that starts meanwhile is watched at once', async () => {
    const daemon = await watching(join(dir.path, 'data'));
    const started: ChildProcess[] = [];
    let mine: ChildProcess | null = null;
    try {
      await sleep(1000);
      // 30 a second for 6 s, each living 1 s: before, each was a pid-map row and two events (630 MB an hour).
      for (let i = 0; i < 60; i++) {
        for (let k = 0; k < 3; k++)
          started.push(
            spawn('bash', ['-c', 'sleep 1; :', 'mlx_lm.server', `churn-${i}-${k}`], {
              stdio: 'ignore',
              uid: 65534,
              gid: 65534,
            }),
          );
        if (i === 40)
          mine = spawn('bash', ['-c', 'sleep 10; :', 'mlx_lm.server', 'mine'], {
            stdio: 'ignore',
            detached: true,
          });
        await sleep(100);
      }
      await sleep(1500);
    } finally {
      if (mine?.pid) process.kill(-mine.pid, 'SIGKILL');
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
    const db = openDatabase(join(dir.path, 'data', 'timeline.db'), { readonly: true });
    try {
      const churn = db.prepare("SELECT count(*) n FROM processes WHERE argv LIKE '%churn-%'").get() as {
        n: number;
      };
      // The burst (12) and 6 a minute: 12 or 13 over these 8 s, of the 180 started.
      assert.ok(churn.n >= 12 && churn.n <= 13, `${churn.n} of another user's processes in the pid map`);
      const events = db
        .prepare("SELECT count(*) n FROM events WHERE kind = 'process.started' AND message LIKE '%churn-%'")
        .get() as { n: number };
      assert.equal(events.n, churn.n);
      const own = db.prepare("SELECT count(*) n FROM processes WHERE argv LIKE '%mine%'").get() as {
        n: number;
      };
      assert.equal(own.n, 1, 'this user’s process is watched while the other user’s wait');
      const said = db.prepare("SELECT message FROM events WHERE kind = 'watch.deferred'").all() as Array<{
        message: string;
      }>;
      assert.equal(said.length, 1, 'said once a minute');
      assert.match(
        said[0]!.message,
        /^up to \d+ new process\(es\) matching EXO or an MLX server pattern waited/,
      );
    } finally {
      db.close();
    }
  });
});
