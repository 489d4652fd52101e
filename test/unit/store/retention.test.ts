import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { AuditStore } from '../../../src/main/core/actions/audit-store.js';
import {
  type DatabaseConstructor,
  openDatabase,
  schemaVersion,
} from '../../../src/main/core/store/database.js';
import { MIGRATIONS } from '../../../src/main/core/store/migrations.js';
import { applyRetention, DEFAULT_RETENTION } from '../../../src/main/core/store/retention.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import { makeSample } from '../../support/sample-factory.js';
import { tempDir } from '../../support/temp-dir.js';

const Driver = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const dir = tempDir();
after(dir.cleanup);

describe('migration 4 on a database with old-shape rows', () => {
  it('adds the level and EXO roll-up columns, fills them from the raw rows still there, keeps old rows', () => {
    const path = `${dir.path}/v3.db`;
    const old = new Driver(path);
    for (const m of MIGRATIONS.slice(0, 3)) old.exec(m);
    old.pragma('user_version = 3');
    // Minute 0 still has raw rows (levels 0, 2, 1; EXO reachable, then not; in flight 1, 3, 2);
    // minute 1 was rolled up and its raw rows are gone.
    const raw = old.prepare(
      'INSERT INTO samples (ts, mem_wired, risk_level, exo_reachable, exo_in_flight) VALUES (?, ?, ?, ?, ?)',
    );
    raw.run(0, 1, 0, 1, 1);
    raw.run(1000, 2, 2, 0, 3);
    raw.run(2000, 3, 1, 1, 2);
    const minute = old.prepare(
      'INSERT INTO samples_minute (ts, n, mem_wired_min, mem_wired_avg, mem_wired_max) VALUES (?, ?, ?, ?, ?)',
    );
    minute.run(0, 3, 1, 2, 3);
    minute.run(MIN, 60, 5, 6, 7);
    old
      .prepare(
        "INSERT INTO events (ts, kind, severity, message) VALUES (5, 'panic.detected', 'critical', 'p')",
      )
      .run();
    old
      .prepare(
        "INSERT INTO actions (ts, action, level, reason, result) VALUES (5, 'hold-start', 'critical', 'cM', 'done')",
      )
      .run();
    old.close();

    const db = openDatabase(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal(MIGRATIONS.length, 7);
    const store = new TimelineStore(db);
    const [m0, m1] = store.minuteSamples(0, 2 * MIN);
    assert.deepEqual(
      { level: m0?.riskLevelMax, reachable: m0?.exoReachable, inFlight: m0?.exoInFlight },
      { level: 2, reachable: false, inFlight: { avg: 2, max: 3 } },
    );
    assert.deepEqual(m0?.values.mem_wired, { min: 1, avg: 2, max: 3 });
    // No raw rows left for minute 1: nothing is made up.
    assert.deepEqual(
      { level: m1?.riskLevelMax, reachable: m1?.exoReachable, inFlight: m1?.exoInFlight },
      { level: null, reachable: null, inFlight: { avg: null, max: null } },
    );
    assert.deepEqual(m1?.values.mem_wired, { min: 5, avg: 6, max: 7 });
    assert.equal(store.events(0, 10).length, 1);
    assert.equal(new AuditStore(db).list().length, 1);
    db.close();
  });
});

describe('migration 5: the GPU recovery counter, by name', () => {
  it('adds the column to a schema-4 database with rows, fills the minute max from raw rows, stores new samples by name', () => {
    const path = `${dir.path}/v4.db`;
    const old = new Driver(path);
    for (const m of MIGRATIONS.slice(0, 4)) old.exec(m);
    old.pragma('user_version = 4');
    old.prepare('INSERT INTO samples (ts, mem_wired, risk_level) VALUES (?, ?, ?)').run(0, 7, 1);
    old.prepare('INSERT INTO samples_minute (ts, n, risk_level_max) VALUES (?, ?, ?)').run(0, 1, 1);
    old.close();

    const db = openDatabase(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    const store = new TimelineStore(db);
    const before = store.samples(0, 1)[0]!;
    assert.equal(before.memory.wired, 7, 'old rows kept');
    assert.equal(before.gpu.recoveryCount, null, 'never read: null, not 0');
    assert.equal(store.minuteSamples(0, MIN)[0]?.gpuRecoveryCountMax, null);

    for (const [t, rc] of [
      [MIN, 3],
      [MIN + 1000, 4],
      [MIN + 2000, null],
    ] as const) {
      const s = makeSample(t);
      store.writeTick({ ...s, gpu: { ...s.gpu, recoveryCount: rc } });
    }
    assert.deepEqual(
      store.samples(MIN, MIN + 2000).map((s) => s.gpu.recoveryCount),
      [3, 4, null],
    );
    applyRetention(db, 3 * MIN);
    assert.equal(store.minuteSamples(MIN, MIN)[0]?.gpuRecoveryCountMax, 4);
    db.close();
  });
});

describe('retention (real SQLite)', () => {
  it('rolls up the risk level (max), EXO reachability and in-flight, and the GPU columns', () => {
    const db = openDatabase(`${dir.path}/rollup.db`);
    const store = new TimelineStore(db);
    for (let s = 0; s < 60; s++) {
      const sample = makeSample(s * 1000);
      sample.riskLevel = s === 30 ? 3 : 1;
      sample.exo = { reachable: s !== 10, inFlight: s % 4 };
      store.writeTick(sample);
    }
    applyRetention(db, MIN + 1);
    const [m] = store.minuteSamples(0, MIN);
    assert.equal(m?.riskLevelMax, 3);
    assert.equal(m?.exoReachable, false);
    assert.deepEqual(m?.exoInFlight, { avg: 1.5, max: 3 });
    assert.equal(m?.values.gpu_in_use?.max, 50 * 1024 ** 3);
    assert.equal(m?.values.gpu_util?.avg, 80);
    db.close();
  });

  it('keeps each kind of row for its own window, by age', () => {
    const db = openDatabase(`${dir.path}/ages.db`);
    const store = new TimelineStore(db);
    const audit = new AuditStore(db);
    const now = 500 * DAY;
    const ages = [
      HOUR,
      47 * HOUR,
      49 * HOUR,
      6 * DAY,
      8 * DAY,
      13 * DAY,
      15 * DAY,
      29 * DAY,
      31 * DAY,
      364 * DAY,
      366 * DAY,
    ];
    const kinds = [
      'guard.request',
      'probe.unavailable',
      'exo.kv-evicted',
      'exo.prefill-started',
      'exo.runner-status',
      'exo.unreachable',
      'process.started',
      'panic.detected',
      'hold.started',
      'report.unreadable',
      'jetsam',
      'guard.override',
      'action.notify',
    ];
    for (const kind of kinds)
      for (const age of ages)
        store.writeEvent({ time: now - age, kind, severity: 'info', message: `${kind} ${age}` });
    for (const action of ['notify', 'guard-mode', 'unload', 'hold-start', 'hold-end'])
      for (const age of ages)
        audit.record({ time: now - age, action, level: 'high', reason: 'r', result: 'done', dryRun: false });
    for (const age of ages) {
      store.writeTick(makeSample(now - age));
      store.recordProcess(
        { pid: age % 100_000, ppid: 1, argv: ['exo'], executable: null, name: 'exo', startTime: age },
        'exo-main',
        now - age,
      );
    }
    const r = applyRetention(db, now);
    const kept = (kind: string): number[] =>
      store
        .events(0, now, kind)
        .map((e) => (now - e.time) / HOUR)
        .sort((a, b) => a - b);
    const hours = (days: number[]): number[] => days.map((d) => d * 24);
    // 7 days: guard.request, probe.*
    for (const k of ['guard.request', 'probe.unavailable']) assert.deepEqual(kept(k), [1, 47, 49, 144], k);
    // 14 days: exo.kv-*, exo.prefill-*, exo.runner-status
    for (const k of ['exo.kv-evicted', 'exo.prefill-started', 'exo.runner-status'])
      assert.deepEqual(kept(k), [1, 47, 49, ...hours([6, 8, 13])], k);
    // The minute window (30 days): kinds without a rule.
    for (const k of ['exo.unreachable', 'process.started'])
      assert.deepEqual(kept(k), [1, 47, 49, ...hours([6, 8, 13, 15, 29])], k);
    // A year: panics, holds, report findings, jetsam, pins, actions.
    for (const k of [
      'panic.detected',
      'hold.started',
      'report.unreadable',
      'jetsam',
      'guard.override',
      'action.notify',
    ])
      assert.deepEqual(kept(k), [1, 47, 49, ...hours([6, 8, 13, 15, 29, 31, 364])], k);
    const auditAges = (action: string): number[] =>
      audit
        .list(0, now)
        .filter((a) => a.action === action)
        .map((a) => (now - a.time) / DAY)
        .sort((a, b) => a - b);
    const keptDays = ages.map((a) => a / DAY);
    for (const a of ['notify', 'guard-mode']) assert.deepEqual(auditAges(a), keptDays.slice(0, 8), a);
    for (const a of ['unload', 'hold-start', 'hold-end'])
      assert.deepEqual(auditAges(a), keptDays.slice(0, 10), a);
    assert.equal(r.auditDeleted, 2 * 3 + 3 * 1);
    assert.equal(r.eventsDeleted, 2 * 7 + 3 * 5 + 2 * 3 + 6 * 1);
    // Raw samples: 48 h; roll-ups and the pid map: 30 days.
    assert.deepEqual(
      store.samples(0, now).map((s) => (now - s.time) / HOUR),
      [47, 1],
    );
    assert.equal(r.rawDeleted, ages.length - 2);
    assert.equal(store.minuteSamples(0, now).length, 8);
    assert.equal(store.allProcesses().length, 8);
    db.close();
  });

  it('a long rule is never shorter than a longer minute window', () => {
    const db = openDatabase(`${dir.path}/long.db`);
    const store = new TimelineStore(db);
    const now = 1000 * DAY;
    store.writeEvent({ time: now - 400 * DAY, kind: 'panic.detected', severity: 'critical', message: 'old' });
    store.writeEvent({ time: now - 400 * DAY, kind: 'guard.request', severity: 'info', message: 'old' });
    applyRetention(db, now, { ...DEFAULT_RETENTION, minuteMs: 500 * DAY });
    assert.deepEqual(
      store.events(0, now).map((e) => e.kind),
      ['panic.detected'],
    );
    db.close();
  });

  it('finds the last sample before a time with one primary-key search, not a scan', () => {
    const db = openDatabase(`${dir.path}/last.db`);
    const store = new TimelineStore(db);
    for (let s = 0; s < 100; s++) store.writeTick(makeSample(s * 1000));
    assert.equal(store.lastSampleTime(50_500), 50_000);
    assert.equal(store.lastSampleTime(500_000, 200_000), null);
    assert.equal(store.lastSampleTime(-1), null);
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT ts FROM samples WHERE ts <= ? AND ts >= ? ORDER BY ts DESC LIMIT 1')
      .all(1, 0) as Array<{ detail: string }>;
    assert.match(plan.map((p) => p.detail).join('; '), /SEARCH samples USING INTEGER PRIMARY KEY/);
    assert.doesNotMatch(plan.map((p) => p.detail).join('; '), /TEMP B-TREE|SCAN/);
    db.close();
  });
});

describe('retention under a wall clock set forward and back', () => {
  const T = Date.UTC(2026, 10, 29, 12, 0, 0);
  const policy = { rawMs: 2 * DAY, minuteMs: 30 * DAY };
  const count = (db: ReturnType<typeof openDatabase>, sql: string): number =>
    (db.prepare(sql).get() as { n: number }).n;

  it('a pass while the clock is 3 days ahead moves the cut 2 h, not 3 days: the raw samples stay', () => {
    const db = openDatabase(`${dir.path}/jump.db`);
    const store = new TimelineStore(db);
    // A day of samples, one a minute, up to T.
    for (let t = T - DAY; t <= T; t += MIN) store.writeTick(makeSample(t));
    const before = count(db, 'SELECT count(*) n FROM samples');
    assert.equal(applyRetention(db, T, policy, 2 * HOUR).cutAt, T);
    // The clock jumps 3 days ahead for a moment; the daemon's pass allows 2 h (12 x 10 min).
    const jumped = applyRetention(db, T + 3 * DAY, policy, 2 * HOUR);
    assert.equal(jumped.cutAt, T + 2 * HOUR);
    assert.equal(jumped.rawDeleted, 0, 'nothing in the last day is past a 48 h window cut 2 h ahead');
    // Before, the cut was the clock: every raw sample went.
    const unbounded = openDatabase(`${dir.path}/jump-unbounded.db`);
    const u = new TimelineStore(unbounded);
    for (let t = T - DAY; t <= T; t += MIN) u.writeTick(makeSample(t));
    assert.equal(applyRetention(unbounded, T + 3 * DAY, policy).rawDeleted, before);
    unbounded.close();
    // The clock set right again: the cut follows it back, and still nothing is deleted.
    const back = applyRetention(db, T + 10 * MIN, policy, 2 * HOUR);
    assert.equal(back.cutAt, T + 10 * MIN);
    assert.equal(count(db, 'SELECT count(*) n FROM samples'), before);
    // A real step forward (the clock was wrong, now right) is caught up, 2 h a pass.
    let cut = back.cutAt;
    for (let pass = 0; pass < 40; pass++) cut = applyRetention(db, T + 3 * DAY, policy, 2 * HOUR).cutAt;
    assert.equal(cut, T + 3 * DAY);
    assert.equal(count(db, 'SELECT count(*) n FROM samples'), 0, 'then the day is past its window');
    db.close();
  });

  it('a start at a clock reset to 2001 does not hold retention back once the clock is right', () => {
    const db = openDatabase(`${dir.path}/rtc.db`);
    const store = new TimelineStore(db);
    for (const age of [2 * DAY + 10 * MIN, HOUR]) store.writeTick(makeSample(T - age));
    applyRetention(db, T - 30 * MIN, policy, 2 * HOUR);
    assert.equal(count(db, 'SELECT count(*) n FROM samples'), 2);
    const rtc = Date.UTC(2001, 0, 1);
    // Started on the reset clock (a start moves the cut nothing), then set right: the first pass cuts from
    // the clock. Before, 2001 was stored as the cut and moved 2 h a pass: 26 years of nothing deleted.
    assert.equal(applyRetention(db, rtc, policy, 0).cutAt, rtc);
    applyRetention(db, T, policy, 2 * HOUR);
    assert.deepEqual(
      (db.prepare('SELECT ts FROM samples').all() as Array<{ ts: number }>).map((r) => r.ts),
      [T - HOUR],
      'the sample 48 h 10 min old is past the window; the hour-old one stays',
    );
    db.close();
  });

  it('restarts with the clock ahead move the cut nothing (a start has no allowance)', () => {
    const db = openDatabase(`${dir.path}/restarts.db`);
    const store = new TimelineStore(db);
    for (const age of [0, HOUR, DAY, 40 * HOUR]) store.writeTick(makeSample(T - age));
    applyRetention(db, T, policy, 2 * HOUR);
    // 25 starts at +3 days, each with the pass a start makes.
    for (let i = 0; i < 25; i++) assert.equal(applyRetention(db, T + 3 * DAY + i * 300, policy, 0).cutAt, T);
    assert.equal(count(db, 'SELECT count(*) n FROM samples'), 4, 'before, 25 starts in 7 s deleted all four');
    db.close();
  });

  it('minutes after the clock was set back are rolled up, not skipped behind a pointer left in the future', () => {
    const db = openDatabase(`${dir.path}/rollup-back.db`);
    const store = new TimelineStore(db);
    for (let t = T - 10 * MIN; t < T; t += 1000) store.writeTick(makeSample(t));
    applyRetention(db, T, policy, 2 * HOUR);
    // A pass at a clock 3 days ahead leaves the roll-up pointer there.
    applyRetention(db, T + 3 * DAY, policy, 2 * HOUR);
    // The clock is back: 5 more minutes of samples, then the next pass.
    for (let t = T; t < T + 5 * MIN; t += 1000) store.writeTick(makeSample(t));
    applyRetention(db, T + 5 * MIN + 1000, policy, 2 * HOUR);
    const minutes = store.minuteSamples(T, T + 5 * MIN - 1).map((m) => [m.time, m.count]);
    assert.deepEqual(
      minutes,
      [0, 1, 2, 3, 4].map((i) => [T + i * MIN, 60]),
    );
    assert.equal(
      Number(
        (db.prepare("SELECT value FROM meta WHERE key = 'rolled_up_to'").get() as { value: string }).value,
      ),
      T + 5 * MIN,
    );
    db.close();
  });
});
