/** Display helpers for the dashboard (no DOM). */
export { formatBytes as bytes, formatPercent as percent } from '../shared/format.js';

export const time = (ms: unknown): string => (typeof ms === 'number' ? new Date(ms).toLocaleString() : '—');
export const ratio = (a: unknown, b: unknown): number | null =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? (100 * a) / b : null;
