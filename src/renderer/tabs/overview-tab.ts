import type { ExoView, StatusView } from '../../shared/api-contracts.js';
import type { RiskLevel } from '../../shared/risk.js';
import type { Sample } from '../../shared/sample.js';
import type { RenderTab, TabContext } from '../context.js';
import { card, h, table, tr } from '../dom.js';
import { bytes, messageNodes, percent, pressureWord, timeEl } from '../format.js';
import { TimelineCharts } from './timeline-charts.js';

let charts: TimelineCharts | null = null;
/** Why a field is unknown, from the daemon's `probe.unavailable` events (field → reason); read once. */
let unavailable: Map<string, string> | null = null;
let parts: { level: HTMLElement; now: HTMLElement; processes: HTMLElement; exo: HTMLElement } | null = null;

async function readUnavailable(ctx: TabContext): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  try {
    const page = await ctx.client.events('probe.unavailable', 0);
    for (const e of page.items) {
      const d = (e.data ?? {}) as { field?: string; reason?: string };
      if (d.field && d.reason && !m.has(d.field)) m.set(d.field, d.reason);
    }
  } catch {
    // Without the reasons the cards still say that a figure is unknown.
  }
  return m;
}

const why = (field: string): string | null => {
  for (const [k, v] of unavailable ?? [])
    if (k === field || k.startsWith(`${field}.`)) return `Not readable: ${v}`;
  return null;
};

export const renderOverview: RenderTab = async (panel, ctx) => {
  charts ??= new TimelineCharts(ctx.client);
  unavailable ??= await readUnavailable(ctx);
  const mounted = charts.mount();
  parts = {
    level: h('section', { id: 'level-section' }),
    now: h('div', { class: 'cards', id: 'now' }),
    processes: h('div', {}),
    exo: h('div', {}),
  };
  panel.replaceChildren(
    parts.level,
    h('h2', {}, 'Now'),
    parts.now,
    h('h2', {}, 'Memory and GPU'),
    mounted.memory,
    h('h2', {}, 'EXO processes'),
    mounted.processes,
    parts.processes,
    h('h2', {}, 'EXO instances and runners'),
    parts.exo,
  );
  update(ctx);
};

/** A live sample: the figures redrawn in place (focus and scroll stay), the charts extended. */
export function overviewSample(ctx: TabContext, sample: Sample, level: RiskLevel): void {
  charts?.push(sample, level);
  if (parts?.level.isConnected) update(ctx);
}

function update(ctx: TabContext): void {
  const s = ctx.status();
  if (!parts || !s) return;
  parts.level.replaceChildren(...levelSection(s, ctx));
  parts.now.replaceChildren(...nowCards(s));
  parts.processes.replaceChildren(processTable(s.sample));
  parts.exo.replaceChildren(...exoSection(s.exo));
}

function levelSection(s: StatusView, ctx: TabContext): Node[] {
  const risk = s.risk;
  const ack = h('button', { type: 'button', class: 'action', id: 'ack' }, 'Acknowledge panic');
  ack.addEventListener('click', () => void ctx.client.ack().then(() => ctx.refresh()));
  return [
    h('h2', {}, 'Level'),
    h(
      'div',
      { id: 'level-detail' },
      `${(risk?.level ?? '—').toUpperCase()} since `,
      timeEl(risk?.since),
      ` · guard ${s.guardMode ?? '—'}`,
    ),
    risk?.reasons?.length
      ? h(
          'ul',
          { class: 'reasons' },
          ...risk.reasons.map((r) => h('li', { class: r.level }, ...messageNodes(r.message))),
        )
      : h('p', { class: 'muted' }, 'All signals within limits.'),
    ...(s.hold
      ? [h('p', { class: 'error' }, 'Post-panic hold: ', ...messageNodes(s.hold.reason), ' ', ack)]
      : []),
  ];
}

/** The GPU figure and, when it is not whole, why. */
function gpuCard(s: StatusView): HTMLElement {
  const g = s.sample?.gpu;
  if (!g || (g.inUseBytes === null && g.ceilingBytes === null)) {
    const reason =
      why('gpu') ??
      (g?.sampledAt == null
        ? 'No GPU reading yet: the GPU probe has not reported (it is disabled on this platform or not yet due).'
        : 'GPU statistics not readable: IOAccelerator gave no figures.');
    return card('GPU in use', '— / —', reason, 'card-gpu');
  }
  if (g.ceilingBytes === null)
    return card(
      'GPU in use',
      `${bytes(g.inUseBytes)} / —`,
      'No ceiling known: neither the Metal working-set size nor iogpu.wired_limit_mb was read; set gpu.ceilingBytes.',
      'card-gpu',
    );
  if (g.inUseBytes === null)
    return card(
      'GPU in use',
      `— / ${bytes(g.ceilingBytes)}`,
      why('gpu') ?? 'GPU statistics not readable.',
      'card-gpu',
    );
  const estimated = g.ceilingSource === 'estimate' ? 'Ceiling estimated from RAM (see the reasons).' : null;
  return card('GPU in use', `${bytes(g.inUseBytes)} / ${bytes(g.ceilingBytes)}`, estimated, 'card-gpu');
}

function nowCards(s: StatusView): HTMLElement[] {
  const m = s.sample?.memory;
  const unknown = (field: string): string => why(field) ?? 'Not reported by this platform’s probe.';
  const pressure = pressureWord(m?.pressureLevel);
  const exo = s.exo;
  return [
    card(
      'memory free',
      percent(m?.freePercent),
      m?.freePercent == null ? unknown('memory.freePercent') : null,
      'card-free',
    ),
    card('wired', bytes(m?.wired), m?.wired == null ? unknown('memory.wired') : null, 'card-wired'),
    gpuCard(s),
    card(
      'swap used',
      bytes(m?.swapUsed),
      m?.swapUsed == null ? unknown('memory.swapUsed') : null,
      'card-swap',
    ),
    card(
      'memory pressure',
      pressure ?? '—',
      pressure ? null : unknown('memory.pressureLevel'),
      'card-pressure',
    ),
    card(
      'EXO',
      exo?.reachable ? `up · ${exo.inFlight} in flight` : 'not reachable',
      exo?.reachable ? null : (exo?.error ?? null),
      'card-exo',
    ),
  ];
}

function processTable(s: Sample | null): HTMLElement {
  const rows = (s?.processes ?? []).map((p) =>
    tr({}, String(p.pid), p.role, bytes(p.physFootprint), bytes(p.rss), percent(p.cpuPercent)),
  );
  return table(
    { id: 'processes' },
    ['PID', 'Role', 'Footprint', 'RSS', 'CPU'],
    rows,
    'No EXO or MLX process found.',
  ).wrap;
}

function exoSection(exo: ExoView | undefined): Node[] {
  const instances = (exo?.instances ?? []).map((i) =>
    tr({}, i.modelId ?? '—', i.kind, String(i.shards.length)),
  );
  const runners = (exo?.runners ?? []).map((r) => {
    const failed = r.status === 'RunnerFailed';
    const layers = r.totalLayers ? `${r.layersLoaded ?? 0}/${r.totalLayers}` : '—';
    const error = failed
      ? h(
          'span',
          { class: 'error' },
          r.errorMessage ?? 'EXO gave no error text',
          ...r.diagnostics.map((d) => h('div', { class: 'muted' }, d)),
        )
      : '';
    return h(
      'tr',
      { class: failed ? 'failed' : '', 'data-runner': r.runnerId },
      h('td', {}, r.runnerId),
      h('td', {}, r.status),
      h('td', {}, layers),
      h('td', {}, error),
    );
  });
  return [
    table({ id: 'instances' }, ['Model', 'Kind', 'Shards'], instances, 'None.').wrap,
    table({ id: 'runners' }, ['Runner', 'Status', 'Layers', 'Error'], runners, 'No runners.').wrap,
  ];
}
