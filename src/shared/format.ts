/** Human figures, shared by the CLI, reports and the dashboard: 1536 → "1.5 KiB"; null → "—". */
export function formatBytes(n: unknown): string {
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

export const formatPercent = (n: unknown): string =>
  typeof n === 'number' ? `${Math.round(n * 10) / 10}%` : '—';
