import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import {
  type DatabaseConstructor,
  openDatabase,
  schemaVersion,
} from '../../../src/main/core/store/database.js';
import { MIGRATIONS } from '../../../src/main/core/store/migrations.js';
import { applyRetention } from '../../../src/main/core/store/retention.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import { makeSample } from '../../support/sample-factory.js';
import { tempDir } from '../../support/temp-dir.js';

const Driver = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
const dir = tempDir();
after(dir.cleanup);

describe('migration 6: where each tick’s Metal ceiling came from', () => {
  it('adds the column to a schema-5 database (old rows: null), stores and reads back every source by name', () => {
    const path = `${dir.path}/v5.db`;
    const old = new Driver(path);
    for (const m of MIGRATIONS.slice(0, 5)) old.exec(m);
    old.pragma('user_version = 5');
    old.prepare('INSERT INTO samples (ts, gpu_ceiling) VALUES (?, ?)').run(0, 96 * 1024 ** 3);
    old.close();

    const db = openDatabase(path);
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    const store = new TimelineStore(db);
    assert.equal(store.samples(0, 1)[0]!.gpu.ceilingSource, null, 'not recorded then: null');
    const sources = [
      'metal',
      'wired-limit-sysctl',
      'config',
      'mlx-python',
      'exo-python',
      'estimate',
      null,
    ] as const;
    sources.forEach((source, i) => {
      const s = makeSample(1000 * (i + 1));
      store.writeTick({ ...s, gpu: { ...s.gpu, ceilingSource: source } });
    });
    assert.deepEqual(
      store.samples(1000, 8000).map((s) => s.gpu.ceilingSource),
      [...sources],
    );
    // A value this version does not know (a newer writer) reads as null, not as a string the types do not allow.
    db.prepare("UPDATE samples SET gpu_ceiling_source = 'quantum' WHERE ts = 1000").run();
    assert.equal(store.samples(1000, 1001)[0]!.gpu.ceilingSource, null);
    db.close();
  });
});

describe('migration 7: the ceiling’s source in the per-minute roll-up', () => {
  it('fills old minutes from the raw rows left, and rolls new minutes up with the source of their last tick', () => {
    const MIN = 60_000;
    const path = `${dir.path}/v6.db`;
    const old = new Driver(path);
    for (const m of MIGRATIONS.slice(0, 6)) old.exec(m);
    old.pragma('user_version = 6');
    // A minute rolled up before schema 7, its raw rows still there: estimate, then the Metal figure.
    old
      .prepare('INSERT INTO samples (ts, gpu_ceiling, gpu_ceiling_source) VALUES (?, ?, ?)')
      .run(0, 1, 'estimate');
    old
      .prepare('INSERT INTO samples (ts, gpu_ceiling, gpu_ceiling_source) VALUES (?, ?, ?)')
      .run(59_000, 2, 'metal');
    old.prepare('INSERT INTO samples_minute (ts, n) VALUES (?, ?)').run(0, 2);
    // And one whose raw rows are gone.
    old.prepare('INSERT INTO samples_minute (ts, n) VALUES (?, ?)').run(-MIN, 60);
    old.close();

    const db = openDatabase(path);
    assert.equal(schemaVersion(db), 7);
    const store = new TimelineStore(db);
    const read = (): Array<string | null> =>
      store.minutePage(-MIN, 10 * MIN, 100).rows.map((m) => m.ceilingSource);
    assert.deepEqual(read(), [null, 'metal']);
    // A new minute rolled up by retention: the source of its last tick.
    for (const [t, source] of [
      [MIN + 1000, 'metal'],
      [MIN + 30_000, 'metal'],
      [MIN + 59_000, 'estimate'],
    ] as const) {
      const s = makeSample(t);
      store.writeTick({ ...s, gpu: { ...s.gpu, ceilingSource: source } });
    }
    applyRetention(db, 3 * MIN);
    assert.deepEqual(read(), [null, 'metal', 'estimate']);
    db.close();
  });
});
