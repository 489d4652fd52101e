import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateRisk, type RiskInputs } from '../../../src/main/core/risk/risk-signals.js';
import { DEFAULT_THRESHOLDS } from '../../../src/main/core/risk/risk-thresholds.js';
import { makeSample } from '../../support/sample-factory.js';

const inputs = (reportsScanning?: number | null): RiskInputs => ({
  now: 0,
  sample: makeSample(0, 10, null),
  exo: { reachable: true, inFlight: 0, largestPromptTokens: null, wiredLimitActive: false },
  recent: { evictions: 0, modelChanges: 0, lastWake: null, swapUsed5mAgo: null },
  iogpuPanics72h: 0,
  hold: null,
  kv: { inFlightBytes: null, headroomBytes: null },
  ...(reportsScanning === undefined ? {} : { reportsScanning }),
});

const scanning = (i: RiskInputs) =>
  evaluateRisk(i, DEFAULT_THRESHOLDS).reasons.find((r) => r.signal === 'reports-scanning');

describe('a judgement made while the first report scan runs', () => {
  it('does not claim that no panic is recent: it says the reports are still being scanned', () => {
    const at = Date.UTC(2026, 3, 23, 10);
    const r = scanning(inputs(at));
    assert.equal(r?.level, 'ok', 'said, without raising the level by itself');
    assert.equal(
      evaluateRisk(inputs(at), DEFAULT_THRESHOLDS).level,
      evaluateRisk(inputs(null), DEFAULT_THRESHOLDS).level,
    );
    assert.match(
      r?.message ?? '',
      /^the report directories are still being scanned \(since 2026-04-23T10:00:00\.000Z\): a kernel panic from before this start may not be counted yet/,
    );
  });

  it('says nothing once the scan ended (or for callers that do not know: replays)', () => {
    assert.equal(scanning(inputs(null)), undefined);
    assert.equal(scanning(inputs()), undefined);
  });
});
