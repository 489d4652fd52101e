/**
 * The data directory removed while the daemon runs (a cleanup script, `rm -rf`): the real daemon finds its
 * timeline's path empty within 10 s, writes the timeline back there from its open connection (every row,
 * those taken after the removal too) and stops with EXIT_FAULT for launchd/systemd to start it again on it.
 * Before, it wrote into the unlinked file for ever: its status fine, nothing on disk, every later tick lost at
 * the stop, and its lock gone, so a second daemon started beside it.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT_FAULT } from '../../src/main/core/fault-handler.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

describe('the data directory removed under a running daemon', () => {
  const dir = tempDir('exo-sentinel-removed-');
  after(() => dir.cleanup());

  it('is written back with every row, including those after the removal, and the daemon stops to restart on it', async () => {
    const data = join(dir.path, 'data');
    const daemon = await startDaemon([
      '--data-dir',
      data,
      '--interval',
      '0.5',
      '--exo-url',
      'http://127.0.0.1:9',
      '--no-guard',
    ]);
    await sleep(1500);
    const removedAt = Date.now();
    rmSync(data, { recursive: true, force: true });
    const exit = await waitForExit(daemon, 20_000);
    assert.equal(exit.code, EXIT_FAULT, daemon.output());
    assert.ok(existsSync(join(data, 'timeline.db')), 'the timeline is back at its path');
    const db = openDatabase(join(data, 'timeline.db'), { readonly: true });
    try {
      const n = (sql: string, ...args: number[]): number => (db.prepare(sql).get(...args) as { n: number }).n;
      assert.ok(n('SELECT count(*) n FROM samples WHERE ts < ?', removedAt) >= 2, 'rows from before');
      assert.ok(
        n('SELECT count(*) n FROM samples WHERE ts > ?', removedAt + 1000) >= 2,
        'rows taken after the removal',
      );
      const said = db.prepare("SELECT message FROM events WHERE kind = 'storage.removed'").get() as
        | { message: string }
        | undefined;
      assert.match(said?.message ?? '', /was removed \(or its directory\) while the daemon wrote to it/);
    } finally {
      db.close();
    }
  });
});
