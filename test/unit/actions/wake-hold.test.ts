import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ActionConfigSchema } from '../../../src/main/core/actions/action-config.js';
import {
  inferSleep,
  sleepNotice,
  wakeHoldActive,
  wakeHoldReason,
  wakeHoldRemaining,
  wakeNotice,
  withWakeHold,
} from '../../../src/main/core/actions/wake-hold.js';
import { modeReason, wakeHoldRetryAfter } from '../../../src/main/core/guard/admission.js';
import { replay } from '../../../src/main/core/risk/replay/replay-engine.js';
import { parseScenario } from '../../../src/main/core/risk/replay/scenario-loader.js';
import { RiskThresholdsSchema } from '../../../src/main/core/risk/risk-thresholds.js';
import type { GuardMode } from '../../../src/shared/risk.js';

const T = Date.parse('2026-11-28T08:00:00Z');
const MODES: GuardMode[] = ['open', 'serialise', 'refuse-new', 'cancel-newest'];

describe('the sleep/wake hold', () => {
  it('holds from the sleep notice, through the sleep, until N seconds after the wake', () => {
    const asleep = sleepNotice(T);
    assert.equal(wakeHoldActive(asleep, T), true);
    assert.equal(wakeHoldActive(asleep, T + 8 * 3_600_000), true, 'asleep: held whatever the time');
    assert.equal(wakeHoldRemaining(asleep, T + 1000), null, 'no end known while asleep');
    const woke = wakeNotice(asleep, T + 3_600_000, 120, 'power-event');
    assert.deepEqual(woke, {
      since: T,
      wokeAt: T + 3_600_000,
      until: T + 3_600_000 + 120_000,
      via: 'power-event',
    });
    assert.equal(wakeHoldActive(woke, T + 3_600_000 + 119_999), true);
    assert.equal(wakeHoldActive(woke, T + 3_600_000 + 120_000), false);
    assert.equal(wakeHoldRemaining(woke, T + 3_600_000 + 500), 120);
    assert.equal(wakeHoldRemaining(woke, T + 3_600_000 + 119_500), 1);
    // A wake with no sleep notice (headless, inferred) holds from the wake, since the last tick before it.
    const inferred = wakeNotice(null, T + 60_000, 30, 'clock-gap', T);
    assert.deepEqual(inferred, { since: T, wokeAt: T + 60_000, until: T + 90_000, via: 'clock-gap' });
    assert.equal(wakeHoldActive(null, T), false);
  });

  it('refuses new requests while it holds; a stricter mode stays; observe never holds back', () => {
    const h = wakeNotice(null, T, 60, 'power-event');
    for (const m of MODES) {
      const d = withWakeHold({ mode: m, modeSource: 'level' as const }, h, T + 1000, 'protect');
      if (m === 'open' || m === 'serialise')
        assert.deepEqual(d, { mode: 'refuse-new', modeSource: 'wake-hold' }, m);
      else assert.deepEqual(d, { mode: m, modeSource: 'level' }, `${m} is already as strict`);
      assert.deepEqual(withWakeHold({ mode: m, modeSource: 'level' as const }, h, T + 1000, 'observe'), {
        mode: m,
        modeSource: 'level',
      });
      assert.deepEqual(
        withWakeHold({ mode: m, modeSource: 'profile' as const }, h, T + 61_000, 'balanced'),
        {
          mode: m,
          modeSource: 'profile',
        },
        'after the hold the decided mode is back',
      );
    }
  });

  it('infers a sleep from the wall clock jumping past the monotonic one, never from a stall or a clock set back', () => {
    const prev = { wall: T, mono: 1000 };
    assert.deepEqual(inferSleep(prev, { wall: T + 3_600_000, mono: 2000 }, 1000), { sleptMs: 3_599_000 });
    assert.equal(inferSleep(prev, { wall: T + 2500, mono: 1000 + 1000 }, 1000), null, 'under 3 s');
    assert.equal(
      inferSleep(prev, { wall: T + 60_000, mono: 61_000 }, 1000),
      null,
      'a stall: both clocks moved',
    );
    assert.equal(inferSleep(prev, { wall: T - 3_600_000, mono: 2000 }, 1000), null, 'set back');
    assert.equal(
      inferSleep(prev, { wall: T + 20_000, mono: 2000 }, 10_000),
      null,
      'under 3 × a 10 s interval',
    );
    fc.assert(
      fc.property(
        fc.integer({ min: -1e7, max: 1e7 }),
        fc.integer({ min: 0, max: 1e7 }),
        fc.integer({ min: 100, max: 60_000 }),
        (dw, dm, iv) => {
          const r = inferSleep(prev, { wall: T + dw, mono: 1000 + dm }, iv);
          if (r) {
            assert.ok(dw > Math.max(3000, 3 * iv) && dw - dm > Math.max(3000, 3 * iv));
            assert.equal(r.sleptMs, dw - dm);
          } else assert.ok(dw <= Math.max(3000, 3 * iv) || dw - dm <= Math.max(3000, 3 * iv));
        },
      ),
    );
  });

  it('the refusal says why and when it ends; Retry-After is the time left, never less', () => {
    const h = wakeNotice(null, T, 120, 'clock-gap', T - 3_600_000);
    const reason = wakeHoldReason(h, 120);
    assert.match(reason, /slept \(seen from a clock gap\) and woke at 2026-11-28T08:00:00\.000Z/);
    assert.match(reason, /wait until 2026-11-28T08:02:00\.000Z \(guard\.wakeHoldSeconds 120.*omlx#978/);
    assert.match(wakeHoldReason(sleepNotice(T), 120), /sleeps since .*until 120 s after the wake/);
    const view = { reason, until: h.until };
    assert.equal(
      modeReason({ mode: 'refuse-new', modeSource: 'wake-hold', level: 'ok', hold: null, wakeHold: view }),
      `sleep/wake hold: ${reason}`,
    );
    for (let i = 0; i < 50; i++) {
      const r = wakeHoldRetryAfter(view, T + 30_000, 30);
      assert.ok(r >= 90 && r <= 108, `Retry-After ${r} is the 90 s left plus up to 20 %`);
    }
    assert.equal(
      wakeHoldRetryAfter(view, T + 119_900, 30, () => 0),
      1,
    );
    const asleep = wakeHoldRetryAfter({ reason, until: null }, T, 30, () => 0.5);
    assert.equal(asleep, 30, 'asleep: the base Retry-After');
  });

  it('replay applies it as the daemon does: refuse-new for guard.wakeHoldSeconds after a wake, levels unchanged', () => {
    // A Mac with little wired memory and no wired limit: the wake trigger does not count, the level stays ok.
    const scenario = {
      name: 'wake-hold-replay',
      kind: 'healthy',
      description: 'idle, a night asleep, idle again',
      source: { refs: ['test'], known: [], assumed: ['everything'] },
      machine: { chip: 'Apple M4 Max', ramGiB: 128, ceilingGiB: 96, swapTotalGiB: 2 },
      segments: [
        { name: 'idle', duration: '5m', memory: { wiredGiB: 8, gpuInUseGiB: 1, freePercent: 70 } },
        { name: 'asleep', duration: '1h', sleep: true },
        { name: 'awake', duration: '10m' },
      ],
    };
    const run = (wakeHoldSeconds: number, guardProfile: 'protect' | 'observe' = 'protect') => {
      const loaded = parseScenario(JSON.stringify(scenario), 'wake-hold-replay.json');
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
      return replay(loaded.source, {
        risk: RiskThresholdsSchema.parse({}),
        actions: ActionConfigSchema.parse({ guardProfile }),
        guard: { wakeHoldSeconds },
      });
    };
    const off = run(0);
    const on = run(120);
    assert.deepEqual(on.levels, off.levels, 'the hold is a guard mode, not a risk level');
    assert.equal(off.guardModes['refuse-new'], 0);
    assert.equal(on.guardModes['refuse-new'], 120, 'refuse-new for exactly the 120 s after the wake');
    assert.deepEqual(
      on.changes.map((c) => c.guardMode),
      ['refuse-new', 'open'],
      'one change in, one out',
    );
    assert.equal(run(120, 'observe').guardModes['refuse-new'], 0, 'observe never holds back');
  });
});
