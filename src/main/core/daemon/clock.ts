export interface Clock {
  now(): number;
  /** A clock that never jumps (ms); gaps between ticks are measured on it. Default: performance.now(). */
  monotonic?(): number;
  setTimeout(fn: () => void, ms: number): { unref?: () => void } | number | NodeJS.Timeout;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The monotonic reading of a clock (performance.now() when it has none). */
export const monotonicNow = (clock: Clock): number => clock.monotonic?.() ?? performance.now();
