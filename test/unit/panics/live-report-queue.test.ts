import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIVE_QUEUE_MAX, LiveReportQueue } from '../../../src/main/core/panics/live-report-queue.js';

/** A read that waits until the test lets it end, counting how many run at once. */
function gatedReads() {
  const order: string[] = [];
  let running = 0;
  let most = 0;
  const gates: Array<() => void> = [];
  const read = async (path: string): Promise<void> => {
    running++;
    most = Math.max(most, running);
    order.push(path);
    await new Promise<void>((r) => gates.push(r));
    running--;
  };
  const releaseAll = async (): Promise<void> => {
    while (gates.length || running) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { read, order, most: () => most, releaseAll };
}

/** Pacing off: the gated reads above decide when each read ends. */
const NO_TURNS = 1e9;

describe('files the directory watch reports, read one at a time with a bound', () => {
  it('reads one at a time, in the order reported, each waiting file once', async () => {
    const g = gatedReads();
    const q = new LiveReportQueue(
      g.read,
      () => assert.fail('no overflow'),
      (_p, _d, e) => assert.fail(String(e)),
      LIVE_QUEUE_MAX,
      NO_TURNS,
    );
    for (let i = 0; i < 50; i++) q.push(`f${i}`, 'd');
    for (let i = 0; i < 50; i++) q.push(`f${i}`, 'd');
    await g.releaseAll();
    assert.equal(g.most(), 1);
    // f0 was being read when it was reported again: read once more (the ledger then knows it); the
    // others were still waiting and are read once.
    assert.deepEqual(g.order, [...Array.from({ length: 50 }, (_, i) => `f${i}`), 'f0']);
  });

  it('past the bound it keeps no more and asks for one scan per flood', async () => {
    const g = gatedReads();
    let scans = 0;
    const q = new LiveReportQueue(
      g.read,
      () => scans++,
      () => undefined,
      5,
      NO_TURNS,
    );
    for (let i = 0; i < 10_000; i++) q.push(`f${i}`, 'd');
    assert.equal(q.size, 5, 'f0 is being read, f1..f5 wait');
    assert.equal(q.dropped, 10_000 - 6);
    assert.equal(scans, 1);
    await g.releaseAll();
    assert.deepEqual(g.order, ['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    // Files were dropped after the scan was asked for (it may have listed the directory before they came):
    // one more scan once the queue emptied.
    assert.equal(scans, 2);
    // The queue emptied: a second flood asks for a scan again, and one more after it (drops followed).
    for (let i = 0; i < 20; i++) q.push(`g${i}`, 'd');
    assert.equal(scans, 3);
    await g.releaseAll();
    assert.equal(scans, 4);
    // A flood whose only drop is the one that asked for the scan needs no second scan.
    for (let i = 0; i < 7; i++) q.push(`h${i}`, 'd');
    assert.equal(scans, 5);
    await g.releaseAll();
    assert.equal(scans, 5);
    await g.releaseAll();
  });

  it('a read that fails is reported and the next one still runs', async () => {
    const errors: string[] = [];
    const done: string[] = [];
    const q = new LiveReportQueue(
      async (p) => {
        if (p === 'bad') throw new Error('EACCES');
        done.push(p);
      },
      () => undefined,
      (p, _d, e) => errors.push(`${p}: ${(e as Error).message}`),
    );
    q.push('bad', 'd');
    q.push('good', 'd');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(errors, ['bad: EACCES']);
    assert.deepEqual(done, ['good']);
  });

  it('close forgets the waiting files, takes no more, and waits for the read in progress', async () => {
    const g = gatedReads();
    const q = new LiveReportQueue(
      g.read,
      () => undefined,
      () => undefined,
    );
    q.push('a', 'd');
    q.push('b', 'd');
    let closed = false;
    const closing = q.close().then(() => {
      closed = true;
    });
    q.push('c', 'd');
    await new Promise((r) => setImmediate(r));
    assert.equal(closed, false, 'a is still being read');
    await g.releaseAll();
    await closing;
    assert.deepEqual(g.order, ['a']);
    assert.equal(q.size, 0);
  });

  it('reads that end at once still give the event loop a turn every slice', async () => {
    let read = 0;
    let timerAt = -1;
    const q = new LiveReportQueue(
      async () => {
        read++;
        const until = performance.now() + 0.2;
        while (performance.now() < until);
      },
      () => undefined,
      () => undefined,
      LIVE_QUEUE_MAX,
      5,
    );
    setTimeout(() => {
      timerAt = read;
    }, 0);
    for (let i = 0; i < 500; i++) q.push(`f${i}`, 'd');
    while (read < 500) await new Promise((r) => setTimeout(r, 5));
    // 500 reads of 0.2 ms take 100 ms; the timer ran after the first slice, not after them all.
    assert.ok(timerAt > 0 && timerAt < 100, `the timer ran after ${timerAt} reads`);
  });
});
