import { levelRank, type RiskState } from '../../../shared/risk.js';
import { evaluateRisk, type RiskInputs } from './risk-signals.js';
import type { RiskThresholds } from './risk-thresholds.js';

export interface RiskUpdate {
  state: RiskState;
  changed: boolean;
  previous: RiskState['level'];
}

/**
 * Levels with hysteresis and a minimum dwell: a level rises at once (polling is already late for a
 * one-shot allocation), and falls only when even the relaxed evaluation is lower, continuously for
 * `minDwellSeconds` — so a value oscillating at a threshold holds the higher level instead of flapping.
 */
export class RiskEngine {
  private current: RiskState;
  private lowerSince: number | null = null;

  constructor(
    private thresholds: RiskThresholds,
    now: number,
    initial?: RiskState | null,
  ) {
    this.current = initial ?? {
      level: 'ok',
      since: now,
      reasons: [],
      evaluatedAt: now,
      score: 0,
      hold: null,
    };
  }

  get state(): RiskState {
    return this.current;
  }

  /** New thresholds (a reloaded configuration) for the next update; the current level stays until then. */
  setThresholds(thresholds: RiskThresholds): void {
    this.thresholds = thresholds;
  }

  update(inputs: RiskInputs): RiskUpdate {
    const strict = evaluateRisk(inputs, this.thresholds);
    const previous = this.current.level;
    let level = previous;
    let since = this.current.since;
    if (levelRank(strict.level) > levelRank(previous)) {
      level = strict.level;
      since = inputs.now;
      this.lowerSince = null;
    } else {
      const relaxed = evaluateRisk(inputs, this.thresholds, true);
      if (levelRank(relaxed.level) < levelRank(previous)) {
        this.lowerSince ??= inputs.now;
        if (inputs.now - this.lowerSince >= this.thresholds.minDwellSeconds * 1000) {
          level = relaxed.level;
          since = inputs.now;
          this.lowerSince = null;
        }
      } else this.lowerSince = null;
    }
    this.current = {
      level,
      since,
      reasons: strict.reasons,
      evaluatedAt: inputs.now,
      score: strict.score,
      hold: inputs.hold,
    };
    return { state: this.current, changed: level !== previous, previous };
  }
}
