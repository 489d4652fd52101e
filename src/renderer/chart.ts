/**
 * Line charts on uPlot with the watchdog's marks: the risk level over time as coloured bands behind the
 * lines, and vertical markers (panics) at their times. The host element carries what is drawn as data
 * attributes (points, bands, markers), so what a reader sees can be checked without reading pixels.
 */
import uPlot from 'uplot';
import { LEVELS } from '../shared/risk.js';
import { h } from './dom.js';
import { time } from './format.js';

export interface LineSeries {
  label: string;
  stroke: string;
  values: Array<number | null>;
}

export interface ChartData {
  /** Epoch milliseconds, ascending. */
  times: number[];
  series: LineSeries[];
  /** The risk level at each time (0 ok … 3 critical), null unknown. */
  levels?: Array<number | null>;
  /** Marks at a time, e.g. a panic. */
  markers?: Array<{ time: number; label: string }>;
}

export interface ChartOptions {
  height?: number;
  /** Fixed y range; by default from the data. */
  yRange?: [number, number];
  yFormat: (v: number) => string;
}

/** A run of equal, non-ok levels: [from, to) in epoch ms. */
export interface Band {
  level: number;
  from: number;
  to: number;
}

/** The usual time between points: the median step (1 s when there are too few points to tell). */
export function typicalStep(times: number[]): number {
  if (times.length < 2) return 1000;
  const steps = times.slice(1).map((t, i) => t - times[i]!);
  steps.sort((a, b) => a - b);
  return Math.max(1, steps[Math.floor(steps.length / 2)]!);
}

/** A step longer than this is a gap (the daemon or the machine was down): nothing is drawn across it. */
export const gapAfter = (step: number): number => Math.max(5 * step, 5000);

/**
 * Consecutive times of the same non-ok level as one band; each point lasts until the next one, or one
 * usual step when a gap follows it (a band does not cover the time nothing was read).
 */
export function levelBands(times: number[], levels: Array<number | null>): Band[] {
  const bands: Band[] = [];
  const step = typicalStep(times);
  const gap = gapAfter(step);
  for (let i = 0; i < times.length; i++) {
    const level = levels[i] ?? 0;
    const next = times[i + 1];
    const end = next !== undefined && next - times[i]! <= gap ? next : times[i]! + step;
    const last = bands[bands.length - 1];
    if (level <= 0) continue;
    if (last && last.level === level && last.to === times[i]) last.to = end;
    else bands.push({ level, from: times[i]!, to: end });
  }
  return bands;
}

const cssVar = (name: string, fallback: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

const LEVEL_COLOURS = ['--ok', '--elevated', '--high', '--critical'];

/** The level's colour at the given opacity (0-255 as two hex digits). */
function levelColour(level: number, alpha: string): string {
  const c = cssVar(LEVEL_COLOURS[level] ?? '--critical', '#c92a2a');
  return /^#[0-9a-f]{6}$/i.test(c) ? `${c}${alpha}` : c;
}

/**
 * uPlot's columns (seconds, then each series), with a point of nulls one step after each gap, so a line
 * stops where readings stop instead of joining across the hole.
 */
function withBreaks(data: ChartData): Array<Array<number | null>> {
  const step = typicalStep(data.times);
  const gap = gapAfter(step);
  const x: number[] = [];
  const ys: Array<Array<number | null>> = data.series.map(() => []);
  data.times.forEach((t, i) => {
    x.push(t / 1000);
    data.series.forEach((s, j) => {
      ys[j]!.push(s.values[i] ?? null);
    });
    const next = data.times[i + 1];
    if (next !== undefined && next - t > gap) {
      x.push((t + step) / 1000);
      for (const y of ys) y.push(null);
    }
  });
  return [x, ...ys];
}

export class Chart {
  private plot: uPlot | null = null;
  private data: ChartData = { times: [], series: [] };
  private seq = 0;

  constructor(
    readonly host: HTMLElement,
    private readonly opts: ChartOptions,
  ) {}

  /** Draws `data`; a host not on screen yet is drawn once it is (its width is known then). */
  set(data: ChartData, wait = 30): void {
    const seq = ++this.seq;
    if (!this.host.isConnected) {
      if (wait > 0) requestAnimationFrame(() => seq === this.seq && this.set(data, wait - 1));
      return;
    }
    this.data = data;
    const aligned = withBreaks(data);
    const labels = data.series.map((s) => s.label).join('\n');
    if (this.plot && this.host.dataset['labels'] === labels && this.host.isConnected) {
      this.plot.setData(aligned as uPlot.AlignedData);
    } else {
      this.plot?.destroy();
      this.host.replaceChildren();
      this.host.dataset['labels'] = labels;
      this.plot = new uPlot(this.options(), aligned as uPlot.AlignedData, this.host);
    }
    this.describe();
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }

  private options(): uPlot.Options {
    const { yRange, yFormat, height } = this.opts;
    return {
      width: Math.max(280, this.host.clientWidth || 600),
      height: height ?? 220,
      scales: { x: { time: true }, y: yRange ? { range: yRange } : { auto: true } },
      series: [{}, ...this.data.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5 }))],
      axes: [{}, { values: (_u, v) => v.map((x) => yFormat(x)), size: 60 }],
      hooks: { drawClear: [(u) => this.drawBands(u)], draw: [(u) => this.drawMarkers(u)] },
    };
  }

  private drawBands(u: uPlot): void {
    const { ctx, bbox } = u;
    ctx.save();
    for (const b of levelBands(this.data.times, this.data.levels ?? [])) {
      const x0 = Math.max(bbox.left, u.valToPos(b.from / 1000, 'x', true));
      const x1 = Math.min(bbox.left + bbox.width, u.valToPos(b.to / 1000, 'x', true));
      if (x1 <= x0) continue;
      ctx.fillStyle = levelColour(b.level, '33');
      ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
    }
    ctx.restore();
  }

  private drawMarkers(u: uPlot): void {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.strokeStyle = levelColour(3, '');
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.font = `${11 * devicePixelRatio}px sans-serif`;
    for (const m of this.visibleMarkers()) {
      const x = u.valToPos(m.time / 1000, 'x', true);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillText(m.label, x + 3 * devicePixelRatio, bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  }

  private visibleMarkers(): Array<{ time: number; label: string }> {
    const first = this.data.times[0];
    const last = this.data.times[this.data.times.length - 1];
    if (first === undefined || last === undefined) return [];
    return (this.data.markers ?? []).filter((m) => m.time >= first && m.time <= last);
  }

  /** What is drawn, as data attributes and a text legend under the chart. */
  private describe(): void {
    const bands = levelBands(this.data.times, this.data.levels ?? []);
    const counts = new Map<string, number>();
    for (const b of bands) {
      const name = LEVELS[b.level] ?? String(b.level);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    const markers = this.visibleMarkers();
    this.host.dataset['points'] = String(this.data.times.length);
    this.host.dataset['bands'] = [...counts].map(([k, n]) => `${k}:${n}`).join(' ');
    this.host.dataset['markers'] = String(markers.length);
    let legend = this.host.nextElementSibling;
    if (!legend?.classList.contains('chart-notes')) {
      legend = h('ul', { class: 'chart-notes muted' });
      this.host.after(legend);
    }
    legend.replaceChildren(
      ...bands.slice(-5).map((b) =>
        h(
          'li',
          {
            class: `band ${LEVELS[b.level] ?? ''}`,
            'data-from': String(b.from),
            'data-to': String(b.to),
          },
          `${LEVELS[b.level] ?? b.level} from ${time(b.from)} to ${time(b.to)}`,
        ),
      ),
      ...markers.map((m) => h('li', { class: 'marker' }, `${m.label} at ${time(m.time)}`)),
    );
  }
}
