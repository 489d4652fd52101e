import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import {
  acquireLock,
  checkLock,
  isHeld,
  type LockInfo,
  type ProcessIdentity,
  readLock,
  releaseLock,
  runningDaemon,
  systemIdentity,
} from '../../../src/main/core/instance-lock.js';
import { bootId, PROCESS_START } from '../../support/machine.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('exo-sentinel-lock-');
after(dir.cleanup);

const here = (bootId: string | null, starts: Record<number, string>): ProcessIdentity => ({
  bootId,
  startTimeOf: (pid) => starts[pid] ?? null,
});

const lock = (over: Partial<LockInfo> = {}): LockInfo => ({
  pid: 4242,
  startedAt: 1,
  bootId: 'boot-A',
  processStart: '1000',
  ...over,
});

describe('the stale-lock rule', () => {
  it('held only for the same boot AND the same process start time', () => {
    assert.equal(isHeld(lock(), here('boot-A', { 4242: '1000' })), true, 'same boot, same start');
    assert.equal(
      isHeld(lock(), here('boot-B', { 4242: '1000' })),
      false,
      'another boot (panic reboot), same start ticks',
    );
    assert.equal(
      isHeld(lock(), here('boot-A', { 4242: '2000' })),
      false,
      'the pid reused by another process',
    );
    assert.equal(isHeld(lock(), here('boot-A', {})), false, 'the process is gone');
    assert.equal(
      isHeld(lock({ processStart: null }), here('boot-A', { 4242: '1000' })),
      false,
      'no start time recorded',
    );
    assert.equal(
      isHeld(lock({ bootId: null }), here(null, { 4242: '1000' })),
      true,
      'no boot id anywhere: the start time decides',
    );
    assert.equal(isHeld(lock({ bootId: null }), here('boot-A', { 4242: '1000' })), false);
  });

  it('on this machine: a live unrelated process (pid 1, a sleep) never blocks; an old pid-only pidfile is stale', async () => {
    const path = `${dir.path}/daemon.pid`;
    const sleeper = spawn('sleep', ['60']);
    try {
      for (const pid of [1, sleeper.pid!]) {
        // The old format (pid + startedAt only), then one from this boot whose start time does not match.
        for (const body of [
          { pid, startedAt: 5 },
          { pid, startedAt: 5, bootId: systemIdentity().bootId, processStart: '1' },
        ]) {
          writeFileSync(path, JSON.stringify(body));
          assert.equal(runningDaemon(path), null);
          const got = acquireLock(path, 10);
          assert.ok(got.ok, `pid ${pid} blocked start-up`);
          assert.equal(got.stale?.pid, pid, 'the previous record is reported as stale');
          assert.equal(got.unrecorded, null);
          const mine = readLock(path)!;
          assert.equal(mine.pid, process.pid);
          assert.equal(mine.bootId, bootId());
          assert.match(mine.processStart ?? '', PROCESS_START);
          releaseLock(path);
          assert.equal(readLock(path), null);
        }
      }
      // A pidfile naming the sleeper with its real start time and this boot: that is held.
      const id = systemIdentity();
      writeFileSync(
        path,
        JSON.stringify({
          pid: sleeper.pid,
          startedAt: 5,
          bootId: id.bootId,
          processStart: id.startTimeOf(sleeper.pid!),
        }),
      );
      const blocked = acquireLock(path, 10);
      assert.equal(blocked.ok, false);
      assert.equal(runningDaemon(path)?.pid, sleeper.pid);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('six processes taking a stale lock at the same instant: exactly one gets it', async () => {
    const path = `${dir.path}/race.pid`;
    writeFileSync(path, JSON.stringify({ pid: 1, startedAt: 1 }));
    const script = `${dir.path}/race.mts`;
    writeFileSync(
      script,
      `import { acquireLock } from ${JSON.stringify(`${process.cwd()}/src/main/core/instance-lock.ts`)};
const at = Number(process.argv[2]);
while (Date.now() < at) {}
const r = acquireLock(${JSON.stringify(path)}, Date.now());
console.log(r.ok ? 'got' : 'refused');
setTimeout(() => undefined, 1500);
`,
    );
    const at = Date.now() + 2500;
    const results = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve) => {
            const c = spawn(process.execPath, ['--import', 'tsx', script, String(at)]);
            let out = '';
            c.stdout.on('data', (d: Buffer) => {
              out += d.toString();
            });
            c.on('close', () => resolve(out.trim()));
          }),
      ),
    );
    assert.deepEqual(results.sort(), ['got', 'refused', 'refused', 'refused', 'refused', 'refused']);
  });

  it('an unwritable pidfile does not stop start-up; it is reported', () => {
    const got = acquireLock(`${dir.path}/no-such-dir/daemon.pid`, 1);
    assert.ok(got.ok);
    assert.match(got.unrecorded ?? '', /ENOENT/);
  });
});

describe("a running daemon's look at its pidfile (checkLock)", () => {
  it('its own record is held; removed, it is written again; another live holder or another start is taken', () => {
    const path = `${dir.path}/look.pid`;
    const taken = acquireLock(path, 77);
    assert.ok(taken.ok);
    const own = readLock(path)!;
    assert.equal(checkLock(path, own).state, 'held');
    rmSync(path);
    assert.equal(checkLock(path, own).state, 'rewritten');
    assert.equal(readLock(path)?.pid, process.pid);
    // The same pid with another start (a daemon in another pid namespace sharing the directory) is not ours.
    writeFileSync(path, JSON.stringify({ ...own, startedAt: own.startedAt + 1 }));
    const other = checkLock(path, own);
    assert.equal(other.state, 'taken');
    // A live process of this machine, recorded with its boot and start: taken.
    const live = systemIdentity();
    writeFileSync(
      path,
      JSON.stringify({ pid: 1, startedAt: 1, bootId: live.bootId, processStart: live.startTimeOf(1) }),
    );
    assert.equal(checkLock(path, own).state, live.startTimeOf(1) === null ? 'rewritten' : 'taken');
    rmSync(path, { force: true });
  });

  it('the stale record found at a start that could not write its own is written over, even one with this pid', () => {
    const path = `${dir.path}/left-over.pid`;
    // A container's daemon is always the same pid: the record of its run before the reboot names this pid.
    const leftOver = { pid: process.pid, startedAt: 5, bootId: 'an-earlier-boot', processStart: null };
    writeFileSync(path, JSON.stringify(leftOver));
    const own = {
      pid: process.pid,
      startedAt: 99,
      bootId: null,
      processStart: null,
      api: 'http://127.0.0.1:1',
    };
    assert.equal(checkLock(path, own).state, 'taken', 'without knowing it was there at the start: not ours');
    assert.equal(checkLock(path, own, undefined, leftOver).state, 'rewritten');
    assert.deepEqual(
      { pid: readLock(path)?.pid, startedAt: readLock(path)?.startedAt, api: readLock(path)?.api },
      { pid: process.pid, startedAt: 99, api: 'http://127.0.0.1:1' },
    );
    assert.equal(checkLock(path, own, undefined, leftOver).state, 'held');
    // A record written since by someone else is judged as ever.
    writeFileSync(path, JSON.stringify({ ...leftOver, startedAt: 6 }));
    assert.equal(checkLock(path, own, undefined, leftOver).state, 'taken');
    rmSync(path, { force: true });
  });
});
