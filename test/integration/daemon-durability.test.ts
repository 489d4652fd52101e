import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { startFakeExoTree } from '../support/fake-exo-tree.js';
import { tempDir } from '../support/temp-dir.js';

const INTERVAL_MS = 500;

describe('daemon durability against the real machine', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('survives SIGKILL: every completed tick is stored, the restart continues the same database', async () => {
    const dataDir = `${dir.path}/data`;
    const tree = await startFakeExoTree(`${dir.path}/exo`, { runners: 1, runnerMiB: 16 });
    try {
      const first = await startDaemon(['--data-dir', dataDir, '--interval', String(INTERVAL_MS / 1000)]);
      await sleep(3200);
      first.kill('SIGKILL');
      const killedAt = Date.now();
      const k = await waitForExit(first);
      assert.equal(k.signal, 'SIGKILL');
      await sleep(1500);
      const second = await startDaemon(['--data-dir', dataDir, '--interval', String(INTERVAL_MS / 1000)]);
      const restartedAt = Date.now();
      await sleep(2600);
      second.kill('SIGTERM');
      const s = await waitForExit(second);
      assert.equal(s.code, 0, 'SIGTERM flushes and exits 0');

      const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
      const store = new TimelineStore(db);
      const samples = store.samples(0, Date.now() + 1000, true);
      const before = samples.filter((x) => x.time < killedAt);
      const afterKill = samples.filter((x) => x.time > killedAt);
      // ~3.2 s at 2 Hz: 5-7 ticks completed before the kill, plus the one the end of the first report scan
      // asks for at once (the ticks no longer wait for that scan), all of them on disk.
      assert.ok(before.length >= 5 && before.length <= 8, `ticks before the kill: ${before.length}`);
      assert.ok(afterKill.length >= 4, `ticks after the restart: ${afterKill.length}`);
      const gaps = samples.slice(1).map((x, i) => x.time - samples[i]!.time);
      const bigGaps = gaps.filter((g) => g > INTERVAL_MS * 1.8);
      assert.equal(bigGaps.length, 1, `exactly one gap (the kill), gaps: ${gaps.join(',')}`);
      assert.ok(bigGaps[0]! >= restartedAt - killedAt - INTERVAL_MS);
      // Every tick holds a reading of the EXO processes started by the test.
      for (const x of samples) {
        assert.ok(x.memory.total! > 0);
        assert.ok(
          x.processes.some((p) => p.pid === tree.mainPid && p.role === 'exo-main'),
          `tick ${x.time} misses exo-main`,
        );
        assert.ok(x.processes.some((p) => p.pid === tree.children.runners[0] && p.role === 'exo-runner'));
      }
      const kinds = store.events(0, Date.now() + 1000).map((e) => e.kind);
      assert.deepEqual(
        kinds.filter((k) => k.startsWith('daemon.')),
        ['daemon.started', 'daemon.unclean-stop', 'daemon.started', 'daemon.stopped'],
      );
      // The pid map holds the tree once (same pid and start time across both runs), with argv and role.
      const runner = store.processesByPid(tree.children.runners[0]!);
      assert.equal(runner.length, 1);
      assert.equal(runner[0]?.role, 'exo-runner');
      assert.ok(runner[0]?.argv.includes('--multiprocessing-fork'));
      assert.match(runner[0]?.executable ?? '', /node/);
      const started = store.events(0, Date.now() + 1000, 'process.started');
      assert.ok(started.some((e) => e.data?.['pid'] === tree.mainPid && e.data?.['role'] === 'exo-main'));
      db.close();

      // The timeline command reads what the daemon wrote.
      const csv = await runCli(['timeline', '--data-dir', dataDir, '--since', '1m', '--csv']);
      assert.equal(csv.code, 0, csv.stderr);
      const lines = csv.stdout.trim().split('\n');
      assert.equal(
        lines[0],
        'time,free_percent,mem_free,mem_wired,mem_compressed,swap_used,pressure_level,gpu_in_use,gpu_alloc,gpu_ceiling,exo_runner_footprint,exo_main_footprint',
      );
      assert.equal(lines.length - 1, samples.length);
      // Logs: JSON lines in the data directory's log file (exo-sentinel.log, rotated ones exo-sentinel.N.log).
      const logFiles = readdirSync(`${dataDir}/logs`).filter((f) => /^exo-sentinel(\.\d+)?\.log$/.test(f));
      assert.ok(logFiles.length >= 1, `log files: ${logFiles.join(',')}`);
      const records = logFiles
        .flatMap((f) => readFileSync(`${dataDir}/logs/${f}`, 'utf8').trim().split('\n'))
        .map((l) => JSON.parse(l) as { msg: string; level: number });
      assert.ok(records.some((r) => r.msg === 'SIGTERM: stopping'));
      assert.ok(records.some((r) => /^watching every 0\.5s/.test(r.msg)));
      const json = JSON.parse(
        (await runCli(['timeline', '--data-dir', dataDir, '--since', '1m', '--json'])).stdout,
      );
      assert.equal(json.resolution, 'raw');
      assert.equal(json.samples.length, samples.length);
    } finally {
      await tree.stop();
    }
  });

  it('records the exit of a watched process', async () => {
    const dataDir = `${dir.path}/exits`;
    const tree = await startFakeExoTree(`${dir.path}/exo2`, { runners: 1, runnerMiB: 8 });
    const d = await startDaemon(['--data-dir', dataDir, '--interval', '0.5']);
    await sleep(1200);
    process.kill(tree.children.runners[0]!, 'SIGKILL');
    await sleep(1200);
    d.kill('SIGTERM');
    await waitForExit(d);
    await tree.stop();
    const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
    const store = new TimelineStore(db);
    const exited = store.events(0, Date.now() + 1000, 'process.exited');
    assert.deepEqual(
      exited.map((e) => [e.data?.['pid'], e.data?.['role'], e.severity]),
      [[tree.children.runners[0], 'exo-runner', 'warning']],
    );
    assert.ok(store.processesByPid(tree.children.runners[0]!)[0]?.exitedAt);
    db.close();
  });

  it('refuses a bad configuration, naming the key; a second daemon on the same data directory exits 0 saying already running', async () => {
    const dataDir = `${dir.path}/cfg`;
    await runCli(['daemon', '--once', '--data-dir', dataDir]);
    writeFileSync(`${dataDir}/config.json`, JSON.stringify({ slowIntervalSeconds: 0 }));
    const bad = await runCli(['daemon', '--once', '--data-dir', dataDir]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /config\.json: "slowIntervalSeconds" is 0: Number must be greater than or equal to 1$/m,
    );
    assert.match(bad.stderr, /does not start/);
    writeFileSync(`${dataDir}/config.json`, '{}');
    const d = await startDaemon(['--data-dir', dataDir]);
    // Exit 0 with one line: launchd's KeepAlive {SuccessfulExit: false} does not restart it every 10 s.
    const second = await runCli(['daemon', '--once', '--data-dir', dataDir]);
    assert.equal(second.code, 0);
    assert.equal(second.stdout, `exo-sentinel: already running (pid ${d.pid}) for ${dataDir}\n`);
    const status = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout);
    assert.equal(status.daemon.running, true);
    assert.equal(status.daemon.pid, d.pid);
    d.kill('SIGINT');
    assert.equal((await waitForExit(d)).code, 0);
  });

  it('refuses a data directory another user could plant links in, and says how to fix it', async () => {
    const open = `${dir.path}/open`;
    mkdirSync(open);
    chmodSync(open, 0o777);
    const refused = await runCli(['daemon', '--once', '--data-dir', open]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /the data directory .*\/open can be written by anyone \(mode 0777\): another user could plant links there/,
    );
    assert.deepEqual(readdirSync(open), [], 'nothing written in it');
    chmodSync(open, 0o1777);
    assert.match(
      (await runCli(['daemon', '--once', '--data-dir', open])).stderr,
      /mode 1777/,
      'sticky or not',
    );
    // Shared for reading is its owner's choice.
    chmodSync(open, 0o750);
    assert.equal((await runCli(['daemon', '--once', '--data-dir', open])).code, 0);
    // A parent others can write (no sticky bit): they could move it away and put their own in its place.
    const shared = `${dir.path}/shared`;
    mkdirSync(`${shared}/mine`, { recursive: true, mode: 0o700 });
    chmodSync(shared, 0o777);
    const moved = await runCli(['daemon', '--once', '--data-dir', `${shared}/mine`]);
    assert.equal(moved.code, 1);
    assert.match(moved.stderr, /is in .*\/shared, which anyone can write \(mode 0777, no sticky bit\)/);
    chmodSync(shared, 0o1777);
    assert.equal(
      (await runCli(['daemon', '--once', '--data-dir', `${shared}/mine`])).code,
      0,
      'sticky: fine',
    );
    if (process.getuid?.() === 0) {
      const theirs = `${dir.path}/theirs`;
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 65534, 65534);
      const other = await runCli(['daemon', '--once', '--data-dir', theirs]);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /belongs to another user \(uid 65534, mode 0700\)/);
      // Mine, but in another user's directory: they could move it away.
      const inTheirs = `${dir.path}/their-parent`;
      mkdirSync(`${inTheirs}/mine`, { recursive: true, mode: 0o700 });
      chownSync(inTheirs, 65534, 65534);
      const moved = await runCli(['daemon', '--once', '--data-dir', `${inTheirs}/mine`]);
      assert.equal(moved.code, 1);
      assert.match(moved.stderr, /is in .*\/their-parent, a directory of another user \(uid 65534\)/);
      // Reached through another user's link (its target this user's own): they could point it elsewhere.
      const target = `${dir.path}/real-parent`;
      mkdirSync(`${target}/mine`, { recursive: true, mode: 0o700 });
      symlinkSync(target, `${dir.path}/their-link`);
      lchownSync(`${dir.path}/their-link`, 65534, 65534);
      const linked = await runCli(['daemon', '--once', '--data-dir', `${dir.path}/their-link/mine`]);
      assert.equal(linked.code, 1);
      assert.match(linked.stderr, /is in .*\/their-link, a link of another user \(uid 65534\)/);
      assert.equal(
        (await runCli(['daemon', '--once', '--data-dir', `${target}/mine`])).code,
        0,
        'its target: fine',
      );
    }
  });
});
