import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  closeSalvage,
  endSalvage,
  openTimelineDatabase,
  pendingSalvage,
  salvageMessage,
} from '../../src/main/core/store/database-recovery.js';
import { isCorruptionError, isDiskError } from '../../src/main/core/store/database-salvage.js';
import { MIGRATIONS } from '../../src/main/core/store/migrations.js';
import { buildTimeline, damageKey, damagePages, keysWithout, T0 } from '../support/damaged-timeline.js';
import { tempDir } from '../support/temp-dir.js';

// Real SQLite files damaged page by page (whole B-tree leaves overwritten), then opened as the daemon opens
// its timeline: the damaged file is moved aside and its readable rows copied into the new one a slice at a time.

const dir = tempDir('exo-sentinel-salvage-');
after(dir.cleanup);

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

type Db = ReturnType<typeof openTimelineDatabase>['db'];
const keysOf = (db: Db, sql: string): number[][] => db.prepare(sql).raw().all() as number[][];
const SQL = {
  samples: 'SELECT ts FROM samples ORDER BY ts',
  process_samples: 'SELECT ts, pid FROM process_samples ORDER BY ts, pid',
  events: 'SELECT id FROM events ORDER BY id',
} as const;

describe('copying rows out of a damaged timeline', () => {
  it('damaged leaves in three tables: every other row is copied, in slices, and each lost stretch is named by time', () => {
    const built = buildTimeline(`${dir.path}/leaves`, 3000);
    const samplesLeaves = built.leaves['samples']!;
    const procLeaves = built.leaves['process_samples']!;
    const eventLeaves = built.leaves['events']!;
    assert.ok(samplesLeaves.length >= 10 && procLeaves.length >= 30 && eventLeaves.length >= 1);
    const damaged = {
      samples: [samplesLeaves[5]!, samplesLeaves[6]!],
      process_samples: [procLeaves[20]!],
      // The first leaf: the damage is at the table's very start.
      events: [eventLeaves[0]!],
    };
    damagePages(
      built.path,
      built.pageSize,
      Object.values(damaged).flatMap((l) => l.map((x) => x.page)),
    );

    const damagedHash = sha(built.path);
    const opened = openTimelineDatabase(built.path, { now: T0 + 4_000_000 });
    assert.ok(opened.recovered, 'the damage is found');
    assert.match(opened.recovered.advice, /being copied/);
    const movedHash = sha(opened.recovered.movedTo);
    assert.equal(movedHash, damagedHash, 'moved aside as it was: nothing (no migration) wrote to it');
    const pending = pendingSalvage(opened.db);
    assert.ok(pending?.job, pending?.error ?? 'no copy pending');
    let steps = 0;
    while (!pending.job.step(5)) steps++;
    assert.ok(steps >= 2, `the copy took ${steps + 1} slice(s): it runs a slice at a time`);

    for (const table of ['samples', 'process_samples', 'events'] as const) {
      const expected = keysWithout(built.keys[table], damaged[table]);
      const lostRows = damaged[table].reduce((n, l) => n + l.rows + (l.separatorAfter === null ? 0 : 1), 0);
      assert.equal(expected.length, built.keys[table].length - lostRows);
      assert.deepEqual(
        keysOf(opened.db, SQL[table]),
        expected,
        `${table}: exactly the rows off the damaged pages`,
      );
    }
    const s = pending.job.salvage;
    const byTable = Object.fromEntries(s.tables.map((t) => [t.table, t]));
    // Two adjacent damaged leaves are one stretch, bounded by the rows on either side of it.
    const first = samplesLeaves[5]!.firstRow;
    const last = samplesLeaves[6]!.firstRow + samplesLeaves[6]!.rows - 1;
    assert.deepEqual(byTable['samples']!.lost, [
      { after: built.keys.samples[first - 1]![0], before: built.keys.samples[last + 1]![0] },
    ]);
    assert.equal(byTable['samples']!.complete, false);
    assert.equal(byTable['events']!.lost[0]!.after, null, 'lost from the start');
    assert.equal(byTable['meta']!.complete, true);
    assert.equal(
      s.copied,
      (['samples', 'process_samples', 'events'] as const).reduce(
        (n, t) => n + keysWithout(built.keys[t], damaged[t]).length,
        0,
      ) + byTable['meta']!.copied,
    );

    const message = salvageMessage(pending);
    const iso = (ms: number) => new Date(ms).toISOString();
    assert.ok(
      message.includes(
        `samples between ${iso(built.keys.samples[first - 1]![0]!)} and ${iso(built.keys.samples[last + 1]![0]!)}`,
      ),
      message,
    );
    // Events are keyed by id: the times come from the rows copied on either side.
    const firstEventAfter = opened.db.prepare('SELECT min(ts) t FROM events').get() as { t: number };
    assert.ok(message.includes(`events between its start and ${iso(firstEventAfter.t)}`), message);
    assert.match(message, /^\d+ row\(s\) copied out of the damaged timeline .*timeline\.corrupt-/);

    endSalvage(pending);
    assert.equal(pendingSalvage(opened.db), null, 'nothing owed any more');
    assert.equal(sha(opened.recovered.movedTo), movedHash, 'the damaged file is read, never written');
    opened.db.close();
  });

  it('rows committed to the WAL only (a panic before the checkpoint) are copied too', () => {
    const built = buildTimeline(`${dir.path}/wal`, 2000, 120);
    const leaf = built.leaves['samples']![3]!;
    damagePages(built.path, built.pageSize, [leaf.page]);
    const opened = openTimelineDatabase(built.path);
    assert.ok(opened.recovered);
    const pending = pendingSalvage(opened.db)!;
    while (!pending.job!.step(50));
    const got = keysOf(opened.db, SQL.samples);
    assert.deepEqual(got, keysWithout(built.keys.samples, [leaf]));
    assert.equal(got[got.length - 1]![0], T0 + 2119 * 1000, 'the last second in the WAL is there');
    endSalvage(pending);
    opened.db.close();
  });

  it('a restart in the middle: the next start copies the rest and nothing twice', () => {
    const built = buildTimeline(`${dir.path}/restart`, 3000);
    const leaf = built.leaves['process_samples']![10]!;
    damagePages(built.path, built.pageSize, [leaf.page]);
    const first = openTimelineDatabase(built.path);
    const pending = pendingSalvage(first.db)!;
    pending.job!.step(1);
    const partly = keysOf(first.db, SQL.process_samples).length;
    assert.ok(!pending.job!.done, 'stopped part way');
    closeSalvage(pending);
    first.db.close();

    const again = openTimelineDatabase(built.path);
    assert.equal(again.recovered, null, 'the new database is sound');
    const progress = JSON.parse(
      (again.db.prepare("SELECT value FROM meta WHERE key = 'salvage_progress'").get() as { value: string })
        .value,
    ) as { table: string; from: number | null };
    const resumed = pendingSalvage(again.db);
    assert.ok(resumed?.job, 'the copy is still owed');
    while (!resumed.job.step(50));
    assert.equal(
      resumed.job.salvage.tables[0]?.table,
      progress.table,
      `it resumed in the table it was in, not from the start: ${resumed.job.salvage.tables.map((t) => t.table).join(', ')}`,
    );
    assert.notEqual(progress.table, 'meta');
    const got = keysOf(again.db, SQL.process_samples);
    assert.ok(got.length > partly);
    assert.deepEqual(got, keysWithout(built.keys.process_samples, [leaf]));
    assert.deepEqual(keysOf(again.db, SQL.samples), built.keys.samples);
    endSalvage(resumed);
    again.db.close();
  });

  it('a damaged timeline of an older schema: moved aside untouched, its rows copied into the current schema', () => {
    const d = `${dir.path}/older`;
    mkdirSync(d, { recursive: true });
    const path = `${d}/timeline.db`;
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    for (const m of MIGRATIONS.slice(0, 3)) old.exec(m);
    old.pragma('user_version = 3');
    const insert = old.prepare('INSERT INTO samples (ts, mem_total, risk_level) VALUES (?, ?, ?)');
    old.transaction(() => {
      for (let i = 0; i < 3000; i++) insert.run(T0 + i * 1000, 64 * 2 ** 30, i % 4);
    })();
    const leaf = (
      old
        .prepare("SELECT pageno FROM dbstat WHERE name = 'samples' AND pagetype = 'leaf' ORDER BY path")
        .all() as {
        pageno: number;
      }[]
    )[4]!.pageno;
    const pageSize = old.pragma('page_size', { simple: true }) as number;
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    damagePages(path, pageSize, [leaf]);
    const before = sha(path);
    const opened = openTimelineDatabase(path);
    assert.ok(opened.recovered);
    assert.equal(sha(opened.recovered.movedTo), before, 'no migration ran on the damaged file');
    const pending = pendingSalvage(opened.db)!;
    while (!pending.job!.step(50));
    const rows = opened.db
      .prepare('SELECT ts, risk_level, gpu_ceiling_source FROM samples ORDER BY ts')
      .all() as {
      ts: number;
      risk_level: number;
      gpu_ceiling_source: string | null;
    }[];
    assert.ok(rows.length > 2500 && rows.length < 3000, `${rows.length} rows`);
    for (const r of rows) {
      assert.equal(r.risk_level, ((r.ts - T0) / 1000) % 4, 'the columns both schemas have are copied');
      assert.equal(r.gpu_ceiling_source, null, 'a column the old schema lacks is empty');
    }
    endSalvage(pending);
    opened.db.close();
  });

  it('a key changed in place (a flipped bit) a few rows before a damaged page, either way: the copy ends, every other row is copied', () => {
    for (const delta of [-1, 1] as const) {
      const built = buildTimeline(`${dir.path}/key${delta}`, 3000);
      const leaves = built.leaves['samples']!;
      const damaged = leaves[9]!;
      // Five rows before the damaged leaf, on the leaf before it.
      const before = leaves[8]!;
      damageKey(built.path, built.pageSize, before.page, before.rows - 5, delta);
      damagePages(built.path, built.pageSize, [damaged.page]);
      const opened = openTimelineDatabase(built.path);
      const pending = pendingSalvage(opened.db)!;
      let steps = 0;
      while (!pending.job!.step(20) && steps < 1000) steps++;
      assert.ok(pending.job!.done, `delta ${delta}: the copy ended (${steps} slices)`);
      const got = new Set(keysOf(opened.db, SQL.samples).map((k) => k[0]));
      const changed = built.keys.samples[before.firstRow + before.rows - 5]![0]!;
      const missing = keysWithout(built.keys.samples, [damaged]).filter(
        ([k]) => !got.has(k) && k !== changed,
      );
      assert.deepEqual(missing, [], `delta ${delta}: every readable row is copied`);
      endSalvage(pending);
      opened.db.close();
    }
  });

  it('every fourth leaf of a table damaged: every row on the others is copied', () => {
    const built = buildTimeline(`${dir.path}/many`, 4000);
    const leaves = built.leaves['process_samples']!;
    const damaged = leaves.filter((_, i) => i % 4 === 1);
    assert.ok(damaged.length > 40, `${damaged.length} damaged leaves`);
    damagePages(
      built.path,
      built.pageSize,
      damaged.map((l) => l.page),
    );
    const opened = openTimelineDatabase(built.path);
    const pending = pendingSalvage(opened.db)!;
    while (!pending.job!.step(50));
    assert.deepEqual(
      keysOf(opened.db, SQL.process_samples),
      keysWithout(built.keys.process_samples, damaged),
    );
    const t = pending.job!.salvage.tables.find((x) => x.table === 'process_samples')!;
    assert.equal(t.lostRanges, damaged.length);
    assert.equal(t.lost.length, 20, 'the first 20 stretches are listed, all are counted');
    endSalvage(pending);
    opened.db.close();
  });

  it('one second spanning a damaged page and the pages either side of it: the rows after the damage are copied too', () => {
    // 400 processes a second: one second's process rows fill several pages.
    const built = buildTimeline(`${dir.path}/wide-second`, 12, 0, T0, 400);
    const keys = built.keys.process_samples;
    const leaves = built.leaves['process_samples']!;
    const inside = leaves.find(
      (l) =>
        l.firstRow > 0 &&
        l.firstRow + l.rows < keys.length &&
        keys[l.firstRow - 1]![0] === keys[l.firstRow + l.rows + (l.separatorAfter === null ? 0 : 1)]![0],
    );
    assert.ok(inside, 'a leaf inside one second');
    damagePages(built.path, built.pageSize, [inside.page]);
    const opened = openTimelineDatabase(built.path);
    const pending = pendingSalvage(opened.db)!;
    while (!pending.job!.step(50));
    const got = keysOf(opened.db, SQL.process_samples);
    const expected = keysWithout(keys, [inside]);
    // Before, the rest of that second was sought from its first process, found the rows read before the
    // damage and read on from them into it: every row of the second after the damaged page was lost.
    assert.equal(got.length, expected.length, `${expected.length - got.length} readable row(s) lost`);
    assert.deepEqual(got, expected);
    const t = pending.job!.salvage.tables.find((x) => x.table === 'process_samples')!;
    assert.equal(t.lostRanges, 1);
    const second = new Date(keys[inside.firstRow]![0]!).toISOString();
    assert.ok(salvageMessage(pending).includes(`process_samples within ${second}`), salvageMessage(pending));
    endSalvage(pending);
    opened.db.close();
  });

  it('a header whose schema version is damaged (negative, or far past any build): moved aside, every row copied', () => {
    for (const version of [-5, 0x5a5a5a5a]) {
      const built = buildTimeline(`${dir.path}/header${version}`, 1000);
      const fd = openSync(built.path, 'r+');
      const bytes = Buffer.alloc(4);
      bytes.writeInt32BE(version);
      // The header's user_version: 4 bytes, big-endian, at offset 60 of page 1.
      writeSync(fd, bytes, 0, 4, 60);
      closeSync(fd);
      const opened = openTimelineDatabase(built.path);
      assert.ok(opened.recovered, `${version}: not taken for a newer build`);
      assert.match(
        opened.recovered.reason,
        new RegExp(`schema version is ${version}, which no exo-sentinel writes`),
      );
      const pending = pendingSalvage(opened.db)!;
      while (!pending.job!.step(50));
      assert.deepEqual(keysOf(opened.db, SQL.samples), built.keys.samples);
      assert.match(salvageMessage(pending), /every page in it was read/);
      endSalvage(pending);
      opened.db.close();
    }
  });

  it('rows the timeline cannot hold (a NULL where it needs a value) are left out and counted; the copy goes on', () => {
    const d = `${dir.path}/refused`;
    mkdirSync(d, { recursive: true });
    const path = `${d}/timeline.db`;
    // The damaged file's events table lets a kind be NULL (as a damaged record can read); ours does not.
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    for (const m of MIGRATIONS) old.exec(m.replace('kind TEXT NOT NULL', 'kind TEXT'));
    old.pragma(`user_version = ${MIGRATIONS.length}`);
    const sample = old.prepare('INSERT INTO samples (ts, mem_total) VALUES (?, ?)');
    const event = old.prepare("INSERT INTO events (ts, kind, severity, message) VALUES (?, ?, 'info', 'm')");
    old.transaction(() => {
      for (let i = 0; i < 3000; i++) sample.run(T0 + i * 1000, 64 * 2 ** 30);
      for (let i = 0; i < 30; i++) event.run(T0 + i * 1000, i % 10 === 3 ? null : 'test.tick');
    })();
    const leaf = (
      old
        .prepare("SELECT pageno FROM dbstat WHERE name = 'samples' AND pagetype = 'leaf' ORDER BY path")
        .all() as { pageno: number }[]
    )[4]!.pageno;
    const pageSize = old.pragma('page_size', { simple: true }) as number;
    old.pragma('wal_checkpoint(TRUNCATE)');
    old.close();
    damagePages(path, pageSize, [leaf]);
    const opened = openTimelineDatabase(path);
    assert.ok(opened.recovered);
    const pending = pendingSalvage(opened.db)!;
    while (!pending.job!.step(50));
    const events = pending.job!.salvage.tables.find((t) => t.table === 'events')!;
    assert.equal(events.refused, 3);
    assert.equal(events.copied, 27);
    assert.equal((opened.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n, 27);
    assert.ok(keysOf(opened.db, SQL.samples).length > 2500, 'the tables after it were copied too');
    assert.match(
      salvageMessage(pending),
      /rows with values the timeline cannot hold were left out: 3 in events$/,
    );
    endSalvage(pending);
    opened.db.close();
  });

  it('corruption and disk errors are told apart by their codes', () => {
    const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const code of ['SQLITE_CORRUPT', 'SQLITE_CORRUPT_INDEX', 'SQLITE_NOTADB', 'SQLITE_IOERR_CORRUPTFS'])
      assert.ok(isCorruptionError(err(code)), code);
    assert.ok(isCorruptionError(err('SQLITE_ERROR', 'unsupported file format')));
    assert.ok(!isCorruptionError(err('SQLITE_ERROR', 'no such table: x')));
    for (const code of ['SQLITE_FULL', 'ENOSPC', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC'])
      assert.ok(isDiskError(err(code)) && !isCorruptionError(err(code)), code);
    assert.ok(!isDiskError(err('SQLITE_IOERR_CORRUPTFS')));
  });

  it('a damaged first page (the schema): nothing can be read, the reason is given, the new timeline works', () => {
    const built = buildTimeline(`${dir.path}/schema`, 500);
    damagePages(built.path, built.pageSize, [1]);
    const opened = openTimelineDatabase(built.path);
    assert.ok(opened.recovered);
    const pending = pendingSalvage(opened.db)!;
    if (pending.job) while (!pending.job.step(50));
    const message = salvageMessage(pending);
    assert.match(
      message,
      /^no rows could be copied out of the damaged timeline .*: .*(not a database|malformed|schema)/,
      message,
    );
    endSalvage(pending);
    opened.db.prepare('INSERT INTO samples (ts) VALUES (?)').run(T0);
    assert.equal((opened.db.prepare('SELECT count(*) n FROM samples').get() as { n: number }).n, 1);
    opened.db.close();
  });
});
