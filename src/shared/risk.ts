/** The watchdog's judgement, shared by the core, the CLI, the API and the dashboard. */
export type RiskLevel = 'ok' | 'elevated' | 'high' | 'critical';

export const LEVELS: RiskLevel[] = ['ok', 'elevated', 'high', 'critical'];
export const levelRank = (l: RiskLevel): number => LEVELS.indexOf(l);
export const isRiskLevel = (v: unknown): v is RiskLevel => (LEVELS as unknown[]).includes(v);
export const maxLevel = (...ls: RiskLevel[]): RiskLevel =>
  ls.reduce((a, b) => (levelRank(b) > levelRank(a) ? b : a), 'ok');

export interface RiskReason {
  /** Stable signal name: gpu-in-use, wired, free-percent, pressure, swap-growth, concurrency-churn, … */
  signal: string;
  level: RiskLevel;
  /** A sentence with the numbers, e.g. "GPU in use 91.3 GiB = 95.1% of the 96.0 GiB Metal ceiling (hard 95%)". */
  message: string;
}

export interface PostPanicHold {
  since: number;
  reportId: number | null;
  kind: string | null;
  reason: string;
}

export interface RiskState {
  level: RiskLevel;
  since: number;
  reasons: RiskReason[];
  evaluatedAt: number;
  /** The IOGPU trigger score (0-10): concurrency, churn, long prompts, wake, recent panics, wired limit. */
  score: number;
  hold: PostPanicHold | null;
}

export type GuardMode = 'open' | 'serialise' | 'refuse-new' | 'cancel-newest';
export const GUARD_MODES: GuardMode[] = ['open', 'serialise', 'refuse-new', 'cancel-newest'];
export const isGuardMode = (v: unknown): v is GuardMode => (GUARD_MODES as unknown[]).includes(v);
