/** The dashboard's wiring: the tab bar, the status, live updates and navigation. Each tab is its own module. */
import type { StatusView } from '../shared/api-contracts.js';
import type { LiveEvent } from '../shared/live-events.js';
import { createClient, type SentinelClient } from './client.js';
import type { RenderTab, TabContext } from './context.js';
import { errorText, h } from './dom.js';
import { Liveness, POLL_MS } from './liveness.js';
import { renderAdvisory } from './tabs/advisory-tab.js';
import { renderCluster } from './tabs/cluster-tab.js';
import { renderGuard } from './tabs/guard-tab.js';
import { overviewSample, renderOverview } from './tabs/overview-tab.js';
import { renderPanics, showReport } from './tabs/panics-tab.js';
import { renderSettings } from './tabs/settings-tab.js';

const TABS = {
  Overview: renderOverview,
  Panics: renderPanics,
  Guard: renderGuard,
  Cluster: renderCluster,
  Advisory: renderAdvisory,
  Settings: renderSettings,
} satisfies Record<string, RenderTab>;
type Tab = keyof typeof TABS;
const TAB_NAMES = Object.keys(TABS) as Tab[];
const isTab = (v: string): v is Tab => (TAB_NAMES as string[]).includes(v);

const client: SentinelClient = createClient(window as unknown as { exoSentinel?: never });
const view = document.getElementById('view')!;
let current: Tab = 'Overview';
let status: StatusView | null = null;
/** Bumped per render: a slow tab that finishes after the user moved on is dropped, not shown. */
let generation = 0;

const ctx: TabContext = { client, status: () => status, refresh };

function setLevel(level: unknown): void {
  const el = document.getElementById('level')!;
  const l = typeof level === 'string' ? level : 'unknown';
  el.textContent = l;
  el.className = `badge ${l}`;
  el.setAttribute('aria-label', `risk level ${l}`);
}

const tabButton = (t: Tab): HTMLElement => document.getElementById(`tab-${t}`)!;

async function render(): Promise<void> {
  const gen = ++generation;
  const tab = current;
  for (const t of TAB_NAMES) {
    const b = tabButton(t);
    b.classList.toggle('active', t === tab);
    b.setAttribute('aria-selected', String(t === tab));
    b.tabIndex = t === tab ? 0 : -1;
  }
  view.setAttribute('aria-labelledby', `tab-${tab}`);
  view.setAttribute('aria-busy', 'true');
  const panel = h('div', { class: 'panel', 'data-tab': tab });
  try {
    await TABS[tab](panel, ctx);
  } catch (e) {
    panel.replaceChildren(h('p', { class: 'error' }, `${tab}: ${errorText(e)}`));
  }
  if (gen !== generation) return;
  view.replaceChildren(panel);
  view.dataset['tab'] = tab;
  view.removeAttribute('aria-busy');
}

/** Reads the status again for the header. */
async function readStatus(): Promise<void> {
  status = await client.status();
  document.getElementById('host')!.textContent = status.identity?.hostname ?? '';
  setLevel(status.risk?.level);
}

async function refresh(): Promise<void> {
  await readStatus();
  await render();
}

function select(t: Tab, focus = false): void {
  current = t;
  if (focus) tabButton(t).focus();
  void render();
}

/** A tablist: Tab reaches the selected tab; arrows, Home and End move between tabs and open them. */
function buildTabs(): void {
  const nav = document.getElementById('tabs')!;
  nav.setAttribute('role', 'tablist');
  nav.setAttribute('aria-label', 'Views');
  for (const t of TAB_NAMES) {
    const b = h('button', { type: 'button', role: 'tab', id: `tab-${t}`, 'aria-controls': 'view' }, t);
    b.addEventListener('click', () => select(t));
    nav.append(b);
  }
  nav.addEventListener('keydown', (e) => {
    const i = TAB_NAMES.indexOf(current);
    const n = TAB_NAMES.length;
    const to =
      e.key === 'ArrowRight'
        ? (i + 1) % n
        : e.key === 'ArrowLeft'
          ? (i + n - 1) % n
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? n - 1
              : -1;
    if (to < 0) return;
    e.preventDefault();
    select(TAB_NAMES[to]!, true);
  });
  view.setAttribute('role', 'tabpanel');
  view.tabIndex = 0;
}

/**
 * Opens a view by name, `Tab` or `Panics:<report id>` (from a notification or the menu bar, or the page's
 * `#hash` in a browser). Unknown names are ignored.
 */
async function openView(name: string): Promise<void> {
  const [tab, id] = name.split(':');
  if (!tab || !isTab(tab)) return;
  current = tab;
  await render();
  const reportId = Number(id);
  const host = document.getElementById('report');
  if (current === 'Panics' && Number.isInteger(reportId) && reportId > 0 && host)
    await showReport(client, reportId, host);
}

const liveness = new Liveness(Date.now());

function showLiveness(): void {
  const f = liveness.footer(Date.now(), (t) => new Date(t).toLocaleTimeString());
  const footer = document.getElementById('footer')!;
  footer.dataset['live'] = String(f.live);
  footer.textContent = f.text;
}

let polling = false;

/**
 * While not live: the status read again, the header and the overview's latest reading with it. The footer
 * is brought up to date first, since a daemon that stopped answering may hold the read for as long as it is
 * stopped; one read at a time.
 */
async function poll(): Promise<void> {
  showLiveness();
  if (polling || liveness.isLive(Date.now())) return;
  polling = true;
  try {
    await readStatus();
    liveness.polled(Date.now());
    if (current === 'Overview' && status?.sample) overviewSample(ctx, status.sample, status.risk?.level);
  } catch {
    // The daemon is not answering at all: the footer keeps the last update's time.
  } finally {
    polling = false;
  }
  showLiveness();
}

async function start(): Promise<void> {
  buildTabs();
  await refresh();
  client.subscribe(
    (e) => onLive(e),
    (state) => {
      liveness.streamChanged(state);
      showLiveness();
    },
  );
  setInterval(() => void poll(), POLL_MS);
  if (location.hash.length > 1) await openView(decodeURIComponent(location.hash.slice(1)));
  showLiveness();
}

function onLive(e: LiveEvent): void {
  if (e.event === 'sample') {
    liveness.sampled(Date.now());
    if (status)
      status = {
        ...status,
        sample: e.data.sample,
        risk: { ...status.risk, level: e.data.level, reasons: e.data.reasons },
      };
    setLevel(e.data.level);
    overviewSample(ctx, e.data.sample, e.data.level);
  } else if (e.event === 'panic') {
    // A form being edited is not redrawn under the user's hands: only the header follows.
    void (current === 'Settings' ? readStatus() : refresh());
  } else if (e.event === 'level') {
    setLevel(e.data.level);
  } else if (e.event === 'navigate') {
    void openView(String(e.data.view ?? ''));
  }
  showLiveness();
}

void start();
