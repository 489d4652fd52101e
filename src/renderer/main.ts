import uPlot from 'uplot';
import { createClient, type Json, type Page, type SentinelClient } from './client.js';
import { bytes, percent, ratio, time } from './format.js';

/** Creates an element: h('div', { class: 'x' }, 'text', child). Text is always set as text, never HTML. */
function h(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string | null>
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== null) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const client: SentinelClient = createClient(window as unknown as { exoSentinel?: never });
const view = document.getElementById('view')!;
const TABS = ['Overview', 'Panics', 'Guard', 'Cluster', 'Advisory', 'Settings'] as const;
type Tab = (typeof TABS)[number];
let current: Tab = 'Overview';
let status: Json = {};
let chart: uPlot | null = null;
const series: [number[], Array<number | null>, Array<number | null>, Array<number | null>] = [[], [], [], []];

function setLevel(level: unknown): void {
  const el = document.getElementById('level')!;
  const l = typeof level === 'string' ? level : 'unknown';
  el.textContent = l;
  el.className = `badge ${l}`;
}

function card(k: string, v: string): HTMLElement {
  return h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v));
}

function pushSample(s: Json): void {
  const m = (s['memory'] ?? {}) as Json;
  const g = (s['gpu'] ?? {}) as Json;
  series[0].push((s['time'] as number) / 1000);
  series[1].push(ratio(m['wired'], m['usable'] ?? m['total']));
  series[2].push(ratio(g['inUseBytes'], g['ceilingBytes']));
  series[3].push(typeof m['freePercent'] === 'number' ? (m['freePercent'] as number) : null);
  const cut = series[0].length - 7200;
  if (cut > 0) for (const a of series) a.splice(0, cut);
}

function drawChart(host: HTMLElement): void {
  const width = Math.max(280, host.clientWidth || 600);
  chart?.destroy();
  chart = new uPlot(
    {
      width,
      height: 220,
      scales: { y: { range: [0, 100] } },
      series: [
        {},
        { label: 'wired % RAM', stroke: '#d9480f' },
        { label: 'GPU in use % ceiling', stroke: '#1a73e8' },
        { label: 'free %', stroke: '#1e8e3e' },
      ],
      axes: [{}, { values: (_u, v) => v.map((x) => `${x}%`) }],
    },
    series as unknown as uPlot.AlignedData,
    host,
  );
  host.dataset['points'] = String(series[0].length);
}

function renderOverview(): void {
  const s = (status['sample'] ?? {}) as Json;
  const m = (s['memory'] ?? {}) as Json;
  const g = (s['gpu'] ?? {}) as Json;
  const risk = (status['risk'] ?? {}) as Json;
  const exo = (status['exo'] ?? {}) as Json;
  const reasons = (risk['reasons'] as Array<{ level: string; message: string }> | undefined) ?? [];
  const hold = status['hold'] as Json | null;
  const ackButton = h('button', { class: 'action', id: 'ack' }, 'Acknowledge panic');
  ackButton.addEventListener('click', () => void client.ack().then(refresh));
  const chartHost = h('div', { id: 'chart' });
  const parts: Array<Node | null> = [
    h('h2', {}, 'Level'),
    h(
      'div',
      { id: 'level-detail' },
      `${String(risk['level'] ?? '—').toUpperCase()} since ${time(risk['since'])} · guard ${String(status['guardMode'] ?? '—')}`,
    ),
    reasons.length
      ? h('ul', { class: 'reasons' }, ...reasons.map((r) => h('li', { class: r.level }, r.message)))
      : h('p', { class: 'muted' }, 'All signals within limits.'),
    hold ? h('p', { class: 'error' }, `Post-panic hold: ${String(hold['reason'])} `, ackButton) : null,
    h('h2', {}, 'Now'),
    h(
      'div',
      { class: 'cards' },
      card('memory free', percent(m['freePercent'])),
      card('wired', bytes(m['wired'])),
      card('GPU in use', `${bytes(g['inUseBytes'])} / ${bytes(g['ceilingBytes'])}`),
      card('swap used', bytes(m['swapUsed'])),
      card('pressure', String(m['pressureLevel'] ?? '—')),
      card('EXO', exo['reachable'] ? `up · ${String(exo['inFlight'])} in flight` : 'not reachable'),
    ),
    h('h2', {}, 'Last hour'),
    chartHost,
    h('h2', {}, 'Processes'),
    processTable(s),
    h('h2', {}, 'EXO instances'),
    instanceTable(exo),
  ];
  view.replaceChildren(...parts.filter((p): p is Node => p !== null));
  drawChart(chartHost);
}

function processTable(s: Json): HTMLElement {
  const rows = ((s['processes'] as Json[] | undefined) ?? []).map((p) =>
    h(
      'tr',
      {},
      h('td', {}, String(p['pid'])),
      h('td', {}, String(p['role'])),
      h('td', {}, bytes(p['physFootprint'])),
      h('td', {}, bytes(p['rss'])),
      h('td', {}, percent(p['cpuPercent'])),
    ),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('tr', {}, ...['PID', 'Role', 'Footprint', 'RSS', 'CPU'].map((c) => h('th', {}, c))),
      ...(rows.length
        ? rows
        : [h('tr', {}, h('td', { colspan: '5', class: 'muted' }, 'No EXO or MLX process found.'))]),
    ),
  );
}

function instanceTable(exo: Json): HTMLElement {
  const inst = (exo['instances'] as Json[] | undefined) ?? [];
  const runners = (exo['runners'] as Json[] | undefined) ?? [];
  const rows = inst.map((i) =>
    h(
      'tr',
      {},
      h('td', {}, String(i['modelId'])),
      h('td', {}, String(i['kind'])),
      h('td', {}, String(((i['shards'] as Json[]) ?? []).length)),
    ),
  );
  return h(
    'div',
    {},
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h('tr', {}, h('th', {}, 'Model'), h('th', {}, 'Kind'), h('th', {}, 'Shards')),
        ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'None.'))]),
      ),
    ),
    h('p', { class: 'muted' }, `Runners: ${runners.map((r) => String(r['status'])).join(', ') || 'none'}`),
  );
}

/**
 * A list that grows by pages, newest first: an "Older" button below `table` while the daemon says there is
 * more (its `truncated` and `next` cursor); each click appends the next page's rows.
 */
function pager(
  table: HTMLElement,
  first: Page,
  more: (before: number) => Promise<Page>,
  row: (item: Json) => HTMLElement,
  label: string,
): HTMLElement {
  const footer = h('p', { class: 'muted pager' });
  const show = (page: Page): void => {
    if (!page.truncated || page.next === null) return void footer.replaceChildren();
    const cursor = page.next;
    const button = h('button', { type: 'button', class: 'action', 'data-before': String(cursor) }, label);
    button.addEventListener('click', () => {
      void more(cursor).then((next) => {
        table.append(...next.items.map(row));
        show(next);
      });
    });
    footer.replaceChildren('More than shown. ', button);
  };
  show(first);
  return footer;
}

async function renderPanics(): Promise<void> {
  const page = await client.panics();
  const detail = h('div', { id: 'report' });
  const panicRow = (r: Json): HTMLElement => {
    const tr = h(
      'tr',
      { class: 'clickable', 'data-id': String(r['id']) },
      h('td', {}, String(r['id'])),
      h('td', {}, time(r['panicTime'] ?? r['mtime'])),
      h('td', {}, String(r['category'] ?? '—')),
      h('td', {}, String(r['kind'] ?? r['status'])),
      h('td', {}, r['pid'] === null ? '—' : `${String(r['pid'])} ${String(r['processName'] ?? '')}`),
      h('td', {}, ((r['attribution'] as Json | null)?.['verdict'] as string | undefined) ?? '—'),
    );
    tr.addEventListener('click', () => void showReport(Number(r['id']), detail));
    return tr;
  };
  const rows = page.items.map(panicRow);
  const table = h(
    'table',
    { id: 'panic-list' },
    h('tr', {}, ...['ID', 'Time', 'Category', 'Kind', 'Process', 'Was'].map((c) => h('th', {}, c))),
    ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No panic reports.'))]),
  );
  view.replaceChildren(
    h('h2', {}, 'Panics and crash reports'),
    h('div', { class: 'table-wrap' }, table),
    pager(table, page, (before) => client.panics(before), panicRow, 'Older reports'),
    detail,
  );
}

async function showReport(id: number, host: HTMLElement): Promise<void> {
  let text: string;
  try {
    text = await client.panicReport(id);
  } catch (e) {
    host.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
    return;
  }
  const copy = h('button', { class: 'action' }, 'Copy report');
  copy.addEventListener(
    'click',
    () => void navigator.clipboard.writeText(text).then(() => (copy.textContent = 'Copied')),
  );
  host.replaceChildren(h('h2', {}, `Crash report ${id}`), copy, h('pre', { class: 'report' }, text));
}

async function renderGuard(): Promise<void> {
  const since = Date.now() - 24 * 3_600_000;
  // Newest first, one bounded page at a time.
  const page = await client.events('guard.request', since);
  const decisionRow = (e: Json): HTMLElement => {
    const d = (e['data'] ?? {}) as Json;
    return h(
      'tr',
      { 'data-event': String(e['id']) },
      h('td', {}, time(e['time'])),
      h('td', {}, String(d['decision'])),
      h('td', {}, String(d['status'])),
      h('td', {}, String(d['endpoint'])),
      h('td', {}, String(d['promptTokensEstimated'] ?? '—')),
      h('td', {}, bytes(d['kvBytesEstimated'])),
      h('td', {}, String(d['reason'] ?? '')),
    );
  };
  const table = h(
    'table',
    { id: 'guard-decisions' },
    h(
      'tr',
      {},
      ...['Time', 'Decision', 'Status', 'Endpoint', 'Prompt ≈', 'KV ≈', 'Reason'].map((c) => h('th', {}, c)),
    ),
    ...page.items.map(decisionRow),
  );
  const guard = status['guard'] as Json | null;
  view.replaceChildren(
    h('h2', {}, 'Guard decisions (24 h)'),
    h(
      'p',
      { class: 'muted' },
      guard
        ? `Listening on ${String(guard['host'])}:${String(guard['port'])} → ${String(guard['upstream'])}; mode ${String(status['guardMode'])}`
        : 'The guard is off.',
    ),
    guardModeControl(),
    h('div', { class: 'table-wrap' }, table),
    pager(
      table,
      page,
      (before) => client.events('guard.request', since, before),
      decisionRow,
      'Older decisions',
    ),
  );
}

const GUARD_OPTIONS: Array<[string, string]> = [
  ['auto', 'Automatic, by risk level'],
  ['open', 'Open'],
  ['serialise', 'Serialise requests'],
  ['refuse-new', 'Refuse new requests'],
  ['cancel-newest', 'Cancel the newest request'],
];

/** Pins the guard's mode by hand, or lets the risk level choose it (`auto`). */
function guardModeControl(): HTMLElement {
  const override = status['guardOverride'] as string | null | undefined;
  const select = h(
    'select',
    { id: 'guard-mode', 'aria-label': 'Guard mode' },
    ...GUARD_OPTIONS.map(([value, label]) => {
      const o = h('option', { value }, label) as HTMLOptionElement;
      o.selected = value === (override ?? 'auto');
      return o;
    }),
  ) as HTMLSelectElement;
  const note = h('span', { class: 'muted', id: 'guard-mode-note' });
  select.addEventListener('change', () => {
    void client
      .setGuardMode(select.value)
      .then(async () => {
        await refresh();
        document.getElementById('guard-mode-note')!.textContent =
          select.value === 'auto' ? 'following the risk level' : 'pinned by hand';
      })
      .catch((e: Error) => {
        note.textContent = e.message;
      });
  });
  return h('p', {}, h('label', { for: 'guard-mode' }, 'Mode: '), select, ' ', note);
}

async function renderCluster(): Promise<void> {
  view.replaceChildren(h('p', { class: 'muted' }, 'Asking the other nodes…'));
  const c = await client.cluster();
  const rows = ((c['rows'] as Json[] | undefined) ?? []).map((r) => {
    const mem = (r['memory'] ?? {}) as Json;
    const gpu = (r['gpu'] ?? {}) as Json;
    return h(
      'tr',
      {},
      h('td', {}, String(r['host'])),
      h('td', {}, r['reachable'] ? String(r['level'] ?? '—') : `unreachable: ${String(r['error'])}`),
      h('td', {}, percent(mem['freePercent'])),
      h('td', {}, `${bytes(gpu['inUseBytes'])} / ${bytes(gpu['ceilingBytes'])}`),
      h('td', {}, String(r['panics72h'] ?? '—')),
      h(
        'td',
        {},
        ((r['reasons'] as Array<{ message: string }> | undefined) ?? []).map((x) => x.message).join('; '),
      ),
    );
  });
  view.replaceChildren(
    h('h2', {}, 'Cluster'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'cluster' },
        h(
          'tr',
          {},
          ...['Host', 'Level', 'Free', 'GPU in use', 'Panics 72 h', 'Reasons'].map((x) => h('th', {}, x)),
        ),
        ...rows,
      ),
    ),
  );
}

async function renderAdvisory(): Promise<void> {
  const a = await client.advisory();
  const p = (a['platform'] ?? {}) as Json;
  const models = (a['models'] as Json[] | undefined) ?? [];
  view.replaceChildren(
    h('h2', {}, 'Platform advisory'),
    h('p', {}, `${String(p['verdict'])}: ${String(p['summary'])}`),
    ...((p['builds'] as Json[] | undefined) ?? []).map((b) =>
      h(
        'p',
        { class: 'muted' },
        `macOS ${String(b['macos'])} (${String(b['build'])}): ${((b['sources'] as string[]) ?? []).join(' ')}`,
      ),
    ),
    h('h2', {}, 'Loaded models with public panic reports'),
    models.length
      ? h(
          'ul',
          {},
          ...models.map((m) =>
            h(
              'li',
              {},
              `${String(m['model'])} — ${String(m['kind'])} on ${String(m['hardware'])} (${String(m['workload'])}) ${String(m['source'])}`,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'None.'),
  );
}

async function renderSettings(): Promise<void> {
  const c = await client.config();
  const area = h('textarea', { id: 'config', spellcheck: 'false' }) as HTMLTextAreaElement;
  area.value = JSON.stringify(c['config'], null, 2);
  const out = h('div', {});
  const save = h('button', { class: 'action', id: 'save-config' }, 'Save');
  save.addEventListener('click', async () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(area.value);
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, `Not JSON: ${(e as Error).message}`));
      return;
    }
    const r = await client.saveConfig(parsed);
    out.replaceChildren(
      r.ok
        ? h('p', { id: 'config-saved' }, 'Saved. It takes effect when the daemon restarts.')
        : h('ul', { class: 'error', id: 'config-errors' }, ...r.errors.map((e) => h('li', {}, e))),
    );
  });
  view.replaceChildren(
    h('h2', {}, 'Settings'),
    h('p', { class: 'muted' }, String(c['path'])),
    h(
      'p',
      { class: 'muted' },
      'Tokens are shown masked; leave a mask as it is to keep that token. Programs to run (actions.notify.command, gpu.mlxPython) are set only by editing the file.',
    ),
    area,
    save,
    out,
  );
}

async function render(): Promise<void> {
  for (const b of document.querySelectorAll('nav button'))
    b.classList.toggle('active', b.textContent === current);
  try {
    if (current === 'Overview') renderOverview();
    else if (current === 'Panics') await renderPanics();
    else if (current === 'Guard') await renderGuard();
    else if (current === 'Cluster') await renderCluster();
    else if (current === 'Advisory') await renderAdvisory();
    else await renderSettings();
  } catch (e) {
    view.replaceChildren(h('p', { class: 'error' }, (e as Error).message));
  }
}

async function refresh(): Promise<void> {
  status = await client.status();
  const id = (status['identity'] ?? {}) as Json;
  document.getElementById('host')!.textContent = String(id['hostname'] ?? '');
  setLevel((status['risk'] as Json | undefined)?.['level']);
  await render();
}

/**
 * Opens a view by name, `Tab` or `Panics:<report id>` (from a notification or the menu bar, or the page's
 * `#hash` in a browser). Unknown names are ignored.
 */
async function openView(name: string): Promise<void> {
  const [tab, id] = name.split(':');
  if (!(TABS as readonly string[]).includes(tab ?? '')) return;
  current = tab as Tab;
  await render();
  const reportId = Number(id);
  const host = document.getElementById('report');
  if (current === 'Panics' && Number.isInteger(reportId) && reportId > 0 && host)
    await showReport(reportId, host);
}

async function start(): Promise<void> {
  const tabs = document.getElementById('tabs')!;
  for (const t of TABS) {
    const b = h('button', { type: 'button' }, t);
    b.addEventListener('click', () => {
      current = t;
      void render();
    });
    tabs.append(b);
  }
  const tl = await client.timeline(Date.now() - 3_600_000, Date.now());
  for (const s of (tl['samples'] as Json[] | undefined) ?? []) pushSample(s);
  await refresh();
  client.subscribe((event, data) => {
    if (event === 'sample') {
      pushSample(data['sample'] as Json);
      status = {
        ...status,
        sample: data['sample'],
        risk: { ...((status['risk'] as Json) ?? {}), level: data['level'], reasons: data['reasons'] },
      };
      setLevel(data['level']);
      if (current === 'Overview') renderOverview();
    } else if (event === 'panic') {
      void refresh();
    } else if (event === 'level') {
      setLevel(data['level']);
    } else if (event === 'navigate') {
      void openView(String(data['view'] ?? ''));
    }
  });
  if (location.hash.length > 1) await openView(decodeURIComponent(location.hash.slice(1)));
  document.getElementById('footer')!.textContent = 'exo-sentinel · live';
}

void start();
