/** Display helpers for the dashboard: one time format, figures in words. */
import type { PressureLevel } from '../shared/sample.js';

export { formatBytes as bytes, formatPercent as percent } from '../shared/format.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** The one time format: local `YYYY-MM-DD HH:MM:SS`; '—' when unknown. */
export function time(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A `<time>` element in local time, the ISO instant in its title and datetime attributes. */
export function timeEl(ms: unknown): HTMLElement | string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const el = document.createElement('time');
  const iso = new Date(ms).toISOString();
  el.setAttribute('datetime', iso);
  el.title = iso;
  el.textContent = time(ms);
  return el;
}

export const ratio = (a: unknown, b: unknown): number | null =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? (100 * a) / b : null;

const PRESSURE: Record<PressureLevel, string> = { 1: 'normal', 2: 'warning', 4: 'critical' };

/** kern.memorystatus_vm_pressure_level in words: 1 normal, 2 warning, 4 critical. */
export const pressureWord = (p: PressureLevel | null | undefined): string | null =>
  p === null || p === undefined ? null : (PRESSURE[p] ?? `level ${String(p)}`);

/** An ISO-8601 instant as the daemon writes them in messages (`2026-11-26T10:00:00.000Z`). */
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})/g;

/**
 * A message for reading: Markdown backticks dropped, ISO instants shown in the one local format (the ISO
 * kept in a title). Returns nodes to append; nothing is parsed as HTML.
 */
export function messageNodes(text: string): Array<Node | string> {
  const plain = text.replace(/`([^`]*)`/g, '$1');
  const out: Array<Node | string> = [];
  let last = 0;
  for (const m of plain.matchAll(ISO)) {
    const ms = Date.parse(m[0]);
    if (!Number.isFinite(ms)) continue;
    out.push(plain.slice(last, m.index));
    out.push(timeEl(ms));
    last = m.index + m[0].length;
  }
  out.push(plain.slice(last));
  return out.filter((p) => p !== '');
}
