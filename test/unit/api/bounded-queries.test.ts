import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  eventsPage,
  PAGE_LIMITS,
  pickResolution,
  timelineJson,
  timelinePage,
} from '../../../src/main/core/api/bounded-queries.js';
import { openDatabase } from '../../../src/main/core/store/database.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import { RAW_LIMIT_MS } from '../../../src/shared/api-contracts.js';
import { makeSample } from '../../support/sample-factory.js';

function storeWithEvents(kinds: (i: number) => string, n: number): TimelineStore {
  const store = new TimelineStore(openDatabase(':memory:'));
  store.db.transaction(() => {
    for (let i = 0; i < n; i++)
      store.writeEvent({ time: 1_000_000 + i, kind: kinds(i), severity: 'info', message: `e${i}` });
  })();
  return store;
}

describe('bounded pages', () => {
  it('picks raw up to the raw window, minutes beyond, unless asked', () => {
    assert.equal(pickResolution(0, RAW_LIMIT_MS), 'raw');
    assert.equal(pickResolution(0, RAW_LIMIT_MS + 1), 'minute');
    assert.equal(pickResolution(0, 10 * RAW_LIMIT_MS, 'raw'), 'raw');
    assert.equal(pickResolution(0, 1000, 'minute'), 'minute');
  });

  it('events: newest first across id windows; a sparse kind is found past empty windows; pages join exactly', async () => {
    // 25 000 events: one `panic.detected` every 7 000, so some 10 000-id windows hold none.
    const store = storeWithEvents((i) => (i % 7000 === 6999 ? 'panic.detected' : 'guard.request'), 25_000);
    const panics = await eventsPage(store, { from: 0, to: 2_000_000, kind: 'panic.', limit: 2 });
    assert.deepEqual(
      panics.events.map((e) => e.message),
      ['e20999', 'e13999'],
    );
    assert.equal(panics.truncated, true);
    const rest = await eventsPage(store, { from: 0, to: 2_000_000, kind: 'panic.', before: panics.next! });
    assert.deepEqual(
      rest.events.map((e) => e.message),
      ['e6999'],
    );
    assert.deepEqual([rest.truncated, rest.next], [false, null]);

    // Every guard.request once, in order, over pages of the cap.
    const seen: number[] = [];
    let before: number | undefined;
    for (;;) {
      const p = await eventsPage(store, { from: 0, to: 2_000_000, kind: 'guard.request', before });
      assert.ok(p.events.length <= PAGE_LIMITS.events);
      seen.push(...p.events.map((e) => e.id!));
      if (!p.truncated) break;
      before = p.next!;
    }
    assert.equal(seen.length, 25_000 - 3);
    assert.ok(seen.every((id, i) => i === 0 || id < seen[i - 1]!));
    // Exactly the cap left: not truncated, no cursor.
    const exact = await eventsPage(store, { from: 0, to: 2_000_000, before: 1001 });
    assert.deepEqual([exact.events.length, exact.truncated, exact.next], [1000, false, null]);
    // A time range and a kind that match nothing.
    assert.deepEqual(await eventsPage(store, { from: 0, to: 10, kind: 'nothing.' }), {
      events: [],
      truncated: false,
      next: null,
    });
    assert.deepEqual(await eventsPage(new TimelineStore(openDatabase(':memory:')), { from: 0, to: 1 }), {
      events: [],
      truncated: false,
      next: null,
    });
  });

  it('timeline: the streamed JSON is the same page as the object; limit caps and next continues', async () => {
    const store = new TimelineStore(openDatabase(':memory:'));
    for (let i = 0; i < 250; i++) store.writeTick(makeSample(1_000_000 + i * 1000));
    const q = { from: 0, to: 2_000_000, resolution: 'raw' as const, limit: 240 };
    const page = await timelinePage(store, q);
    let text = '';
    for await (const piece of timelineJson(store, q)) text += piece;
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(page)));
    assert.equal(page.samples!.length, 240);
    assert.equal(page.truncated, true);
    assert.equal(page.next, 1_000_000 + 240 * 1000);
    assert.equal(page.samples![239]!.processes.length, 2);
    const rest = await timelinePage(store, { ...q, from: page.next! });
    assert.deepEqual([rest.samples!.length, rest.truncated, rest.next], [10, false, null]);
    const over = await timelinePage(store, { ...q, limit: 1_000_000 });
    assert.equal(over.limit, PAGE_LIMITS.rawRows, 'a limit over the cap is the cap');
    let empty = '';
    for await (const piece of timelineJson(store, { from: 0, to: 10, resolution: 'minute' })) empty += piece;
    assert.deepEqual(JSON.parse(empty), {
      from: 0,
      to: 10,
      resolution: 'minute',
      limit: PAGE_LIMITS.minuteRows,
      minutes: [],
      truncated: false,
      next: null,
    });
  });
});
