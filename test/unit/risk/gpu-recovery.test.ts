import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExoSnapshot } from '../../../src/main/core/exo/exo-monitor.js';
import { parseIoregAccelerators } from '../../../src/main/core/probes/darwin/ioreg-accelerator-parser.js';
import { RiskContext } from '../../../src/main/core/risk/risk-context.js';
import { evaluateRisk } from '../../../src/main/core/risk/risk-signals.js';
import { DEFAULT_THRESHOLDS, RiskThresholdsSchema } from '../../../src/main/core/risk/risk-thresholds.js';
import { emptyGpu, emptyMemory, type Sample } from '../../../src/shared/sample.js';
import { fixture } from '../../support/fixtures.js';

const GiB = 1024 ** 3;
const T = Date.parse('2026-11-28T10:00:00Z');

/** A calm 128 GB Mac: nothing but the GPU's recovery counter can move the level. */
const sample = (time: number, recoveryCount: number | null | undefined): Sample => ({
  time,
  memory: { ...emptyMemory(), total: 128 * GiB, usable: 128 * GiB, wired: 30 * GiB, freePercent: 60 },
  gpu: {
    ...emptyGpu(),
    inUseBytes: 20 * GiB,
    ceilingBytes: 96 * GiB,
    sampledAt: time,
    ...(recoveryCount === undefined ? {} : { recoveryCount }),
  },
  processes: [],
  exo: { reachable: true, inFlight: 0 },
});

const exo = (instances: number): ExoSnapshot =>
  ({
    reachable: true,
    inFlight: 0,
    instances: Array.from({ length: instances }, (_, i) => ({ instanceId: `i${i}`, modelId: 'm' })),
  }) as unknown as ExoSnapshot;

const kv = { kvBytes: 0, largestPromptTokens: null } as never;

/** Feeds readings of the counter one tick apart; returns the evaluation at each. */
function run(counts: Array<number | null | undefined>, wiredLimit: boolean, step = 5000) {
  const ctx = new RiskContext();
  if (wiredLimit) ctx.observe('exo.wired-limit-set', T - 1000);
  return counts.map((c, i) => {
    const now = T + i * step;
    return evaluateRisk(ctx.inputs(now, sample(now, c), exo(1), kv, 0, null), DEFAULT_THRESHOLDS);
  });
}

describe('GPU recovery counters (IOAccelerator recoveryCount) as a risk signal', () => {
  it('parses recoveryCount and lastRecoveryTime from PerformanceStatistics', () => {
    const [n] = parseIoregAccelerators(
      fixture('macos/ioreg/ioreg-r-c-IOAccelerator-d1.m4pro.macos26.sonar.txt'),
    );
    assert.equal(n?.recoveryCount, 0);
    assert.equal(n?.lastRecoveryTime, 0);
    const bumped = parseIoregAccelerators(
      '+-o AGXAcceleratorG16X  <class AGXAcceleratorG16X, id 0x1, registered>\n' +
        '    "PerformanceStatistics" = {"In use system memory"=1024,"recoveryCount"=3,"lastRecoveryTime"=918273645}\n',
    )[0];
    assert.equal(bumped?.recoveryCount, 3);
    assert.equal(bumped?.lastRecoveryTime, 918273645);
    const garbage = parseIoregAccelerators(
      '"PerformanceStatistics" = {"recoveryCount"=-1,"lastRecoveryTime"=x}',
    )[0];
    assert.equal(garbage?.recoveryCount, null);
    assert.equal(garbage?.lastRecoveryTime, null);
  });

  it('an increment alone raises elevated; with the wired limit active, high; never from the first reading', () => {
    const alone = run([2, 2, 3, 3], false);
    assert.deepEqual(
      alone.map((e) => e.level),
      ['ok', 'ok', 'elevated', 'elevated'],
      'a counter already at 2 is the baseline, its increase is the signal',
    );
    assert.equal(alone[2]!.score, 3);
    assert.match(
      alone[2]!.reasons.find((r) => r.signal === 'trigger-score')!.message,
      /the GPU recovered from a hang 0 s ago \(IOAccelerator recoveryCount; 1 in the last hour\) \(\+3\)/,
    );
    const wired = run([0, 1], true);
    assert.deepEqual(
      wired.map((e) => e.level),
      ['ok', 'high'],
    );
    assert.equal(wired[1]!.score, 5, 'wired limit 2 + recovery 3');
  });

  it('counts for gpuRecoveryWindowSeconds; a lower value (a reboot) or a missing reading is not a recovery', () => {
    // 10 min window at 5 s per tick: ticks 1..120 after the increment still count, 121 does not.
    const counts = [0, 1, ...Array<number>(121).fill(1)];
    const levels = run(counts, false).map((e) => e.level);
    assert.equal(levels[1], 'elevated');
    assert.equal(levels[120], 'elevated', '595 s after');
    assert.equal(levels[121], 'ok', '600 s after');
    assert.deepEqual(
      run([5, 0, 0, null, undefined, 0], false).map((e) => e.level),
      ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
    );
    assert.deepEqual(
      run([0, null, 1], false).map((e) => e.level),
      ['ok', 'ok', 'elevated'],
      'a tick without the reading keeps the baseline',
    );
  });

  it('the weight and window are configurable (0 turns it off)', () => {
    const off = RiskThresholdsSchema.parse({ weights: { gpuRecovery: 0 } });
    const ctx = new RiskContext();
    ctx.inputs(T, sample(T, 0), exo(1), kv, 0, null);
    const e = evaluateRisk(ctx.inputs(T + 1000, sample(T + 1000, 1), exo(1), kv, 0, null), off);
    assert.equal(e.level, 'ok');
    assert.equal(DEFAULT_THRESHOLDS.weights.gpuRecovery, 3);
    assert.equal(DEFAULT_THRESHOLDS.gpuRecoveryWindowSeconds, 600);
  });
});
