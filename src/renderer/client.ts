import type { SentinelBridge } from '../shared/bridge.js';

/**
 * The dashboard's one interface to the watchdog. Two implementations: HTTP + Server-Sent Events (the page
 * served by the daemon's API, in any browser) and the preload bridge (the Electron window).
 */
export type Json = Record<string, unknown>;

/** One page of a list, newest first; `next` is the cursor for older items (null: none). */
export interface Page {
  items: Json[];
  truncated: boolean;
  next: number | null;
}

/** Pages of the timeline followed per request (each one bounded by the daemon). */
const MAX_TIMELINE_PAGES = 8;

/** A page from either shape: `{<key>: [...], truncated, next}` or, from an older peer, a bare array. */
function toPage(v: unknown, key: string): Page {
  if (Array.isArray(v)) return { items: v as Json[], truncated: false, next: null };
  const o = (v ?? {}) as Json;
  return {
    items: (o[key] as Json[] | undefined) ?? [],
    truncated: o['truncated'] === true,
    next: typeof o['next'] === 'number' ? (o['next'] as number) : null,
  };
}

/** A timeline range: bounded pages followed in turn (`next` is the following page's `from`). */
async function followTimeline(first: (from: number) => Promise<Json>, from: number): Promise<Json> {
  let page = await first(from);
  const samples = [...((page['samples'] as Json[] | undefined) ?? [])];
  const minutes = [...((page['minutes'] as Json[] | undefined) ?? [])];
  for (let i = 1; i < MAX_TIMELINE_PAGES && typeof page['next'] === 'number'; i++) {
    page = await first(page['next'] as number);
    samples.push(...((page['samples'] as Json[] | undefined) ?? []));
    minutes.push(...((page['minutes'] as Json[] | undefined) ?? []));
  }
  return { ...page, samples, minutes };
}

export interface SentinelClient {
  status(): Promise<Json>;
  /** The range's samples (or minutes), following the daemon's bounded pages up to a few. */
  timeline(fromMs: number, toMs: number): Promise<Json>;
  /** Events of a kind since `fromMs`, newest first; `before` asks for the page after an earlier one. */
  events(kind: string, fromMs: number, before?: number): Promise<Page>;
  /** Reports newest first; `before` asks for the page after an earlier one. */
  panics(before?: number): Promise<Page>;
  panicReport(id: number): Promise<string>;
  cluster(): Promise<Json>;
  advisory(): Promise<Json>;
  config(): Promise<Json>;
  saveConfig(config: unknown): Promise<{ ok: boolean; errors: string[] }>;
  ack(): Promise<Json>;
  /** `auto` follows the risk level; any other mode pins the guard to it. */
  setGuardMode(mode: string): Promise<Json>;
  /** Live updates: `sample`, `level`, `panic`, `event`. Returns an unsubscribe function. */
  subscribe(on: (event: string, data: Json) => void): () => void;
}

async function getJson(path: string): Promise<Json> {
  const r = await fetch(path, { headers: { accept: 'application/json' } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as Json;
}

export class HttpClient implements SentinelClient {
  constructor(private readonly base = '') {}

  status(): Promise<Json> {
    return getJson(`${this.base}/api/v1/status`);
  }
  timeline(fromMs: number, toMs: number): Promise<Json> {
    const to = Math.ceil(toMs);
    return followTimeline(
      (from) => getJson(`${this.base}/api/v1/timeline?from=${Math.floor(from)}&to=${to}`),
      fromMs,
    );
  }
  async events(kind: string, fromMs: number, before?: number): Promise<Page> {
    const cursor = before === undefined ? '' : `&before=${before}`;
    return toPage(
      await getJson(
        `${this.base}/api/v1/events?kind=${encodeURIComponent(kind)}&from=${Math.floor(fromMs)}${cursor}`,
      ),
      'events',
    );
  }
  async panics(before?: number): Promise<Page> {
    const cursor = before === undefined ? '' : `?before=${before}`;
    return toPage(await getJson(`${this.base}/api/v1/panics${cursor}`), 'reports');
  }
  async panicReport(id: number): Promise<string> {
    const r = await fetch(`${this.base}/api/v1/panics/${id}/report`);
    if (!r.ok) throw new Error(`report ${id}: HTTP ${r.status}`);
    return r.text();
  }
  cluster(): Promise<Json> {
    return getJson(`${this.base}/api/v1/cluster`);
  }
  advisory(): Promise<Json> {
    return getJson(`${this.base}/api/v1/advisory`);
  }
  config(): Promise<Json> {
    return getJson(`${this.base}/api/v1/config`);
  }
  async saveConfig(config: unknown): Promise<{ ok: boolean; errors: string[] }> {
    const r = await fetch(`${this.base}/api/v1/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    const body = (await r.json()) as { error?: { fields?: string[]; message?: string } };
    return r.ok
      ? { ok: true, errors: [] }
      : { ok: false, errors: body.error?.fields ?? [body.error?.message ?? `HTTP ${r.status}`] };
  }
  async ack(): Promise<Json> {
    const r = await fetch(`${this.base}/api/v1/ack`, { method: 'POST' });
    return (await r.json()) as Json;
  }
  async setGuardMode(mode: string): Promise<Json> {
    const r = await fetch(`${this.base}/api/v1/guard/mode`, {
      method: 'PUT',
      body: JSON.stringify({ mode }),
    });
    const body = (await r.json()) as Json & { error?: { message?: string } };
    if (!r.ok) throw new Error(body.error?.message ?? `HTTP ${r.status}`);
    return body;
  }
  subscribe(on: (event: string, data: Json) => void): () => void {
    const es = new EventSource(`${this.base}/api/v1/stream`);
    for (const name of ['status', 'sample', 'level', 'panic', 'event']) {
      es.addEventListener(name, (e) => on(name, JSON.parse((e as MessageEvent<string>).data) as Json));
    }
    return () => es.close();
  }
}

export type { SentinelBridge };

export class BridgeClient implements SentinelClient {
  constructor(private readonly bridge: SentinelBridge) {}
  private call<T>(channel: string, payload?: unknown): Promise<T> {
    return this.bridge.invoke(channel, payload) as Promise<T>;
  }
  status(): Promise<Json> {
    return this.call('status');
  }
  timeline(fromMs: number, toMs: number): Promise<Json> {
    const to = Math.ceil(toMs);
    return followTimeline((from) => this.call('timeline', { from: Math.floor(from), to }), fromMs);
  }
  async events(kind: string, fromMs: number, before?: number): Promise<Page> {
    const payload = { kind, from: Math.floor(fromMs), ...(before === undefined ? {} : { before }) };
    return toPage(await this.call('events', payload), 'events');
  }
  async panics(before?: number): Promise<Page> {
    return toPage(await this.call('panics', before === undefined ? undefined : { before }), 'reports');
  }
  panicReport(id: number): Promise<string> {
    return this.call('panicReport', { id });
  }
  cluster(): Promise<Json> {
    return this.call('cluster');
  }
  advisory(): Promise<Json> {
    return this.call('advisory');
  }
  config(): Promise<Json> {
    return this.call('config');
  }
  saveConfig(config: unknown): Promise<{ ok: boolean; errors: string[] }> {
    return this.call('saveConfig', config);
  }
  ack(): Promise<Json> {
    return this.call('ack');
  }
  setGuardMode(mode: string): Promise<Json> {
    return this.call('setGuardMode', { mode });
  }
  subscribe(on: (event: string, data: Json) => void): () => void {
    return this.bridge.onEvent(on);
  }
}

/** The bridge in the Electron window, HTTP in a browser. */
export function createClient(w: { exoSentinel?: SentinelBridge }): SentinelClient {
  return w.exoSentinel ? new BridgeClient(w.exoSentinel) : new HttpClient();
}
