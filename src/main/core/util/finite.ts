/**
 * Numbers read from text (tool output, reports, logs). A digit run longer than a double holds reads as
 * Infinity, a product of two large values overflows: every parser returns null for those, never a
 * non-finite number.
 */

/** `Number(text)` when finite, else null (also for undefined). */
export function finiteNumber(text: string | undefined | null): number | null {
  if (text === undefined || text === null) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** The value when it is a finite number, else null. */
export const finiteOrNull = (n: number | null | undefined): number | null =>
  typeof n === 'number' && Number.isFinite(n) ? n : null;
