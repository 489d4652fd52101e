import type { RiskState } from '../../../shared/risk.js';
import type { TimelineStore } from '../store/timeline-store.js';

const RISK_KEY = 'risk-state';

/** The last risk state the daemon stored (what `status` without a daemon and the next start read). */
export function readRiskState(store: Pick<TimelineStore, 'getMeta'>): RiskState | null {
  const v = store.getMeta(RISK_KEY);
  try {
    return v ? (JSON.parse(v) as RiskState) : null;
  } catch {
    return null;
  }
}

/**
 * Writes the risk state inside the tick's transaction, but only when it changed (its evaluation time aside, so
 * the stored `evaluatedAt` is that of the last change): the same row rewritten every second was a tenth of an
 * idle tick's database work. A tick whose transaction was rolled back (full disk) calls `lost`, and the state
 * is written again with the next tick that can be.
 */
export class RiskStateWriter {
  private written: string | null = null;

  constructor(private readonly store: Pick<TimelineStore, 'setMeta'>) {}

  write(state: RiskState): void {
    const key = JSON.stringify({ ...state, evaluatedAt: 0 });
    if (key === this.written) return;
    this.store.setMeta(RISK_KEY, JSON.stringify(state));
    this.written = key;
  }

  lost(): void {
    this.written = null;
  }
}
