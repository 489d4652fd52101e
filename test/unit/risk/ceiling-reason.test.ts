import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateCeiling } from '../../../src/main/core/probes/ceiling-estimate.js';
import { evaluateRisk, type RiskInputs } from '../../../src/main/core/risk/risk-signals.js';
import { DEFAULT_THRESHOLDS } from '../../../src/main/core/risk/risk-thresholds.js';
import type { CeilingSource, Sample } from '../../../src/shared/sample.js';
import { makeSample } from '../../support/sample-factory.js';

const GiB = 1024 ** 3;
const RAM = 128 * GiB;

/** The factory's 128 GB Mac with the ceiling as the chain would give it. */
function withCeiling(
  source: CeilingSource | null | undefined,
  over: { wired?: number; inUse?: number } = {},
): Sample {
  const s = makeSample(0, 10, null);
  s.memory.total = RAM;
  s.memory.usable = RAM;
  if (over.wired !== undefined) s.memory.wired = over.wired;
  s.gpu.inUseBytes = over.inUse ?? 10 * GiB;
  s.gpu.ceilingBytes = source === null ? null : source === 'estimate' ? estimateCeiling(RAM) : 96 * GiB;
  if (source === undefined) delete s.gpu.ceilingSource;
  else s.gpu.ceilingSource = source;
  return s;
}

const inputs = (sample: Sample): RiskInputs => ({
  now: 0,
  sample,
  exo: { reachable: true, inFlight: 0, largestPromptTokens: null, wiredLimitActive: false },
  recent: { evictions: 0, modelChanges: 0, lastWake: null, swapUsed5mAgo: null },
  iogpuPanics72h: 0,
  hold: null,
  kv: { inFlightBytes: null, headroomBytes: null },
});

const reason = (s: Sample, signal: string) =>
  evaluateRisk(inputs(s), DEFAULT_THRESHOLDS).reasons.find((r) => r.signal === signal);

describe('an estimated or unknown Metal ceiling is a reason of its own', () => {
  it('estimated: said at level ok with the figure, the RAM share and how to make it exact; the level stays ok', () => {
    const e = evaluateRisk(inputs(withCeiling('estimate')), DEFAULT_THRESHOLDS);
    assert.equal(e.level, 'ok');
    const r = e.reasons.find((x) => x.signal === 'ceiling-estimated');
    assert.equal(r?.level, 'ok');
    assert.equal(
      r?.message,
      'Metal ceiling estimated: 96.0 GiB = 3/4 of 128.0 GiB RAM, since neither Metal, iogpu.wired_limit_mb nor a Python told it; the GPU signals and the guard use this estimate; to read the exact figure on a Mac build the native addon (npm run build:native) and check it with exo-sentinel doctor --probes, or set gpu.ceilingBytes',
    );
  });

  it('the signals that need a ceiling use the estimate instead of switching off, and say it is estimated', () => {
    const s = withCeiling('estimate', { wired: 100 * GiB, inUse: 95 * GiB });
    const e = evaluateRisk(inputs(s), DEFAULT_THRESHOLDS);
    const gpu = e.reasons.find((r) => r.signal === 'gpu-in-use');
    assert.equal(gpu?.level, 'elevated');
    assert.equal(
      gpu?.message,
      'GPU in use 95.0 GiB = 99.0% of the 96.0 GiB Metal ceiling (estimated from RAM) (soft 100.0%, hard 125.0%)',
    );
    assert.equal(
      e.reasons.find((r) => r.signal === 'wired-ceiling')?.message,
      'wired 100.0 GiB = 104.2% of the 96.0 GiB Metal ceiling (estimated from RAM)',
    );
    s.processes[1]!.physFootprint = 97 * GiB;
    assert.match(reason(s, 'runner-footprint')?.message ?? '', /of the estimated Metal ceiling$/);
  });

  it('unknown (no figure at all): said, with what is switched off', () => {
    const r = reason(withCeiling(null), 'ceiling-unknown');
    assert.equal(r?.level, 'ok');
    assert.match(
      r?.message ?? '',
      /^Metal ceiling unknown: the GPU-in-use, runner-footprint and wired-ceiling signals/,
    );
  });

  it('a ceiling that was read (or a recorded one without a source) gives no such reason and plain wording', () => {
    for (const source of ['metal', 'wired-limit-sysctl', 'exo-python', undefined] as const) {
      const e = evaluateRisk(inputs(withCeiling(source, { inUse: 95 * GiB })), DEFAULT_THRESHOLDS);
      assert.ok(!e.reasons.some((r) => r.signal.startsWith('ceiling-')), String(source));
      assert.equal(
        e.reasons.find((r) => r.signal === 'gpu-in-use')?.message,
        'GPU in use 95.0 GiB = 99.0% of the 96.0 GiB Metal ceiling (soft 100.0%, hard 125.0%)',
      );
    }
  });
});
