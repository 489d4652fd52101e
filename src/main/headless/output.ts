import type { TimelineEvent } from '../../shared/events.js';
import type { Sample } from '../../shared/sample.js';
import { formatBytes, formatPercent, plainText } from '../core/util/format.js';

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));

/**
 * Text from the data (a process name, a panic line, an event message) as a terminal gets it: one line, its
 * control characters replaced (an escape sequence there is a command: a title, a cleared screen, a link).
 */
export const shown = (s: string): string => plainText(s, 4000);

export function table(headers: string[], rowsIn: string[][]): string {
  const rows = rowsIn.map((r) => r.map(shown));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => pad(c, widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const pressureName = (p: number | null): string =>
  p === 1 ? 'normal' : p === 2 ? 'warn' : p === 4 ? 'critical' : '—';

/** Sum of a role's phys_footprint (the runners hold EXO's Metal memory). */
export function footprintOf(sample: Sample, role: string): number | null {
  const list = sample.processes.filter((p) => p.role === role && p.physFootprint !== null);
  return list.length ? list.reduce((s, p) => s + (p.physFootprint ?? 0), 0) : null;
}

export function renderSample(sample: Sample): string {
  const m = sample.memory;
  const g = sample.gpu;
  const gpuShare =
    g.inUseBytes !== null && g.ceilingBytes
      ? ` (${formatPercent((100 * g.inUseBytes) / g.ceilingBytes)} of ceiling)`
      : '';
  const lines = [
    `time          ${new Date(sample.time).toISOString()}`,
    `memory        total ${formatBytes(m.total)}, free ${formatPercent(m.freePercent)}, wired ${formatBytes(m.wired)}, compressed ${formatBytes(m.compressed)}`,
    `              active ${formatBytes(m.active)}, inactive ${formatBytes(m.inactive)}, pressure ${pressureName(m.pressureLevel)}`,
    `swap          ${formatBytes(m.swapUsed)} used of ${formatBytes(m.swapTotal)}`,
    `gpu           in use ${formatBytes(g.inUseBytes)}, allocated ${formatBytes(g.allocBytes)}, ceiling ${formatBytes(g.ceilingBytes)}${g.ceilingSource ? ` (${g.ceilingSource === 'estimate' ? 'estimated from RAM' : `from ${g.ceilingSource}`})` : ''}${gpuShare}`,
  ];
  if (sample.processes.length === 0) lines.push('processes     no EXO or MLX server process found');
  else {
    lines.push('processes');
    lines.push(
      table(
        ['PID', 'PPID', 'ROLE', 'FOOTPRINT', 'RSS', 'CPU', 'THREADS'],
        sample.processes.map((p) => [
          String(p.pid),
          p.ppid === null ? '—' : String(p.ppid),
          p.role,
          formatBytes(p.physFootprint),
          formatBytes(p.rss),
          formatPercent(p.cpuPercent),
          p.threads === null ? '—' : String(p.threads),
        ]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  return lines.join('\n');
}

export const TIMELINE_CSV_COLUMNS = [
  'time',
  'free_percent',
  'mem_free',
  'mem_wired',
  'mem_compressed',
  'swap_used',
  'pressure_level',
  'gpu_in_use',
  'gpu_alloc',
  'gpu_ceiling',
  'exo_runner_footprint',
  'exo_main_footprint',
] as const;

export function sampleCsvRow(s: Sample): string {
  const cells = [
    new Date(s.time).toISOString(),
    s.memory.freePercent,
    s.memory.free,
    s.memory.wired,
    s.memory.compressed,
    s.memory.swapUsed,
    s.memory.pressureLevel,
    s.gpu.inUseBytes,
    s.gpu.allocBytes,
    s.gpu.ceilingBytes,
    footprintOf(s, 'exo-runner'),
    footprintOf(s, 'exo-main'),
  ];
  return cells.map((c) => (c === null || c === undefined ? '' : String(c))).join(',');
}

export function renderTimeline(samples: Sample[]): string {
  return table(
    ['TIME', 'FREE', 'WIRED', 'COMPRESSED', 'SWAP', 'PRESSURE', 'GPU IN USE', 'GPU CEILING', 'RUNNERS'],
    samples.map((s) => [
      new Date(s.time).toISOString().replace('T', ' ').slice(0, 19),
      formatPercent(s.memory.freePercent),
      formatBytes(s.memory.wired),
      formatBytes(s.memory.compressed),
      formatBytes(s.memory.swapUsed),
      pressureName(s.memory.pressureLevel),
      formatBytes(s.gpu.inUseBytes),
      formatBytes(s.gpu.ceilingBytes),
      formatBytes(footprintOf(s, 'exo-runner')),
    ]),
  );
}

export function renderEvents(events: TimelineEvent[]): string {
  return events
    .map(
      (e) =>
        `${new Date(e.time).toISOString().replace('T', ' ').slice(0, 19)}  ${pad(shown(e.severity), 8)} ${pad(shown(e.kind), 22)} ${shown(e.message)}`,
    )
    .join('\n');
}
