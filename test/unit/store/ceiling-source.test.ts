import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import {
  type DatabaseConstructor,
  openDatabase,
  schemaVersion,
} from '../../../src/main/core/store/database.js';
import { MIGRATIONS } from '../../../src/main/core/store/migrations.js';
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
    assert.equal(schemaVersion(db), 6);
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
