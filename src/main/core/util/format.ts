export { formatBytes, formatPercent } from '../../../shared/format.js';

/** `15m`, `2h`, `90s`, `7d`, `500ms` → milliseconds; null if not a duration. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return null;
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  const ms = Math.round(Number(m[1]) * mult);
  // Past 100 years no range means anything (and 400 digits are Infinity).
  return Number.isFinite(ms) && ms <= MAX_DURATION_MS ? ms : null;
}

/** The longest duration taken: 100 years. */
export const MAX_DURATION_MS = 100 * 365.25 * 86_400_000;
/** The latest or earliest time a Date can hold, ±8.64e15 ms. */
const MAX_TIME_MS = 8.64e15;

/** An ISO 8601 date-time or epoch milliseconds → epoch ms; null if neither. */
export function parseTime(text: string): number | null {
  // Digits alone are epoch ms, however few (`0` is the start of everything): never a year or a month.
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    return Number.isSafeInteger(ms) && ms <= MAX_TIME_MS ? ms : null;
  }
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!day) return null;
  // Date.parse rolls 2026-02-30 over to March 2: a day the month does not have is no time.
  const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
  if (new Date(Date.UTC(y, m - 1, d)).getUTCDate() !== d || m < 1 || m > 12) return null;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** Control characters, the line and paragraph separators, and the bidirectional marks, embeddings, overrides and isolates. */
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of text from outside with every invisible character that changes how it reads (a control character,
 * a right-to-left override that shows `‮evil` as `live`) as a space; its length and spaces kept.
 */
export const visibleText = (s: string): string => s.replace(INVISIBLE, ' ');

/**
 * One line of plain text, bounded: control characters (C0, C1, the line and paragraph separators and the
 * bidirectional overrides) become spaces, runs of spaces collapse, and past `max` characters it ends in `…`.
 * For text from outside that a terminal or a notification shows (an escape sequence there is a command).
 */
export function plainText(s: string, max: number): string {
  const flat = visibleText(s);
  const one = flat.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
