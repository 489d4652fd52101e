/**
 * Narrowing of values from outside the type system (JSON bodies, SQLite rows, IPC payloads, tool output):
 * one rule everywhere. A number that is not finite (NaN, ±Infinity: a digit run longer than a double holds,
 * an overflowed product, a division by zero) is no reading, so it narrows to null like any other non-number.
 */

/** The value when it is a finite number, else null. */
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Whether the value is a finite number (the type guard form of `num`). */
export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `num`, typed for a value that is already a number or absent (a computed figure that may overflow). */
export const finiteOrNull: (n: number | null | undefined) => number | null = num;

/** `Number(text)` when finite, else null (also for undefined and null). */
export function finiteNumber(text: string | undefined | null): number | null {
  if (text === undefined || text === null) return null;
  return num(Number(text));
}
