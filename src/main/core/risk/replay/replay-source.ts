import type { Sample } from '../../../../shared/sample.js';

/** One tick to judge: the sample and what EXO's state said at that time. */
export interface ReplayTick {
  time: number;
  sample: Sample;
  exo: {
    reachable: boolean;
    inFlight: number;
    /** Model instances with a shard on this node. */
    instances: number;
    largestPromptTokens: number | null;
    kvInFlightBytes: number | null;
  };
}

/** A timeline event the risk context reads (EXO's log and state, power events). */
export interface ReplayEvent {
  time: number;
  kind: string;
}

export interface ReplayPanic {
  time: number;
  kind: string;
}

/** A post-panic hold as it was recorded (started, and acknowledged or still on). */
export interface ReplayHold {
  since: number;
  until: number | null;
  reason: string;
}

/** What a replay runs over: a recorded timeline or an expanded scenario. */
export interface ReplaySource {
  /** `db:<path>` or `scenario:<file>`. */
  label: string;
  from: number;
  to: number;
  /** Ticks in time order; generated lazily so a day of 1 s ticks is never all in memory. */
  ticks: () => Iterable<ReplayTick>;
  /** In time order. */
  events: ReplayEvent[];
  /** Panics inside the range: each marks an incident. */
  panics: ReplayPanic[];
  /** Times of IOGPU panics before the range (the recent-panic signal counts those in the last 72 h). */
  priorIogpuPanics: number[];
  holds: ReplayHold[];
  /** The advisory calls the machine affected (the protect profile acts only there, unless configured for any). */
  platformAffected: boolean;
  /** The longest gap between two ticks that still counts as time at a level (longer: the machine slept or the daemon was off). */
  maxTickGapMs: number;
  /** What the source cannot give (e.g. prompt sizes are not recorded). */
  notes: string[];
}
