/**
 * The data directory's lock is its pidfile. Removed while the daemon runs (a cleanup, by hand), it is written
 * again within 10 s; and when a second daemon got in first, the first stops, so one writer remains. Before,
 * the pidfile stayed gone, a second daemon started beside the first and both wrote the timeline, and the
 * second removed the pidfile when it stopped while the first still ran.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readLock } from '../../src/main/core/instance-lock.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { DAEMON_NODE_FLAGS } from '../../src/main/headless/node-flags.js';
import { cliPath, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

const alive = (pid: number | undefined): boolean => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the pidfile removed under a running daemon', () => {
  const dir = tempDir('exo-sentinel-pidfile-');
  after(() => dir.cleanup());

  it('is written again; a second daemon that got in first leaves one writer, never two', async () => {
    const data = join(dir.path, 'data');
    const pidfile = join(data, 'daemon.pid');
    const flags = ['--data-dir', data, '--interval', '0.5', '--exo-url', 'http://127.0.0.1:9', '--no-guard'];
    const a = await startDaemon(flags);
    try {
      await sleep(500);
      assert.equal(readLock(pidfile)?.pid, a.pid);
      rmSync(pidfile);
      for (let i = 0; i < 60 && !existsSync(pidfile); i++) await sleep(250);
      assert.equal(readLock(pidfile)?.pid, a.pid, 'written again, naming the running daemon');
      assert.ok(readLock(pidfile)?.api, 'with its API address');

      // Removed again, and a second daemon started at once: whichever holds the lock, one runs.
      rmSync(pidfile);
      const b = spawn(process.execPath, [...DAEMON_NODE_FLAGS, cliPath, 'daemon', ...flags, '--no-api'], {
        stdio: 'ignore',
      });
      let both = true;
      for (let i = 0; i < 80 && both; i++) {
        await sleep(250);
        both = alive(a.pid) && alive(b.pid);
      }
      const survivor = alive(a.pid) ? a : b;
      assert.equal(both, false, 'one of the two stopped');
      assert.equal(readLock(pidfile)?.pid, survivor.pid, 'the pidfile names the one that runs');
      const stopped = survivor === a ? b : a;
      const exit = await waitForExit(stopped, 5000);
      assert.ok(exit.code !== null && exit.code !== 0, `the other exited with ${exit.code}`);
      survivor.kill('SIGTERM');
      await waitForExit(survivor);
    } finally {
      if (alive(a.pid)) a.kill('SIGKILL');
    }
    const db = openDatabase(join(data, 'timeline.db'), { readonly: true });
    try {
      const notes = db.prepare("SELECT message FROM events WHERE kind = 'storage.pidfile'").all() as Array<{
        message: string;
      }>;
      assert.ok(
        notes.some((n) =>
          /was removed \(or overwritten\) while the daemon ran: written again/.test(n.message),
        ),
        notes.map((n) => n.message).join('\n'),
      );
    } finally {
      db.close();
    }
  });
});
