import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { migrate, openDatabase, schemaVersion } from '../../../src/main/core/store/database.js';
import { MIGRATIONS } from '../../../src/main/core/store/migrations.js';
import { applyRetention } from '../../../src/main/core/store/retention.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import { makeSample } from '../../support/sample-factory.js';
import { tempDir } from '../../support/temp-dir.js';

const GiB = 1024 ** 3;
const dir = tempDir();
after(dir.cleanup);

describe('timeline store (real SQLite)', () => {
  it('creates the schema in WAL mode with synchronous=FULL, full flushes at checkpoints, and is idempotent on reopen', () => {
    const path = `${dir.path}/a.db`;
    const db = openDatabase(path);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.equal(db.pragma('checkpoint_fullfsync', { simple: true }), 1);
    // A 2 MB page cache, not the 16 MB better-sqlite3 builds SQLite with (it only grows), readers included.
    assert.equal(db.pragma('cache_size', { simple: true }), -2000);
    const reader = openDatabase(path, { readonly: true });
    assert.equal(reader.pragma('cache_size', { simple: true }), -2000);
    reader.close();
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    db.close();
    const again = openDatabase(path);
    assert.equal(migrate(again), MIGRATIONS.length);
    again.close();
  });

  it('refuses a database from a newer version instead of damaging it', () => {
    const db = openDatabase(`${dir.path}/newer.db`);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    assert.throws(() => migrate(db), /newer than this exo-sentinel knows/);
    db.close();
  });

  it('writes ticks and reads them back with process readings', () => {
    const store = new TimelineStore(openDatabase(`${dir.path}/b.db`));
    for (let i = 0; i < 5; i++) {
      store.writeTick(makeSample(1_000_000 + i * 1000, 10 + i), [
        {
          time: 1_000_000 + i * 1000,
          kind: 'test.tick',
          severity: 'info',
          message: `tick ${i}`,
          data: { i },
        },
      ]);
    }
    assert.equal(store.sampleCount(), 5);
    const latest = store.latestSample();
    assert.equal(latest?.time, 1_004_000);
    assert.equal(latest?.memory.wired, 14 * GiB);
    assert.equal(latest?.gpu.ceilingBytes, 96 * GiB);
    assert.deepEqual(
      latest?.processes.map((p) => [p.pid, p.role, p.physFootprint]),
      [
        [1577, 'exo-main', 2 * GiB],
        [1601, 'exo-runner', 40 * GiB],
      ],
    );
    const range = store.samples(1_001_000, 1_003_000, true);
    assert.deepEqual(
      range.map((s) => s.time),
      [1_001_000, 1_002_000, 1_003_000],
    );
    assert.equal(range[1]?.processes.length, 2);
    const events = store.events(0, 2_000_000, 'test.');
    assert.equal(events.length, 5);
    assert.deepEqual(events[3]?.data, { i: 3 });
    store.db.close();
  });

  it('a tick on the millisecond of a stored one (the clock set back) leaves it whole and is stored at the next free one', () => {
    const store = new TimelineStore(openDatabase(`${dir.path}/clock-back.db`));
    const before = makeSample(2_000_000, 60, 90 * GiB);
    store.writeTick(before);
    store.writeTick(makeSample(2_000_001, 61, 91 * GiB));
    const after = makeSample(2_000_000, 12, 3 * GiB);
    after.processes = after.processes.map((p) => ({ ...p, pid: p.pid + 1000 }));
    store.writeTick(after, [
      {
        time: 2_000_000,
        kind: 'clock.jump',
        severity: 'info',
        message: 'the wall clock moved -30 s',
        data: {},
      },
    ]);
    const all = store.samples(0, 3_000_000, true);
    assert.deepEqual(
      all.map((s) => [s.time, s.memory.wired]),
      [
        [2_000_000, 60 * GiB],
        [2_000_001, 61 * GiB],
        [2_000_002, 12 * GiB],
      ],
      'the stored readings untouched, the new one kept too',
    );
    assert.deepEqual(
      all[0]!.processes.map((p) => [p.pid, p.physFootprint]),
      before.processes.map((p) => [p.pid, p.physFootprint]),
    );
    assert.deepEqual(
      all[2]!.processes.map((p) => p.pid),
      after.processes.map((p) => p.pid),
    );
    assert.equal(store.events(0, 3_000_000, 'clock.').length, 1);
    store.db.close();
  });

  it('keeps the pid map: a panic naming pid N can be joined to role, argv and start time', () => {
    const store = new TimelineStore(openDatabase(`${dir.path}/c.db`));
    const entry = {
      pid: 1601,
      ppid: 1577,
      argv: ['exo', '--multiprocessing-fork'],
      executable: '/x/exo',
      name: 'exo',
      startTime: 2000,
    };
    store.recordProcess(entry, 'exo-runner', 10_000);
    store.recordProcess(entry, 'exo-runner', 11_000);
    store.recordExit(1601, 2000, 12_000);
    store.recordProcess({ ...entry, startTime: 9000, argv: ['other'] }, 'mlx-server', 13_000);
    const rows = store.processesByPid(1601);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0]?.argv, ['other']);
    assert.deepEqual(
      { role: rows[1]?.role, first: rows[1]?.firstSeen, last: rows[1]?.lastSeen, exited: rows[1]?.exitedAt },
      { role: 'exo-runner', first: 10_000, last: 12_000, exited: 12_000 },
    );
    assert.deepEqual(
      store.liveProcesses().map((p) => p.startTime),
      [9000],
    );
    store.db.close();
  });

  it('rolls complete minutes into min/avg/max and deletes past the windows', () => {
    const db = openDatabase(`${dir.path}/d.db`);
    const store = new TimelineStore(db);
    const MIN = 60_000;
    const t0 = 100 * MIN;
    // Three minutes of 1 s samples, wired rising 10 → 12.95 GiB in the first minute's pattern.
    for (let s = 0; s < 180; s++) store.writeTick(makeSample(t0 + s * 1000, 10 + (s % 60) * 0.05));
    const now = t0 + 3 * MIN + 5000;
    const r = applyRetention(db, now, { rawMs: 2 * MIN, minuteMs: 10 * MIN });
    assert.equal(r.minutesRolledUp, 3);
    const minutes = store.minuteSamples(0, now);
    assert.equal(minutes.length, 3);
    assert.equal(minutes[0]?.count, 60);
    assert.equal(minutes[0]?.values.mem_wired?.min, 10 * GiB);
    assert.equal(minutes[0]?.values.mem_wired?.max, (10 + 59 * 0.05) * GiB);
    assert.ok(Math.abs((minutes[0]?.values.mem_wired?.avg ?? 0) - (10 + 29.5 * 0.05) * GiB) < 1024);
    // Raw rows older than 2 minutes are gone, the rest stay.
    assert.equal(r.rawDeleted, 65);
    assert.equal(store.sampleCount(), 115);
    // Rolling again is idempotent; later, everything past the long window goes.
    applyRetention(db, now, { rawMs: 2 * MIN, minuteMs: 10 * MIN });
    assert.equal(store.minuteSamples(0, now).length, 3);
    const later = applyRetention(db, now + 20 * MIN, { rawMs: 2 * MIN, minuteMs: 10 * MIN });
    assert.equal(later.minuteDeleted, 3);
    assert.equal(store.sampleCount(), 0);
    db.close();
  });

  it('stays bounded: a week of raw samples at 1 Hz is pruned to the window', () => {
    const db = openDatabase(`${dir.path}/e.db`);
    const store = new TimelineStore(db);
    const insert = db.transaction((from: number, n: number) => {
      for (let i = 0; i < n; i++) store.writeTick(makeSample(from + i * 1000));
    });
    insert(0, 20_000);
    applyRetention(db, 20_000_000, { rawMs: 3_600_000, minuteMs: 86_400_000 });
    assert.equal(store.sampleCount(), 3600);
    // The minute in progress (19 980 s ..) is rolled only once it is complete.
    assert.equal(store.minuteSamples(0, 20_000_000).length, Math.floor(20_000 / 60));
    db.close();
  });
});
