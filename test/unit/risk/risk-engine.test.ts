import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RiskEngine } from '../../../src/main/core/risk/risk-engine.js';
import { evaluateRisk, type RiskInputs } from '../../../src/main/core/risk/risk-signals.js';
import {
  DEFAULT_THRESHOLDS,
  type RiskThresholds,
  RiskThresholdsSchema,
} from '../../../src/main/core/risk/risk-thresholds.js';
import type { RiskLevel } from '../../../src/shared/risk.js';
import { emptyGpu, emptyMemory, type Sample } from '../../../src/shared/sample.js';

const GiB = 1024 ** 3;
const RAM = 128 * GiB;
const CEILING = 96 * GiB;

/** A recorded-style sample on a 128 GB Mac with a 96 GiB Metal ceiling. */
function sample(
  time: number,
  gpuInUse: number,
  over: { wired?: number; free?: number; pressure?: 1 | 2 | 4; swap?: number } = {},
): Sample {
  return {
    time,
    memory: {
      ...emptyMemory(),
      total: RAM,
      usable: RAM,
      wired: over.wired ?? gpuInUse,
      freePercent: over.free ?? 40,
      pressureLevel: over.pressure ?? 1,
      swapUsed: over.swap ?? 0,
      swapTotal: 8 * GiB,
    },
    gpu: { ...emptyGpu(), inUseBytes: gpuInUse, ceilingBytes: CEILING, sampledAt: time },
    processes: [],
    exo: { reachable: true, inFlight: 0 },
  };
}

function inputs(s: Sample, over: Partial<RiskInputs> = {}): RiskInputs {
  return {
    now: s.time,
    sample: s,
    exo: {
      reachable: true,
      inFlight: 0,
      largestPromptTokens: null,
      wiredLimitActive: false,
      ...(over.exo ?? {}),
    },
    recent: { evictions: 0, modelChanges: 0, lastWake: null, swapUsed5mAgo: null, ...(over.recent ?? {}) },
    iogpuPanics72h: over.iogpuPanics72h ?? 0,
    hold: over.hold ?? null,
    kv: over.kv ?? { inFlightBytes: null, headroomBytes: null },
  };
}

/**
 * The hysteresis and dwell mechanics are tested on the GPU gauge at 75/85/95 % of the ceiling (set here;
 * the calibrated defaults are 95/100/125 %, see risk-thresholds.ts and the README's calibration).
 */
const GAUGE: RiskThresholds = RiskThresholdsSchema.parse({ gpuElevated: 0.75, gpuSoft: 0.85, gpuHard: 0.95 });

/** Runs a 1 Hz sequence; returns the level after each tick and the change events. */
function run(seq: Array<{ s: Sample; over?: Partial<RiskInputs> }>, thresholds: RiskThresholds = GAUGE) {
  const engine = new RiskEngine(thresholds, seq[0]!.s.time);
  const levels: RiskLevel[] = [];
  const changes: Array<{ t: number; from: RiskLevel; to: RiskLevel; reasons: string[] }> = [];
  for (const { s, over } of seq) {
    const u = engine.update(inputs(s, over));
    levels.push(u.state.level);
    if (u.changed)
      changes.push({
        t: s.time,
        from: u.previous,
        to: u.state.level,
        reasons: u.state.reasons.map((r) => r.message),
      });
  }
  return { levels, changes, engine };
}

const T0 = 1_800_000_000_000;
const at = (i: number): number => T0 + i * 1000;

describe('risk engine scenarios (1 Hz sample sequences)', () => {
  it('steady at 50% of the ceiling: ok throughout, no events', () => {
    const r = run(Array.from({ length: 300 }, (_, i) => ({ s: sample(at(i), 48 * GiB) })));
    assert.ok(r.levels.every((l) => l === 'ok'));
    assert.equal(r.changes.length, 0);
  });

  it('slow climb 50% → 100% over 10 min: elevated at 75%, high at 85%, critical at 95%, each at the tick it is crossed', () => {
    const seq = Array.from({ length: 601 }, (_, i) => ({
      s: sample(at(i), CEILING * (0.5 + (0.5 * i) / 600)),
    }));
    const r = run(seq);
    assert.deepEqual(
      r.changes.map((c) => [c.from, c.to]),
      [
        ['ok', 'elevated'],
        ['elevated', 'high'],
        ['high', 'critical'],
      ],
    );
    // 0.5 + 0.5·i/600 ≥ x  ⇔  i ≥ (x − 0.5)·1200
    // Each threshold is crossed at i = (x − 0.5)·1200; binary floating point may put the crossing one tick later.
    const crossed = r.changes.map((c) => (c.t - T0) / 1000);
    for (const [k, expected] of [300, 420, 540].entries()) {
      assert.ok(crossed[k]! - expected >= 0 && crossed[k]! - expected <= 1, `crossing ${k} at ${crossed[k]}`);
    }
    assert.match(
      r.changes[2]!.reasons[0]!,
      /^GPU in use 91\.[23] GiB = 95\.[01]% of the 96\.0 GiB Metal ceiling \(soft 85\.0%, hard 95\.0%\)$/,
    );
  });

  it('sudden jump: one tick from 40% to 97% goes straight to critical, and falls only after the dwell', () => {
    const seq = [
      ...Array.from({ length: 10 }, (_, i) => ({ s: sample(at(i), 0.4 * CEILING) })),
      ...Array.from({ length: 20 }, (_, i) => ({ s: sample(at(10 + i), 0.97 * CEILING) })),
      ...Array.from({ length: 60 }, (_, i) => ({ s: sample(at(30 + i), 0.3 * CEILING) })),
    ];
    const r = run(seq);
    assert.deepEqual(r.changes[0], { t: at(10), from: 'ok', to: 'critical', reasons: r.changes[0]!.reasons });
    assert.equal(r.changes.length, 2);
    assert.equal(r.changes[1]!.to, 'ok');
    assert.equal(r.changes[1]!.t, at(30 + 30), 'lowered after 30 s below the relaxed thresholds');
  });

  it('oscillation at the soft threshold (84% ↔ 86% every 2 s for 10 min) does not flap', () => {
    const seq = Array.from({ length: 600 }, (_, i) => ({
      s: sample(at(i), (Math.floor(i / 2) % 2 === 0 ? 0.84 : 0.86) * CEILING),
    }));
    const r = run(seq);
    assert.deepEqual(
      r.changes.map((c) => [c.from, c.to, (c.t - T0) / 1000]),
      [
        ['ok', 'elevated', 0],
        ['elevated', 'high', 2],
      ],
    );
    assert.ok(
      r.levels.slice(2).every((l) => l === 'high'),
      'holds high: 84% is inside the 5-point hysteresis band',
    );
  });

  it('the wired limit with two concurrent requests (the best-evidenced trigger) is high at once; churn adds to the score', () => {
    const seq = Array.from({ length: 120 }, (_, i) => ({
      s: sample(at(i), 0.6 * CEILING),
      over: {
        exo: {
          reachable: true,
          inFlight: i >= 30 ? 2 : 1,
          largestPromptTokens: 20_000,
          wiredLimitActive: true,
        },
        recent: { evictions: i >= 60 ? 1 : 0, modelChanges: 0, lastWake: null, swapUsed5mAgo: null },
      },
    }));
    const r = run(seq, DEFAULT_THRESHOLDS);
    assert.deepEqual(
      r.changes.map((c) => [c.from, c.to, (c.t - T0) / 1000]),
      [['ok', 'high', 30]],
    );
    assert.deepEqual(r.changes[0]!.reasons, [
      'IOGPU trigger score 4: EXO wired the Metal working set (+2), 2 requests in flight (+2)',
    ]);
    const final = r.engine.state;
    assert.equal(final.score, 5);
    assert.equal(
      final.reasons.find((x) => x.signal === 'trigger-score')?.message,
      'IOGPU trigger score 5: EXO wired the Metal working set (+2), 2 requests in flight (+2), 1 KV-cache eviction(s) and 0 model load/unload(s) in 2 min (+1)',
    );
  });

  it('memory exhaustion signals: free %, pressure, wired, swap growth and KV headroom each name their numbers', () => {
    const e = evaluateRisk(
      inputs(sample(T0, 30 * GiB, { wired: 118 * GiB, free: 4, pressure: 4, swap: 7 * GiB }), {
        recent: { evictions: 0, modelChanges: 0, lastWake: null, swapUsed5mAgo: 5 * GiB },
        kv: { inFlightBytes: 20 * GiB, headroomBytes: 10 * GiB },
      }),
      DEFAULT_THRESHOLDS,
    );
    assert.equal(e.level, 'critical');
    const bySignal = Object.fromEntries(e.reasons.map((r) => [r.signal, [r.level, r.message]]));
    assert.deepEqual(bySignal['free-percent'], [
      'critical',
      'memory free 4% (elevated ≤ 20%, high ≤ 10%, critical ≤ 5%)',
    ]);
    assert.deepEqual(bySignal['pressure'], ['high', 'memory pressure is critical (level 4)']);
    assert.deepEqual(bySignal['wired'], [
      'high',
      'wired 118.0 GiB = 92.2% of RAM (elevated 80.0%, high 90.0%)',
    ]);
    assert.deepEqual(bySignal['swap-growth'], ['elevated', 'swap grew 2.0 GiB in 5 minutes']);
    assert.deepEqual(bySignal['swap-used'], ['high', 'swap 87.5% used (7.0 GiB of 8.0 GiB)']);
    assert.deepEqual(bySignal['kv-headroom'], [
      'high',
      'in-flight requests may add 20.0 GiB of KV cache; 10.0 GiB is left under the ceiling',
    ]);
  });

  it('a recent IOGPU panic and a post-panic hold raise the level with their reasons', () => {
    const e = evaluateRisk(
      inputs(sample(T0, 10 * GiB), {
        iogpuPanics72h: 1,
        hold: {
          since: T0 - 60_000,
          reportId: 3,
          kind: 'completeMemory',
          reason: 'completeMemory panic (report 3)',
        },
      }),
      DEFAULT_THRESHOLDS,
    );
    assert.equal(e.level, 'elevated');
    assert.deepEqual(
      e.reasons.map((r) => r.signal),
      ['trigger-score', 'post-panic-hold'],
    );
    assert.match(e.reasons[1]!.message, /end it with `exo-sentinel ack`/);
  });

  it('unknown figures (null) never count as safe or unsafe by themselves', () => {
    const s = sample(T0, 0);
    s.gpu = emptyGpu();
    s.memory = emptyMemory();
    const e = evaluateRisk(inputs(s), DEFAULT_THRESHOLDS);
    // Only the unknown ceiling is said (at level ok: it raises nothing by itself).
    assert.deepEqual(
      [e.level, e.reasons.map((r) => [r.signal, r.level])],
      ['ok', [['ceiling-unknown', 'ok']]],
    );
  });
});
