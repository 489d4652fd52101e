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
    const daemon = await startDaemon([
      '--data-dir',
      join(dir.path, 'data'),
      '--interval',
      '0.5',
      '--exo-url',
      'http://127.0.0.1:9',
      '--no-guard',
    ]);
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
