import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../../../src/main/core/store/database.js';
import {
  BUFFER_BYTES,
  type PendingTick,
  TickWriter,
  tickBytes,
} from '../../../src/main/core/store/tick-writer.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import {
  BoundedBuffer,
  describeStorageError,
  StorageHealth,
} from '../../../src/main/core/store/write-buffer.js';
import { makeSample } from '../../support/sample-factory.js';

const tick = (time: number, events = 1): PendingTick => ({
  time,
  sample: makeSample(time),
  events: Array.from({ length: events }, (_, i) => ({
    time,
    kind: 'test.event',
    severity: 'info' as const,
    message: `event ${i} at ${time}`,
  })),
  watched: [],
  exits: [],
});

describe('bounded buffer', () => {
  it('keeps the newest `capacity` entries in order, drops the oldest and counts them', () => {
    const b = new BoundedBuffer<number>(5);
    for (let i = 1; i <= 12; i++) b.push(i);
    assert.deepEqual(b.peek(), [8, 9, 10, 11, 12]);
    assert.equal(b.size, 5);
    assert.equal(b.dropped, 7);
    b.shift(2);
    assert.deepEqual(b.peek(), [10, 11, 12]);
    assert.equal(b.dropped, 7, 'written entries are not dropped ones');
    assert.throws(() => new BoundedBuffer(0), /capacity must be ≥ 1, got 0/);
  });

  it('bounded in bytes too: the oldest go while the rest weigh more than the limit; the newest always stays', () => {
    const b = new BoundedBuffer<number>(100, 1000, (n) => n);
    for (const n of [300, 300, 300, 300]) b.push(n);
    assert.deepEqual(b.peek(), [300, 300, 300]);
    assert.equal(b.bytes, 900);
    assert.equal(b.dropped, 1);
    b.push(5000);
    assert.deepEqual(b.peek(), [5000], 'heavier than the limit alone: kept, the rest dropped');
    b.shift(1);
    assert.equal(b.bytes, 0);
  });

  it('ticks held while the disk is full weigh their events: 600 ticks of 100 KB events stay within BUFFER_BYTES', () => {
    const b = new BoundedBuffer<PendingTick>(600, BUFFER_BYTES, tickBytes);
    for (let i = 0; i < 600; i++) {
      const t = tick(i * 1000, 1);
      t.events[0]!.data = { argv: ['x'.repeat(100_000)] };
      b.push(t);
    }
    assert.ok(b.bytes <= BUFFER_BYTES, `${b.bytes} bytes held`);
    assert.ok(b.size < 600 && b.size > 50, `${b.size} ticks held`);
    assert.equal(b.dropped, 600 - b.size);
  });

  it('storage health: the first failure and a changed cause are news, repeats are not; success ends it', () => {
    const h = new StorageHealth('/data/timeline.db');
    assert.equal(
      h.failed({ code: 'SQLITE_FULL', message: 'database or disk is full' }, 1000),
      'no space left on device at /data/timeline.db',
    );
    assert.equal(h.failed({ code: 'SQLITE_FULL' }, 2000), null);
    assert.equal(
      h.failed({ code: 'SQLITE_READONLY', message: 'attempt to write a readonly database' }, 3000),
      'read-only file system at /data/timeline.db',
    );
    assert.deepEqual(h.status(4, 1), {
      state: 'failing',
      message: 'read-only file system at /data/timeline.db',
      path: '/data/timeline.db',
      buffered: 4,
      dropped: 1,
      since: 1000,
      notes: [],
    });
    assert.equal(h.succeeded(7000), 6000);
    assert.equal(h.succeeded(8000), null);
    assert.equal(h.status(0, 1).state, 'ok');
    assert.equal(describeStorageError({ code: 'ENOSPC' }, '/x'), 'no space left on device at /x');
    assert.equal(
      describeStorageError({ code: 'SQLITE_IOERR_WRITE', message: 'disk I/O error' }, '/x'),
      'I/O error writing /x: disk I/O error',
    );
  });
});

describe('tick writer against a real SQLite database that fills up (max_page_count)', () => {
  it('buffers ticks while writes fail, writes them oldest first when they succeed, drops beyond capacity and says how many', () => {
    const db = openDatabase(':memory:');
    const store = new TimelineStore(db);
    const writer = new TickWriter(db, store, '/data/timeline.db', 20);
    assert.deepEqual(writer.write(tick(1000), 1000), { stored: true, flushed: 0, recoveredAfterMs: null });
    // The database may not grow any more: the next insert that needs a page fails with SQLITE_FULL.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    let t = 2000;
    let first: string | null = null;
    let failures = 0;
    for (let i = 0; i < 30; i++, t += 1000) {
      const out = writer.write(tick(t, 20), t);
      if (!out.stored) {
        failures++;
        if (out.newFailure) first ??= out.newFailure;
      }
    }
    assert.ok(failures >= 25, `writes failed: ${failures} of 30`);
    assert.equal(first, 'no space left on device at /data/timeline.db');
    const status = writer.status();
    assert.equal(status.state, 'failing');
    assert.equal(status.buffered, 20, 'bounded at capacity');
    assert.equal(status.dropped, failures - 20);
    const storedBefore = store.sampleCount();
    // Space returns.
    db.pragma('max_page_count = 1000000');
    const out = writer.write(tick(t), t);
    assert.equal(out.stored, true);
    assert.ok(out.stored && out.flushed === 20 && out.recoveredAfterMs !== null);
    assert.equal(store.sampleCount(), storedBefore + 21);
    // The 20 newest failed ticks are there, in order, each with its 20 events; the older ones were dropped.
    const times = store.samples(0, t + 1).map((s) => s.time);
    const expected = [
      ...Array.from({ length: storedBefore }, (_, i) => times[i]),
      ...Array.from({ length: 20 }, (_, i) => t - 20_000 + i * 1000),
      t,
    ];
    assert.deepEqual(times, expected);
    assert.equal(store.events(t - 20_000, t - 1).length, 20 * 20);
    assert.deepEqual(writer.status(), { ...writer.status(), state: 'ok', buffered: 0, message: null });
    db.close();
  });

  it('detached (no writable database at start): every tick is buffered, then flushed into the database that opens', () => {
    const mem = openDatabase(':memory:');
    const writer = new TickWriter(mem, new TimelineStore(mem), '/ro/timeline.db', 50, {
      code: 'SQLITE_CANTOPEN',
      message: 'unable to open database file',
    });
    assert.equal(writer.detachedFailure(1), 'cannot write /ro/timeline.db: unable to open database file');
    for (let i = 1; i <= 7; i++) assert.equal(writer.write(tick(i * 1000), i * 1000).stored, false);
    assert.equal(new TimelineStore(mem).sampleCount(), 0, 'nothing goes to the stand-in database');
    const real = openDatabase(':memory:');
    const realStore = new TimelineStore(real);
    assert.equal(writer.flushInto(real, realStore), 7);
    assert.deepEqual(
      realStore.samples(0, 10_000).map((s) => s.time),
      [1000, 2000, 3000, 4000, 5000, 6000, 7000],
    );
    assert.equal(writer.buffer.size, 0);
    // In-process (no restart): later ticks go straight into the database that opened.
    writer.attach(real, realStore, 8000);
    assert.equal(writer.isDetached, false);
    assert.deepEqual(writer.write(tick(8000), 8000), { stored: true, flushed: 0, recoveredAfterMs: null });
    assert.equal(realStore.sampleCount(), 8);
    assert.equal(writer.status().state, 'ok');
  });
});
