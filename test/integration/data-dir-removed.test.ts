/**
 * The data directory removed while the daemon runs (a cleanup script, `rm -rf`): the real daemon finds its
 * timeline's path empty within 10 s, writes the timeline back there from its open connection (every row,
 * those taken after the removal too) and stops with EXIT_FAULT for launchd/systemd to start it again on it.
 * Before, it wrote into the unlinked file for ever: its status fine, nothing on disk, every later tick lost at
 * the stop, and its lock gone, so a second daemon started beside it.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT_FAULT } from '../../src/main/core/fault-handler.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

/** A daemon ticking every 0.5 s on `dataDir`, nothing else running (no EXO, no guard). */
const watching = (dataDir: string) =>
  startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--exo-url', 'http://127.0.0.1:9', '--no-guard']);

/** Samples stored in the timeline at `dataDir`, with `where` (a condition on `ts`) and its arguments. */
function samplesIn(dataDir: string, where = '1', ...args: number[]): number {
  const db = openDatabase(join(dataDir, 'timeline.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) n FROM samples WHERE ${where}`).get(...args) as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Everything the daemon of `dataDir` logged so far. */
const logsOf = (dataDir: string): string =>
  readdirSync(join(dataDir, 'logs'))
    .map((f) => readFileSync(join(dataDir, 'logs', f), 'utf8'))
    .join('');

describe('the data directory removed under a running daemon', { concurrency: true }, () => {
  const dir = tempDir('exo-sentinel-removed-');
  after(() => dir.cleanup());

  it('is written back with every row, including those after the removal, and the daemon stops to restart on it', async () => {
    const data = join(dir.path, 'data');
    const daemon = await watching(data);
    await sleep(1500);
    const removedAt = Date.now();
    rmSync(data, { recursive: true, force: true });
    const exit = await waitForExit(daemon, 20_000);
    assert.equal(exit.code, EXIT_FAULT, daemon.output());
    assert.ok(existsSync(join(data, 'timeline.db')), 'the timeline is back at its path');
    assert.ok(samplesIn(data, 'ts < ?', removedAt) >= 2, 'rows from before');
    assert.ok(samplesIn(data, 'ts > ?', removedAt + 1000) >= 2, 'rows taken after the removal');
    const db = openDatabase(join(data, 'timeline.db'), { readonly: true });
    try {
      const said = db.prepare("SELECT message FROM events WHERE kind = 'storage.removed'").get() as
        | { message: string }
        | undefined;
      assert.match(said?.message ?? '', /was removed \(or its directory\) while the daemon wrote to it/);
    } finally {
      db.close();
    }
  });

  it('its write-ahead log removed: every row is checkpointed into timeline.db at once, and it stops to restart with a new log', async () => {
    const data = join(dir.path, 'wal');
    const daemon = await watching(data);
    await sleep(1500);
    const db = join(data, 'timeline.db');
    // In the first minutes of a run every row, and the schema, are in the log alone.
    assert.ok(statSync(`${db}-wal`).size > statSync(db).size, 'the rows are in the log');
    const removedAt = Date.now();
    rmSync(`${db}-wal`);
    rmSync(`${db}-shm`);
    // A reader opening the timeline meanwhile makes SQLite's own new, empty log: not "another file".
    await runCli(['status', '--json', '--data-dir', data]);
    assert.equal(statSync(`${db}-wal`).size, 0, "SQLite's new log, empty");
    // Killed the moment it says so, as a panic or a power cut would: nothing after the checkpoint is needed.
    const logged = () => logsOf(data);
    const deadline = Date.now() + 15_000;
    while (!/-wal was removed while/.test(logged()) && Date.now() < deadline) await sleep(50);
    daemon.kill('SIGKILL');
    await waitForExit(daemon);
    assert.match(
      logged(),
      /timeline\.db-wal was removed while the daemon wrote to it: every row was checkpointed into .*timeline\.db at once, and the daemon stops now for a restart with a new log/,
    );
    assert.ok(
      samplesIn(data, 'ts < ?', removedAt) >= 2,
      'rows from before the removal, in timeline.db itself',
    );
    assert.ok(samplesIn(data, 'ts > ?', removedAt + 1000) >= 1, 'rows taken after it, up to the checkpoint');
    assert.deepEqual(
      readdirSync(data).filter((f) => f.includes('restored') || f.includes('replaced')),
      [],
      'nothing to write back beside it, nothing moved aside',
    );
    // Stopped by itself instead, it exits for a restart; the restart opens a new log on the same timeline.
    const again = await watching(data);
    await sleep(1200);
    rmSync(`${db}-wal`);
    const exit = await waitForExit(again, 20_000);
    assert.equal(exit.code, EXIT_FAULT, again.output());
    const third = await watching(data);
    await sleep(1200);
    third.kill('SIGTERM');
    assert.equal((await waitForExit(third)).code, 0);
    assert.ok(samplesIn(data, 'ts > ?', removedAt + 3000) >= 4, 'the timeline goes on');
  });

  it('its log removed while a reader holds a snapshot: the partial checkpoint is not claimed, a whole copy is written beside', async () => {
    const data = join(dir.path, 'wal-reader');
    const daemon = await watching(data);
    await sleep(1500);
    const db = join(data, 'timeline.db');
    const reader = openDatabase(db, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM samples').get();
    const removedAt = Date.now();
    try {
      rmSync(`${db}-wal`);
      const exit = await waitForExit(daemon, 20_000);
      assert.equal(exit.code, EXIT_FAULT, daemon.output());
    } finally {
      reader.exec('COMMIT');
      reader.close();
    }
    const logged = logsOf(data);
    assert.match(
      logged,
      /timeline\.db-wal was removed while the daemon wrote to it: a reader kept part of the log from .* pages copied\); a whole copy is written beside it/,
    );
    const restored = readdirSync(data).filter((f) => /^timeline\.restored-\d+\.db$/.test(f));
    assert.equal(restored.length, 1, readdirSync(data).join(', '));
    const copy = openDatabase(join(data, restored[0]!), { readonly: true });
    try {
      const n = (q: string, ...a: number[]) => (copy.prepare(q).get(...a) as { n: number }).n;
      assert.ok(n('SELECT count(*) n FROM samples WHERE ts < ?', removedAt) >= 2, 'rows from before');
      assert.ok(n('SELECT count(*) n FROM samples WHERE ts > ?', removedAt) >= 1, 'rows after');
      assert.equal(copy.pragma('integrity_check', { simple: true }) as string, 'ok');
    } finally {
      copy.close();
    }
  });

  it('its log replaced by another file (a copy put back): the other file is moved aside, never replayed over the timeline', async () => {
    const data = join(dir.path, 'wal-replaced');
    const daemon = await watching(data);
    await sleep(1500);
    const db = join(data, 'timeline.db');
    copyFileSync(`${db}-wal`, `${db}-wal.copy`);
    renameSync(`${db}-wal.copy`, `${db}-wal`);
    const exit = await waitForExit(daemon, 20_000);
    assert.equal(exit.code, EXIT_FAULT, daemon.output());
    const aside = readdirSync(data).filter((f) => /^timeline\.db-wal\.replaced-\d+$/.test(f));
    assert.equal(aside.length, 1, readdirSync(data).join(', '));
    const stored = openDatabase(db, { readonly: true });
    try {
      const said = stored
        .prepare("SELECT message, data FROM events WHERE kind = 'storage.removed'")
        .get() as {
        message: string;
        data: string;
      };
      assert.match(
        said.message,
        /-wal was replaced by another file while the daemon wrote to it: every row was checkpointed .*; the other file is kept as .*\.replaced-\d+/,
      );
      assert.equal(JSON.parse(said.data).replaced, true);
      assert.ok(
        stored.prepare("SELECT 1 FROM events WHERE kind = 'daemon.stopped'").get(),
        'the stop record is there',
      );
    } finally {
      stored.close();
    }
  });

  it('removed 0700 and the daemon stopped 2 s later (before a look): written back all the same, 0700 again', async () => {
    const data = join(dir.path, 'quick');
    const daemon = await watching(data);
    await sleep(1500);
    chmodSync(data, 0o700);
    rmSync(data, { recursive: true, force: true });
    await sleep(2000);
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    assert.ok(existsSync(join(data, 'timeline.db')), 'written back at the stop');
    assert.equal(statSync(data).mode & 0o777, 0o700, 'the data directory is private again');
    assert.ok(samplesIn(data) >= 3);
  });

  it('a data directory that is a link to a removed directory: the target is made again and written into', async () => {
    const target = join(dir.path, 'volume', 'exo');
    const link = join(dir.path, 'linked');
    mkdirSync(target, { recursive: true });
    symlinkSync(target, link);
    const daemon = await watching(link);
    await sleep(1500);
    rmSync(join(dir.path, 'volume'), { recursive: true, force: true });
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    // Before, mkdir on the dangling link failed (EEXIST) and every row was lost with the unlinked file.
    assert.ok(existsSync(join(target, 'timeline.db')), 'written back through the link');
  });

  it('nowhere to write it back (a file took the name of the directory): it goes to the temporary directory, said on stderr', async () => {
    const data = join(dir.path, 'blocked');
    const tmp = join(dir.path, 'tmp');
    mkdirSync(tmp);
    const daemon = await startDaemon(
      ['--data-dir', data, '--interval', '0.5', '--exo-url', 'http://127.0.0.1:9', '--no-guard'],
      { TMPDIR: tmp },
    );
    await sleep(1500);
    rmSync(data, { recursive: true, force: true });
    writeFileSync(data, 'not a directory');
    await sleep(1000);
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    const saved = readdirSync(tmp).filter((f) => /^exo-sentinel-timeline-\d+-\d+\.db$/.test(f));
    assert.equal(saved.length, 1, `${readdirSync(tmp).join(', ')}\n${daemon.output()}`);
    const where = join(tmp, saved[0]!);
    assert.match(
      daemon.output(),
      new RegExp(
        `could not be written back to ${join(data, 'timeline.db').replace(/[.]/g, '\\.')} \\(.*\\): it is in ${where.replace(/[.]/g, '\\.')}; move it to`,
      ),
    );
    const db = openDatabase(where, { readonly: true });
    try {
      assert.ok((db.prepare('SELECT count(*) n FROM samples').get() as { n: number }).n >= 3, 'every row');
    } finally {
      db.close();
    }
  });
});
