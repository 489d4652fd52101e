import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { validateConfig } from '../../../src/main/core/config/config-loader.js';
import { Daemon } from '../../../src/main/core/daemon.js';
import { EventCollector } from '../../../src/main/core/event-collector.js';
import { createProbe } from '../../../src/main/core/probes/create-probe.js';
import { openDatabase } from '../../../src/main/core/store/database.js';
import { corruptName, openTimelineDatabase } from '../../../src/main/core/store/database-recovery.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import { freePort } from '../../support/free-port.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('exo-sentinel-lifecycle-');
after(dir.cleanup);

async function makeDaemon(dataDir: string): Promise<Daemon> {
  const loaded = validateConfig({
    intervalSeconds: 0.2,
    api: { enabled: false },
    guard: { enabled: false },
    exo: { url: `http://127.0.0.1:${await freePort()}` },
    reports: { dirs: [] },
  });
  assert.ok(loaded.ok);
  const events = new EventCollector(() => Date.now());
  return new Daemon({
    dataDir,
    config: loaded.config,
    probe: createProbe(events),
    events,
    logger: pino({ level: 'silent' }),
    reportDirs: [],
  });
}

describe('daemon stop()', () => {
  it('is idempotent: a second call (power shutdown, then quit) gets the same promise and records one stop', async () => {
    const dataDir = `${dir.path}/stop`;
    const d = await makeDaemon(dataDir);
    assert.ok((await d.begin()).ok);
    d.start();
    await new Promise((r) => setTimeout(r, 500));
    const first = d.stop('shutdown');
    const second = d.stop('quit');
    assert.equal(first, second);
    await Promise.all([first, second]);
    await d.stop('again');
    const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
    const stops = new TimelineStore(db).events(0, Date.now() + 1, 'daemon.stopped');
    assert.equal(stops.length, 1);
    assert.match(stops[0]!.message, /stopped \(shutdown\)/);
    db.close();
    assert.deepEqual(
      readdirSync(dataDir).filter((f) => f === 'daemon.pid'),
      [],
      'the lock is released',
    );
  });
});

describe('opening a corrupt timeline', () => {
  it('garbage bytes: moved aside byte for byte under a dated name, a fresh database started', () => {
    const path = `${dir.path}/garbage/timeline.db`;
    openDatabase(path).close();
    const garbage = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 256));
    writeFileSync(path, garbage);
    const now = Date.UTC(2026, 10, 28, 12, 30, 5);
    const { db, recovered } = openTimelineDatabase(path, { now });
    assert.equal(recovered?.movedTo, `${dir.path}/garbage/timeline.corrupt-2026-11-28T12-30-05Z.db`);
    assert.match(recovered!.reason, /not a database/);
    assert.match(recovered!.advice, /sqlite3 ".*timeline\.corrupt-2026-11-28T12-30-05Z\.db" \.recover/);
    assert.ok(readFileSync(recovered!.movedTo).equals(garbage), 'the corrupt file keeps its bytes');
    assert.equal(new TimelineStore(db).sampleCount(), 0);
    assert.equal(db.pragma('quick_check', { simple: true }), 'ok');
    db.close();
    // A second corruption the same second does not overwrite the first one.
    writeFileSync(path, garbage);
    const again = openTimelineDatabase(path, { now });
    assert.equal(again.recovered?.movedTo, `${dir.path}/garbage/timeline.corrupt-2026-11-28T12-30-05Z-1.db`);
    again.db.close();
    assert.equal(corruptName(path, now), `${dir.path}/garbage/timeline.corrupt-2026-11-28T12-30-05Z-2.db`);
  });

  it('a damaged page that only quick_check finds: moved aside too; a healthy database is left alone', () => {
    const path = `${dir.path}/damaged/timeline.db`;
    const db = openDatabase(path);
    const store = new TimelineStore(db);
    db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX filler_v ON filler (v)');
    const ins = db.prepare('INSERT INTO filler (v) VALUES (?)');
    for (let i = 0; i < 3000; i++) ins.run(`value-${i}-${'x'.repeat(40)}`);
    store.setMeta('k', 'v');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const healthy = openTimelineDatabase(path);
    assert.equal(healthy.recovered, null);
    healthy.db.close();
    // Scribble over a page in the middle of the file (not the header): the schema still reads.
    const bytes = readFileSync(path);
    const pageSize = 4096;
    const page = Math.floor(bytes.length / pageSize / 2);
    bytes.fill(0x5a, page * pageSize + 100, page * pageSize + 3000);
    writeFileSync(path, bytes);
    const check = new Database(path, { readonly: true });
    let verdict: unknown;
    try {
      verdict = check.pragma('quick_check', { simple: true });
    } catch (e) {
      verdict = (e as Error).message;
    }
    check.close();
    assert.notEqual(verdict, 'ok', 'the damage is real');
    const { db: fresh, recovered } = openTimelineDatabase(path);
    assert.ok(recovered, 'moved aside');
    assert.ok(readFileSync(recovered.movedTo).equals(bytes));
    assert.equal(fresh.pragma('quick_check', { simple: true }), 'ok');
    fresh.close();
  });
});
