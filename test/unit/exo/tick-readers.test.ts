import assert from 'node:assert/strict';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExoPidfileWatch } from '../../../src/main/core/exo/exo-pidfile.js';
import { ExoPollCadence, UNANSWERED_MAX_MS } from '../../../src/main/core/exo/exo-poll-cadence.js';
import { classifyProcesses } from '../../../src/main/core/exo/process-classifier.js';
import { matchesMlxServer, shapeOf } from '../../../src/main/core/exo/process-shape.js';
import type { ProcessEntry } from '../../../src/main/core/probes/probe-types.js';
import { tempDir } from '../../support/temp-dir.js';

/** What the daemon asks of EXO every tick, made cheap: when to poll, the pidfile, the argv shapes. */
describe('EXO poll cadence', () => {
  /** Drives a cadence tick by tick (1 s) and returns the ticks (seconds) at which it polled. */
  function run(
    seconds: number,
    reachableAt: (t: number) => boolean,
    exoAt: (t: number) => boolean,
  ): number[] {
    const c = new ExoPollCadence();
    const polled: number[] = [];
    for (let t = 0; t < seconds; t++) {
      if (c.due(t * 1000, 1, exoAt(t))) {
        c.started(t * 1000);
        polled.push(t);
        c.answered(reachableAt(t));
      }
    }
    return polled;
  }

  it('asks every second while EXO answers', () => {
    assert.deepEqual(
      run(
        10,
        () => true,
        () => true,
      ),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it('backs off to one poll every 5 s while nothing answers and no EXO process runs', () => {
    const polled = run(
      60,
      () => false,
      () => false,
    );
    assert.deepEqual(polled.slice(0, 5), [0, 2, 6, 11, 16]);
    const gaps = polled.slice(1).map((t, i) => t - polled[i]!);
    assert.ok(
      gaps.every((g) => g <= UNANSWERED_MAX_MS / 1000),
      `gaps ${gaps}`,
    );
    assert.ok(polled.length <= 14, `${polled.length} polls in 60 s`);
  });

  it('an EXO process appearing makes a poll due at once, and while it runs EXO is asked every second', () => {
    // EXO starts at t=30 and answers from t=33.
    const polled = run(
      40,
      (t) => t >= 33,
      (t) => t >= 30,
    );
    assert.ok(polled.includes(30), `${polled}`);
    assert.deepEqual(
      polled.filter((t) => t >= 30),
      [30, 31, 32, 33, 34, 35, 36, 37, 38, 39],
    );
  });

  it('never polls less often than exo.pollSeconds asks', () => {
    const c = new ExoPollCadence();
    assert.equal(c.interval(10), 10_000);
    c.answered(false);
    assert.equal(c.interval(10), 10_000);
    assert.equal(c.interval(1), 2000);
  });
});

describe('EXO pidfile watch', () => {
  it('reads the pid, follows a rewrite and a replacement, and says null when it goes', () => {
    const dir = tempDir('exo-sentinel-pidfile-');
    try {
      const path = join(dir.path, 'exo.pid');
      const w = new ExoPidfileWatch(path);
      assert.equal(w.current(), null);
      writeFileSync(path, '4242\n');
      assert.equal(w.current(), 4242);
      assert.equal(w.current(), 4242);
      writeFileSync(`${path}.new`, '77\n');
      renameSync(`${path}.new`, path); // a new inode
      assert.equal(w.current(), 77);
      writeFileSync(path, '78123\n'); // same inode, other size
      assert.equal(w.current(), 78123);
      writeFileSync(path, 'garbage');
      assert.equal(w.current(), null);
      rmSync(path);
      assert.equal(w.current(), null);
    } finally {
      dir.cleanup();
    }
  });

  it('a directory on the way that is a file reads as missing, not as an error', () => {
    const dir = tempDir('exo-sentinel-pidfile-');
    try {
      writeFileSync(join(dir.path, 'notadir'), 'x');
      assert.equal(new ExoPidfileWatch(join(dir.path, 'notadir', 'exo.pid')).current(), null);
    } finally {
      dir.cleanup();
    }
  });
});

describe('process shapes remembered per row', () => {
  const row = (
    pid: number,
    ppid: number,
    argv: string[],
    executable: string | null = null,
  ): ProcessEntry => ({
    pid,
    ppid,
    argv,
    executable,
    name: null,
    startTime: 1000 + pid,
  });

  it('a row kept across readings classifies the same as a fresh copy of it, also after its parent changes', () => {
    const main = row(10, 1, ['/v/bin/python3', '/v/bin/exo'], '/usr/bin/python3.13');
    const runner = row(11, 10, [
      '/v/bin/python3',
      '-c',
      'from multiprocessing.spawn import spawn_main',
      '--multiprocessing-fork',
    ]);
    const other = row(12, 1, ['/usr/bin/python3', '-m', 'mlx_lm.server']);
    const kept = [main, runner, other];
    const first = classifyProcesses(kept);
    assert.deepEqual(Object.fromEntries(first), { 10: 'exo-main', 11: 'exo-runner', 12: 'mlx-server' });
    assert.equal(shapeOf(runner), shapeOf(runner), 'worked out once per row');
    runner.ppid = 1; // EXO's main died: the runner is reparented and the table row refreshed in place
    const orphanKept = classifyProcesses([runner, other]);
    const orphanFresh = classifyProcesses([{ ...runner }, { ...other }]);
    assert.deepEqual(Object.fromEntries(orphanKept), Object.fromEntries(orphanFresh));
  });

  it('MLX-server matching follows a changed pattern list', () => {
    const e = row(20, 1, ['/usr/bin/python3', 'serve.py', '--model', 'x']);
    assert.equal(matchesMlxServer(e, [/mlx_lm/]), false);
    assert.equal(matchesMlxServer(e, [/serve\.py/]), true);
    assert.equal(matchesMlxServer(e, [/mlx_lm/]), false);
    const sticky = /serve/g;
    assert.equal(matchesMlxServer(e, [sticky]), true);
    assert.equal(matchesMlxServer({ ...e }, [sticky]), true, 'a global pattern is not left mid-string');
  });
});
