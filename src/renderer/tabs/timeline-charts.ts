/**
 * The Overview's charts over a chosen range: memory and GPU (% of their ceilings) with the risk level as
 * bands and panics as markers, and EXO's processes' footprints. 15 m and 1 h read the 1 s samples (and
 * follow live ones); 6 h, 24 h and 7 d read the store's per-minute roll-ups.
 */
import type { MinuteRowView, ReportView } from '../../shared/api-contracts.js';
import { LEVELS, type RiskLevel } from '../../shared/risk.js';
import type { Sample } from '../../shared/sample.js';
import { Chart, type ChartData } from '../chart.js';
import type { Resolution, SentinelClient } from '../client.js';
import { errorText, h } from '../dom.js';
import { bytes, ratio } from '../format.js';

export interface Range {
  key: string;
  label: string;
  ms: number;
  resolution: Resolution;
}

const MIN = 60_000;
export const RANGES: Range[] = [
  { key: '15m', label: '15 m', ms: 15 * MIN, resolution: 'raw' },
  { key: '1h', label: '1 h', ms: 60 * MIN, resolution: 'raw' },
  { key: '6h', label: '6 h', ms: 360 * MIN, resolution: 'minute' },
  { key: '24h', label: '24 h', ms: 1440 * MIN, resolution: 'minute' },
  { key: '7d', label: '7 d', ms: 7 * 1440 * MIN, resolution: 'minute' },
];

/** Processes drawn at most (the largest footprints). */
const MAX_PROCESS_LINES = 6;
const PROCESS_COLOURS = ['#7048e8', '#1098ad', '#e8590c', '#2f9e44', '#c2255c', '#5c7cfa'];

interface Point {
  time: number;
  wired: number | null;
  gpu: number | null;
  free: number | null;
  level: number | null;
  processes: Array<{ key: string; label: string; footprint: number | null }> | null;
}

const fromSample = (s: Sample, level?: RiskLevel): Point => ({
  time: s.time,
  wired: ratio(s.memory.wired, s.memory.usable ?? s.memory.total),
  gpu: ratio(s.gpu.inUseBytes, s.gpu.ceilingBytes),
  free: s.memory.freePercent,
  level: s.riskLevel ?? (level ? LEVELS.indexOf(level) : null),
  processes: s.processes.map((p) => ({
    key: `${p.pid}:${p.startTime ?? ''}`,
    label: `${p.role} ${p.pid}`,
    footprint: p.physFootprint,
  })),
});

/** A minute's worst: the highest wired and GPU share, the lowest free share, the highest level. */
const fromMinute = (m: MinuteRowView): Point => {
  const v = m.values;
  return {
    time: m.time,
    wired: ratio(v['mem_wired']?.max, v['mem_usable']?.avg ?? v['mem_total']?.avg),
    gpu: ratio(v['gpu_in_use']?.max, v['gpu_ceiling']?.avg),
    free: v['free_percent']?.min ?? null,
    level: m.riskLevelMax,
    processes: null,
  };
};

export class TimelineCharts {
  private range: Range = RANGES[1]!;
  private points: Point[] = [];
  private panics: ReportView[] = [];
  private memory: Chart | null = null;
  private procs: Chart | null = null;
  private note: HTMLElement | null = null;
  private procNote: HTMLElement | null = null;
  private loaded = false;

  constructor(private readonly client: SentinelClient) {}

  /** The range picker and the chart hosts; loads the range the first time. */
  mount(): { memory: HTMLElement; processes: HTMLElement } {
    const picker = h('div', { class: 'ranges', role: 'group', 'aria-label': 'Chart range', id: 'range' });
    for (const r of RANGES) {
      const b = h('button', { type: 'button', 'data-range': r.key }, r.label);
      b.setAttribute('aria-pressed', String(r === this.range));
      b.addEventListener('click', () => {
        this.range = r;
        for (const x of picker.querySelectorAll('button'))
          x.setAttribute('aria-pressed', String(x.dataset['range'] === r.key));
        void this.load();
      });
      picker.append(b);
    }
    const memHost = h('div', { id: 'chart', class: 'chart' });
    const procHost = h('div', { id: 'process-chart', class: 'chart' });
    this.note = h('p', { class: 'muted', id: 'chart-note', role: 'status' });
    this.procNote = h('p', { class: 'muted', id: 'process-chart-note' });
    this.memory = new Chart(memHost, { yRange: [0, 100], yFormat: (v) => `${v}%` });
    this.procs = new Chart(procHost, { height: 180, yFormat: (v) => bytes(v) });
    const memory = h('div', {}, picker, this.note, memHost);
    const processes = h('div', {}, this.procNote, procHost);
    if (this.loaded) queueMicrotask(() => this.draw());
    else void this.load();
    return { memory, processes };
  }

  async load(): Promise<void> {
    const range = this.range;
    const to = Date.now();
    if (this.note) this.note.textContent = `Loading the last ${range.label}…`;
    try {
      const [tl, panics] = await Promise.all([
        this.client.timeline(to - range.ms, to, range.resolution),
        this.client.panics().catch(() => ({ items: [] as ReportView[] })),
      ]);
      if (range !== this.range) return;
      this.points =
        tl.resolution === 'minute'
          ? (tl.minutes ?? []).map(fromMinute)
          : (tl.samples ?? []).map((s) => fromSample(s));
      this.panics = panics.items.filter((p) => p.category === 'panic');
      this.loaded = true;
      this.draw(tl.truncated);
    } catch (e) {
      if (this.note) this.note.textContent = `The timeline could not be read: ${errorText(e)}`;
    }
  }

  /** A live sample: appended when the range reads raw samples (the roll-up ranges move on reload). */
  push(s: Sample, level: RiskLevel): void {
    if (!this.loaded || this.range.resolution !== 'raw') return;
    this.points.push(fromSample(s, level));
    const cut = s.time - this.range.ms;
    while (this.points.length && this.points[0]!.time < cut) this.points.shift();
    if (this.memory?.host.isConnected) this.draw();
  }

  private draw(truncated = false): void {
    const times = this.points.map((p) => p.time);
    const levels = this.points.map((p) => p.level);
    const markers = this.panics
      .filter((p) => typeof p.panicTime === 'number')
      .map((p) => ({ time: p.panicTime as number, label: `panic ${p.id}` }));
    const source =
      this.range.resolution === 'raw' ? '1 s samples' : 'per-minute roll-ups (worst of each minute)';
    if (this.note)
      this.note.textContent = `Last ${this.range.label}: ${times.length} points from the ${source}${truncated ? ' (the oldest part is cut: more than the daemon serves at once)' : ''}. Coloured bands: the risk level; dashed lines: panics.`;
    const data: ChartData = {
      times,
      levels,
      markers,
      series: [
        { label: 'wired % RAM', stroke: '#d9480f', values: this.points.map((p) => p.wired) },
        { label: 'GPU in use % ceiling', stroke: '#1a73e8', values: this.points.map((p) => p.gpu) },
        { label: 'free %', stroke: '#1e8e3e', values: this.points.map((p) => p.free) },
      ],
    };
    this.memory?.set(data);
    this.drawProcesses(times, levels, markers);
  }

  private drawProcesses(times: number[], levels: Array<number | null>, markers: ChartData['markers']): void {
    if (!this.procs || !this.procNote) return;
    if (this.range.resolution !== 'raw') {
      this.procs.set({ times: [], series: [] });
      this.procNote.textContent = `Per-process footprints are drawn from the 1 s samples: choose 15 m or 1 h to see them.`;
      return;
    }
    const lines = new Map<string, { label: string; values: Array<number | null>; max: number }>();
    this.points.forEach((p, i) => {
      for (const q of p.processes ?? []) {
        const line = lines.get(q.key) ?? {
          label: q.label,
          values: new Array(times.length).fill(null),
          max: 0,
        };
        line.values[i] = q.footprint;
        line.max = Math.max(line.max, q.footprint ?? 0);
        lines.set(q.key, line);
      }
    });
    const top = [...lines.values()].sort((a, b) => b.max - a.max).slice(0, MAX_PROCESS_LINES);
    this.procNote.textContent = top.length
      ? `Footprint (phys_footprint on macOS) of EXO’s processes${lines.size > top.length ? `, the ${top.length} largest of ${lines.size}` : ''}.`
      : 'No EXO or MLX process in this range.';
    this.procs.set({
      times,
      levels,
      markers,
      series: top.map((l, i) => ({ label: l.label, stroke: PROCESS_COLOURS[i]!, values: l.values })),
    });
  }
}
