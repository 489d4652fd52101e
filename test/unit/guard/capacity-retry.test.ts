import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Capacity } from '../../../src/main/core/guard/capacity.js';

describe('Retry-After for a full serialise queue', () => {
  it('is at least the time the running request has already taken, per request ahead', () => {
    let now = 0;
    const c = new Capacity(
      () => 120_000,
      () => now,
    );
    // The last requests were short (150 ms each)...
    for (let i = 0; i < 5; i++) {
      const f = c.start(null, false);
      now += 150;
      c.finish(f, true, 'serialise');
    }
    // ...but the one running now has streamed for 10 s, with 16 waiting behind it.
    c.start(null, false);
    now += 10_000;
    const waiting = new AbortController();
    for (let i = 0; i < 16; i++) void c.wait(waiting.signal, `client-${i}`);
    assert.equal(c.queued, 16);
    const retries = Array.from({ length: 50 }, () => c.retryAfter('queue-full', 30));
    // 17 requests of at least 10 s, capped at 4 × 30 s, jittered ±20 %: was 3 s (17 × 150 ms).
    assert.ok(
      Math.min(...retries) >= 96 && Math.max(...retries) <= 144,
      `${Math.min(...retries)}..${Math.max(...retries)}`,
    );
    // Nothing long running: the recent holds decide, as before.
    const d = new Capacity(
      () => 120_000,
      () => now,
    );
    const f = d.start(null, false);
    now += 2_000;
    d.finish(f, true, 'serialise');
    const quick = d.retryAfter('queue-full', 30);
    assert.ok(quick >= 1 && quick <= 3, String(quick));
    waiting.abort();
  });
});
