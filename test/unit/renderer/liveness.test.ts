import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Liveness } from '../../../src/renderer/liveness.js';

const time = (t: number): string => `t+${t / 1000}`;

/** A page loaded at 0 with its stream open, fed samples at the given times; the footer asked at `at`. */
function page(samples: number[], at: number[]): Array<boolean> {
  const l = new Liveness(0);
  l.streamChanged({ live: true });
  const out: boolean[] = [];
  const events = [...samples.map((t) => ({ t, s: true })), ...at.map((t) => ({ t, s: false }))].sort(
    (a, b) => a.t - b.t || (a.s ? -1 : 1),
  );
  for (const e of events) {
    if (e.s) l.sampled(e.t);
    else out.push(l.footer(e.t, time).live);
  }
  return out;
}

describe("the dashboard's liveness", () => {
  it('a daemon sampling every 20 s, the page loaded 3 s before a tick: live between every sample (it flapped)', () => {
    const samples = Array.from({ length: 10 }, (_, i) => 3_000 + i * 20_000);
    const looks = Array.from({ length: 40 }, (_, i) => 1_000 + i * 5_000);
    assert.deepEqual(
      page(samples, looks).map((live, i) => (live ? null : looks[i])),
      looks.map(() => null),
    );
  });

  it('stalls are seen at three usual gaps (at least 15 s), the second as soon as the first', () => {
    const l = new Liveness(0);
    l.streamChanged({ live: true });
    for (let t = 0; t <= 5_000; t += 500) l.sampled(t);
    assert.equal(l.isLive(5_000 + 14_000), true);
    assert.equal(l.isLive(5_000 + 15_500), false, 'a 15 s silence at 0.5 s');
    assert.match(
      l.footer(5_000 + 16_000, time).text,
      /^exo-sentinel · not live: no update for 16 s; last live update t\+5/,
    );
    // The stall ends: its own 40 s gap is not the daemon's interval.
    l.sampled(45_000);
    l.sampled(45_500);
    assert.equal(l.isLive(45_500 + 15_500), false, 'the second stall at 15 s too, not 3 × 40 s');
  });

  it('a refused stream is not live at once, with its reason; samples before a reconnection teach no gap', () => {
    const l = new Liveness(0);
    l.streamChanged({ live: true });
    l.sampled(1_000);
    l.streamChanged({ live: false, why: 'the event stream was refused; trying again in 2 s' });
    const f = l.footer(1_500, time);
    assert.equal(f.live, false);
    assert.match(
      f.text,
      /not live: the event stream was refused; trying again in 2 s; last live update t\+1; the status is read every 5 s$/,
    );
    l.polled(2_000);
    assert.match(l.footer(2_500, time).text, /the status is read at t\+2, every 5 s$/);
    // Back 30 s later: the first sample after it measures no gap from the one before the break.
    l.streamChanged({ live: true });
    l.sampled(31_000);
    l.sampled(32_000);
    assert.equal(l.isLive(32_000 + 14_000), true);
    assert.equal(l.isLive(32_000 + 15_500), false);
    assert.equal(l.footer(32_100, time).text, 'exo-sentinel · live');
  });
});
