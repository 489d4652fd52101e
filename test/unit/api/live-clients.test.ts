import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { LiveClients, type LiveStream } from '../../../src/main/core/api/live-clients.js';
import type { ShedReason } from '../../../src/main/core/api/shed-tally.js';
import { ShedTally, shedText } from '../../../src/main/core/api/shed-tally.js';

/** A stream whose queued bytes the test sets: `reading` empties the queue (and says drain) on each write. */
class FakeStream extends EventEmitter implements LiveStream {
  writableLength = 0;
  frames = 0;
  destroyed = false;
  constructor(public reading: boolean) {
    super();
  }
  write(chunk: string): boolean {
    this.frames++;
    if (!this.reading) this.writableLength += chunk.length;
    return this.reading;
  }
  end(): void {
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const LIMITS = { sseMaxClients: 3, sseMaxBuffered: 1000, sseStallMs: 30_000, sseEvictStallMs: 5_000 };

function setup(limits = LIMITS): { live: LiveClients; shed: ShedReason[]; clock: { t: number } } {
  const shed: ShedReason[] = [];
  const clock = { t: 0 };
  return {
    live: new LiveClients(
      limits,
      (r) => shed.push(r),
      () => clock.t,
    ),
    shed,
    clock,
  };
}

describe('live-event clients: dropping the ones that stopped reading', () => {
  it('drops a client whose queued bytes have not drained for the stall limit; a reader is never dropped', () => {
    const { live, shed, clock } = setup();
    const reader = new FakeStream(true);
    const stalled = new FakeStream(false);
    live.add(reader);
    live.add(stalled);
    for (clock.t = 0; clock.t <= 40_000; clock.t += 1000) live.send('x'.repeat(10));
    assert.ok(stalled.destroyed, 'the client that stopped reading was dropped');
    assert.equal(stalled.frames, 31, 'written to until 30 s after its bytes were first seen queued');
    assert.ok(!reader.destroyed);
    assert.equal(reader.frames, 41);
    assert.deepEqual(shed, ['liveClientStalled']);
    assert.equal(live.size, 1);
  });

  it('a drain restarts the clock: a client that catches up within the limit keeps its stream', () => {
    const { live, clock } = setup();
    const slow = new FakeStream(false);
    live.add(slow);
    for (clock.t = 0; clock.t <= 120_000; clock.t += 1000) {
      live.send('x');
      if (clock.t % 20_000 === 0) {
        slow.writableLength = 0;
        slow.emit('drain');
      }
    }
    assert.ok(!slow.destroyed);
  });

  it('drops a client over the buffer limit at once, stalled or not', () => {
    const { live, shed } = setup();
    const s = new FakeStream(false);
    live.add(s);
    live.send('x'.repeat(1001));
    live.send('x');
    assert.ok(s.destroyed);
    assert.deepEqual(shed, ['liveClientOverBuffer']);
  });

  it('at the cap, a newcomer takes the slot of the client stalled longest, only past the evict limit', () => {
    const { live, shed, clock } = setup();
    const reader = new FakeStream(true);
    const older = new FakeStream(false);
    const newer = new FakeStream(false);
    live.add(reader);
    live.add(older);
    live.send('x'); // older is written to; its bytes are seen queued at the next look (t = 2000)
    live.add(newer);
    clock.t = 2000;
    live.send('x'); // newer's bytes are seen queued at the next look (t = 4000)
    clock.t = 4000;
    assert.equal(live.makeRoom(), false, 'nobody stalled 5 s yet: 503');
    clock.t = 7000;
    assert.equal(live.makeRoom(), true);
    assert.ok(older.destroyed && !newer.destroyed && !reader.destroyed);
    assert.equal(live.size, 2);
    assert.deepEqual(shed, ['liveClientRefused', 'liveClientEvicted']);
    assert.deepEqual(live.counts(), { clients: 2, queued: 1 });
  });

  it('at the cap with every client reading, the newcomer is refused', () => {
    const { live, clock } = setup();
    const readers = [new FakeStream(true), new FakeStream(true), new FakeStream(true)];
    for (const r of readers) live.add(r);
    for (clock.t = 0; clock.t < 60_000; clock.t += 1000) live.send('x');
    assert.equal(live.makeRoom(), false);
    assert.ok(readers.every((r) => !r.destroyed));
  });

  it('a closed client leaves; endAll ends every stream', () => {
    const { live } = setup();
    const a = new FakeStream(true);
    const b = new FakeStream(true);
    live.add(a);
    live.add(b);
    a.destroy();
    assert.equal(live.size, 1);
    live.endAll();
    assert.equal(live.size, 0);
  });
});

describe('shed tally: one report per window, however many were shed', () => {
  it('reports the counts of a window once, then nothing until something else is shed', async () => {
    const reports: Array<Record<string, number>> = [];
    const tally = new ShedTally((c) => reports.push(c as Record<string, number>), 30);
    for (let i = 0; i < 5000; i++) tally.count('idleConnectionClosed');
    tally.count('liveClientStalled');
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(reports, [{ idleConnectionClosed: 5000, liveClientStalled: 1 }]);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(reports.length, 1);
    tally.count('connectionRefused');
    tally.flush();
    assert.deepEqual(reports[1], { connectionRefused: 1 });
  });

  it('a report that throws is dropped, and no report is no error', () => {
    const tally = new ShedTally(() => {
      throw new Error('log closed');
    }, 10);
    tally.count('liveClientRefused');
    assert.doesNotThrow(() => tally.flush());
    const silent = new ShedTally(undefined, 10);
    silent.count('liveClientRefused');
    silent.flush();
  });

  it('names each count in words', () => {
    assert.equal(
      shedText({ idleConnectionClosed: 412, liveClientStalled: 2 }, 10_000),
      'API under load, in the last 10 s: 412 idle connections closed to admit new ones; 2 live-event clients dropped for not reading',
    );
  });
});
