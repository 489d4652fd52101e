import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_BURST, EVENTS_PER_MINUTE, EventBudget } from '../../../src/main/core/exo/event-budget.js';

describe("EXO's state events written to the timeline, per kind", () => {
  it('a burst passes whole; state flapping every second is written once per 10 s and said once a minute', () => {
    const b = new EventBudget();
    const t0 = 1_000_000;
    let written = 0;
    for (let i = 0; i < EVENT_BURST; i++) if (b.admit('exo.instance-added', t0)) written++;
    assert.equal(written, EVENT_BURST, 'a model load on a large cluster is kept whole');
    // Then one a second for ten minutes.
    written = 0;
    const said: Array<{ kind: string; dropped: number }> = [];
    for (let s = 1; s <= 600; s++) {
      const now = t0 + s * 1000;
      if (b.admit('exo.instance-added', now)) written++;
      for (const u of b.unwritten(now)) said.push({ kind: u.kind, dropped: u.dropped });
    }
    assert.ok(Math.abs(written - 10 * EVENTS_PER_MINUTE) <= 1, `${written} written in 10 minutes`);
    assert.ok(said.length >= 9 && said.length <= 10, `${said.length} summaries`);
    assert.ok(said.every((u) => u.kind === 'exo.instance-added' && u.dropped >= 50));
    // Every event is either written or counted in a summary (the last minute's is said a minute later).
    for (const u of b.unwritten(t0 + 660_000)) said.push({ kind: u.kind, dropped: u.dropped });
    assert.equal(written + said.reduce((n, u) => n + u.dropped, 0), 600);
  });

  it('kinds have their own budget, and a quiet kind is never summarised', () => {
    const b = new EventBudget(2, 6);
    assert.equal(b.admit('a', 0), true);
    assert.equal(b.admit('a', 0), true);
    assert.equal(b.admit('a', 0), false);
    assert.equal(b.admit('b', 0), true, 'another kind is not held by the first');
    assert.deepEqual(b.unwritten(59_999), []);
    assert.deepEqual(b.unwritten(60_000), [{ kind: 'a', dropped: 1, since: 0 }]);
    assert.deepEqual(b.unwritten(120_000), [], 'said once');
    // Refilled at 6 a minute: one more after 10 s.
    assert.equal(b.admit('a', 130_000), true);
  });
});
