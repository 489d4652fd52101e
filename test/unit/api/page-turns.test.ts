import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventsPage, STEPS_PER_TURN, timelineJson } from '../../../src/main/core/api/bounded-queries.js';
import type { TimelineStore } from '../../../src/main/core/store/timeline-store.js';

const busy = (ms: number): void => {
  const t = performance.now();
  while (performance.now() - t < ms);
};

/** A store whose every step costs 1 ms of CPU and never runs out of rows. */
const store = {
  samplePage: (from: number, _to: number, n: number) => {
    busy(1);
    return { rows: Array.from({ length: n }, (_, i) => ({ ts: from + i })), next: from + n };
  },
  minutePage: (from: number, _to: number, n: number) => {
    busy(1);
    return { rows: Array.from({ length: n }, (_, i) => ({ minute: from + i })), next: from + n };
  },
  eventIdRange: () => ({ min: 1, max: 50_000 }),
  eventPage: () => {
    busy(1);
    return { events: [] };
  },
} as unknown as TimelineStore;

/** The longest a 5 ms interval was late while `work` ran. */
async function lateness(work: () => Promise<unknown>): Promise<number> {
  let max = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - 5);
    last = now;
  }, 5);
  await work();
  clearInterval(timer);
  return max;
}

describe('pages read by many clients at once share the event loop', () => {
  it(`200 timelines read at once take at most ${STEPS_PER_TURN} steps per turn`, async () => {
    const read = async (): Promise<number> => {
      let bytes = 0;
      for await (const piece of timelineJson(store, { from: 0, to: 1e12, resolution: 'raw' }))
        bytes += piece.length;
      return bytes;
    };
    const late = await lateness(() => Promise.all(Array.from({ length: 200 }, read)));
    // 200 × 18 steps of 1 ms: every step in one turn held the loop ~200 ms at a time.
    assert.ok(late < 60, `the loop was held ${late.toFixed(0)} ms`);
  });

  it('200 event pages over a table where the kind matches nothing', async () => {
    const page = () => eventsPage(store, { from: 0, to: 1e12, kind: 'nothing.' });
    // Five windows of ids each, none matching: 1000 steps.
    const late = await lateness(() => Promise.all(Array.from({ length: 200 }, page)));
    assert.ok(late < 60, `the loop was held ${late.toFixed(0)} ms`);
  });
});
