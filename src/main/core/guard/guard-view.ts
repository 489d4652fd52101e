import type { GuardMode, PostPanicHold, RiskLevel } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import type { ModeSource, WakeHoldView } from './admission.js';

/** What the guard knows of the watchdog's judgement; the daemon refreshes it every tick. */
export interface GuardView {
  level: RiskLevel;
  mode: GuardMode;
  modeSource: ModeSource;
  hold: PostPanicHold | null;
  /** The sleep/wake hold while it holds (the mode source is then `wake-hold`). */
  wakeHold?: WakeHoldView | null;
  exo: ExoSnapshot | null;
  sample: Sample | null;
}

/** Counters the guard feeds (Prometheus, through the daemon). */
export interface GuardMetricsSink {
  refused(reasonKind: string): void;
  queueWait(seconds: number): void;
}
