/** Display helpers for the dashboard (no DOM). */
export function bytes(n: unknown): string {
  if (typeof n !== 'number') return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export const percent = (n: unknown): string => (typeof n === 'number' ? `${Math.round(n * 10) / 10}%` : '—');
export const time = (ms: unknown): string => (typeof ms === 'number' ? new Date(ms).toLocaleString() : '—');
export const ratio = (a: unknown, b: unknown): number | null =>
  typeof a === 'number' && typeof b === 'number' && b > 0 ? (100 * a) / b : null;
