import type {
  AdvisoryView,
  ClusterView,
  ConfigPatch,
  ConfigSaveResult,
  ConfigView,
  EventView,
  GuardProfile,
  JsonSchemaNode,
  ListPage,
  ReportView,
  StatusView,
  TimelinePageView,
} from '../shared/api-contracts.js';
import { RAW_LIMIT_MS } from '../shared/api-contracts.js';
import type { SentinelBridge } from '../shared/bridge.js';
import { type LiveEvent, STREAM_EVENTS } from '../shared/live-events.js';

/**
 * The dashboard's one interface to the watchdog. Two implementations: HTTP + Server-Sent Events (the page
 * served by the daemon's API, in any browser) and the preload bridge (the Electron window).
 */
export type Json = Record<string, unknown>;

export type Page<T = Json> = ListPage<T>;

import type { StreamState } from './liveness.js';

export type { StreamState };

/** A refused event stream is asked for again after this, doubling up to the maximum. */
const RETRY_MIN_MS = 2_000;
const RETRY_MAX_MS = 60_000;

/** What the daemon pushes (SSE in a browser, the push channel in the app): typed in src/shared/live-events.ts. */
export type { LiveEvent };

/** Timeline resolution: raw samples, or the store's per-minute roll-ups. */
export type Resolution = 'raw' | 'minute';

/** Pages of the timeline followed per request (each one bounded by the daemon). */
const MAX_TIMELINE_PAGES = 8;

/** A page from either shape: `{<key>: [...], truncated, next}` or, from an older peer, a bare array. */
function toPage<T>(v: unknown, key: string): Page<T> {
  if (Array.isArray(v)) return { items: v as T[], truncated: false, next: null };
  const o = (v ?? {}) as Json;
  return {
    items: (o[key] as T[] | undefined) ?? [],
    truncated: o['truncated'] === true,
    next: typeof o['next'] === 'number' ? (o['next'] as number) : null,
  };
}

/** A timeline range: bounded pages followed in turn (`next` is the following page's `from`). */
async function followTimeline(
  first: (from: number) => Promise<TimelinePageView>,
  from: number,
): Promise<TimelinePageView> {
  let page = await first(from);
  const samples = [...(page.samples ?? [])];
  const minutes = [...(page.minutes ?? [])];
  for (let i = 1; i < MAX_TIMELINE_PAGES && typeof page.next === 'number'; i++) {
    page = await first(page.next);
    samples.push(...(page.samples ?? []));
    minutes.push(...(page.minutes ?? []));
  }
  return { ...page, samples, minutes };
}

export interface SentinelClient {
  status(): Promise<StatusView>;
  /** The range's samples (or minutes), following the daemon's bounded pages up to a few. */
  timeline(fromMs: number, toMs: number, resolution: Resolution): Promise<TimelinePageView>;
  /** Events of a kind since `fromMs`, newest first; `before` asks for the page after an earlier one. */
  events(kind: string, fromMs: number, before?: number): Promise<Page<EventView>>;
  /** Reports newest first; `before` asks for the page after an earlier one. */
  panics(before?: number): Promise<Page<ReportView>>;
  panicReport(id: number): Promise<string>;
  cluster(): Promise<ClusterView>;
  advisory(): Promise<AdvisoryView>;
  config(): Promise<ConfigView>;
  /** The configuration's JSON Schema; rejects when this daemon does not serve it. */
  configSchema(): Promise<JsonSchemaNode>;
  saveConfig(config: unknown): Promise<{ ok: boolean; errors: string[] }>;
  /** Changes the keys named and keeps the rest of the stored file; answers with what applied. */
  patchConfig(patch: ConfigPatch): Promise<ConfigSaveResult>;
  ack(): Promise<Json>;
  /** `auto` follows the risk level; any other mode pins the guard to it. */
  setGuardMode(mode: string): Promise<Json>;
  /** The guard profile; rejects when this daemon does not serve it. */
  guardProfile(): Promise<GuardProfile>;
  setGuardProfile(profile: GuardProfile): Promise<GuardProfile>;
  /**
   * Live updates, and whether they flow (`onState`): a stream the daemon refused (503 when its stream slots
   * are full) or lost is tried again, and said so meanwhile. Returns an unsubscribe function.
   */
  subscribe(on: (e: LiveEvent) => void, onState?: (s: StreamState) => void): () => void;
}

/** A read the daemon does not answer in this long fails (a stopped daemon held the page's reads for ever). */
const READ_TIMEOUT_MS = 20_000;

async function getJson<T>(path: string): Promise<T> {
  const r = await fetch(path, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(READ_TIMEOUT_MS),
  });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

export class HttpClient implements SentinelClient {
  constructor(private readonly base = '') {}

  status(): Promise<StatusView> {
    return getJson(`${this.base}/api/v1/status`);
  }
  timeline(fromMs: number, toMs: number, resolution: Resolution): Promise<TimelinePageView> {
    const to = Math.ceil(toMs);
    return followTimeline(
      (from) =>
        getJson(`${this.base}/api/v1/timeline?from=${Math.floor(from)}&to=${to}&resolution=${resolution}`),
      fromMs,
    );
  }
  async events(kind: string, fromMs: number, before?: number): Promise<Page<EventView>> {
    const cursor = before === undefined ? '' : `&before=${before}`;
    return toPage(
      await getJson(
        `${this.base}/api/v1/events?kind=${encodeURIComponent(kind)}&from=${Math.floor(fromMs)}${cursor}`,
      ),
      'events',
    );
  }
  async panics(before?: number): Promise<Page<ReportView>> {
    const cursor = before === undefined ? '' : `?before=${before}`;
    return toPage(await getJson(`${this.base}/api/v1/panics${cursor}`), 'reports');
  }
  async panicReport(id: number): Promise<string> {
    const r = await fetch(`${this.base}/api/v1/panics/${id}/report`);
    if (!r.ok) throw new Error(`report ${id}: HTTP ${r.status}`);
    return r.text();
  }
  cluster(): Promise<ClusterView> {
    return getJson(`${this.base}/api/v1/cluster`);
  }
  advisory(): Promise<AdvisoryView> {
    return getJson(`${this.base}/api/v1/advisory`);
  }
  config(): Promise<ConfigView> {
    return getJson(`${this.base}/api/v1/config`);
  }
  configSchema(): Promise<JsonSchemaNode> {
    return getJson(`${this.base}/api/v1/config/schema`);
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
  async patchConfig(patch: ConfigPatch): Promise<ConfigSaveResult> {
    let r = await fetch(`${this.base}/api/v1/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
    // A daemon without PATCH takes the whole configuration: the change made on the one in use, sent whole.
    if (r.status === 404 || r.status === 405)
      r = await fetch(`${this.base}/api/v1/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(applyPatch((await this.config()).config, patch)),
      });
    const body = (await r.json().catch(() => ({}))) as {
      applied?: string[];
      restartRequired?: string[];
      error?: { fields?: string[]; message?: string };
    };
    return r.ok
      ? { ok: true, errors: [], applied: body.applied ?? [], restartRequired: body.restartRequired ?? [] }
      : {
          ok: false,
          errors: body.error?.fields ?? [body.error?.message ?? `HTTP ${r.status}`],
          applied: [],
          restartRequired: [],
        };
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
  async guardProfile(): Promise<GuardProfile> {
    return ((await getJson(`${this.base}/api/v1/guard/profile`)) as { profile: GuardProfile }).profile;
  }
  async setGuardProfile(profile: GuardProfile): Promise<GuardProfile> {
    const r = await fetch(`${this.base}/api/v1/guard/profile`, {
      method: 'PUT',
      body: JSON.stringify({ profile }),
    });
    const body = (await r.json()) as { profile?: GuardProfile; error?: { message?: string } };
    if (!r.ok || !body.profile) throw new Error(body.error?.message ?? `HTTP ${r.status}`);
    return body.profile;
  }
  subscribe(on: (e: LiveEvent) => void, onState: (s: StreamState) => void = () => {}): () => void {
    let es: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let delay = RETRY_MIN_MS;
    let closed = false;
    const open = (): void => {
      const source = new EventSource(`${this.base}/api/v1/stream`);
      es = source;
      source.onopen = () => {
        delay = RETRY_MIN_MS;
        onState({ live: true });
      };
      source.onerror = () => {
        if (closed || es !== source) return;
        // CONNECTING: the browser tries again by itself (the daemon restarted, the network blinked). CLOSED: it
        // gave up (the daemon answered other than a stream, e.g. 503 with its stream slots full): a new one
        // is tried after a pause that doubles up to a minute.
        if (source.readyState !== EventSource.CLOSED) {
          onState({ live: false, why: 'the event stream was lost; reconnecting' });
          return;
        }
        source.close();
        onState({ live: false, why: `the event stream was refused; trying again in ${delay / 1000} s` });
        retry = setTimeout(open, delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      };
      for (const name of STREAM_EVENTS) {
        source.addEventListener(name, (e) =>
          on({ event: name, data: JSON.parse((e as MessageEvent<string>).data) } as LiveEvent),
        );
      }
    };
    open();
    return () => {
      closed = true;
      es?.close();
      if (retry) clearTimeout(retry);
    };
  }
}

export type { SentinelBridge };

/** A whole configuration with a change made on it (for a peer that takes only whole ones). */
function applyPatch(config: Json, patch: ConfigPatch): Json {
  let next = config;
  for (const k of patch.unset ?? []) next = withDotted(next, k, undefined);
  for (const [k, v] of Object.entries(patch.set ?? {})) next = withDotted(next, k, v);
  return next;
}

/** A copy of `o` with the dotted key set (undefined removes it). */
function withDotted(o: Json, dotted: string, value: unknown): Json {
  const [head, ...rest] = dotted.split('.');
  const key = head!;
  if (rest.length === 0) {
    const { [key]: _gone, ...others } = o;
    return value === undefined ? others : { ...others, [key]: value };
  }
  const child = o[key];
  const inner = child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Json) : {};
  return { ...o, [key]: withDotted(inner, rest.join('.'), value) };
}

export class BridgeClient implements SentinelClient {
  constructor(private readonly bridge: SentinelBridge) {}
  private call<T>(channel: string, payload?: unknown): Promise<T> {
    return this.bridge.invoke(channel, payload) as Promise<T>;
  }
  status(): Promise<StatusView> {
    return this.call('status');
  }
  /**
   * The app picks the resolution by span (raw up to 6 h): a roll-up asked for a span of 6 h or less
   * starts a minute earlier, so the app serves the minutes.
   */
  timeline(fromMs: number, toMs: number, resolution: Resolution): Promise<TimelinePageView> {
    const to = Math.ceil(toMs);
    const start =
      resolution === 'minute' && to - fromMs <= RAW_LIMIT_MS ? to - RAW_LIMIT_MS - 60_000 : fromMs;
    return followTimeline((from) => this.call('timeline', { from: Math.floor(from), to }), start);
  }
  async events(kind: string, fromMs: number, before?: number): Promise<Page<EventView>> {
    const payload = { kind, from: Math.floor(fromMs), ...(before === undefined ? {} : { before }) };
    return toPage(await this.call('events', payload), 'events');
  }
  async panics(before?: number): Promise<Page<ReportView>> {
    return toPage(await this.call('panics', before === undefined ? undefined : { before }), 'reports');
  }
  panicReport(id: number): Promise<string> {
    return this.call('panicReport', { id });
  }
  cluster(): Promise<ClusterView> {
    return this.call('cluster');
  }
  advisory(): Promise<AdvisoryView> {
    return this.call('advisory');
  }
  config(): Promise<ConfigView> {
    return this.call('config');
  }
  configSchema(): Promise<JsonSchemaNode> {
    return this.call('configSchema');
  }
  saveConfig(config: unknown): Promise<{ ok: boolean; errors: string[] }> {
    return this.call('saveConfig', config);
  }
  async patchConfig(patch: ConfigPatch): Promise<ConfigSaveResult> {
    const r = await this.call<Partial<ConfigSaveResult>>('patchConfig', patch);
    return {
      ok: r.ok === true,
      errors: r.errors ?? [],
      applied: r.applied ?? [],
      restartRequired: r.restartRequired ?? [],
    };
  }
  ack(): Promise<Json> {
    return this.call('ack');
  }
  setGuardMode(mode: string): Promise<Json> {
    return this.call('setGuardMode', { mode });
  }
  async guardProfile(): Promise<GuardProfile> {
    return (await this.call<{ profile: GuardProfile }>('guardProfile')).profile;
  }
  async setGuardProfile(profile: GuardProfile): Promise<GuardProfile> {
    return (await this.call<{ profile: GuardProfile }>('setGuardProfile', { profile })).profile;
  }
  subscribe(on: (e: LiveEvent) => void, onState: (s: StreamState) => void = () => {}): () => void {
    // The app's push channel is in-process: it flows while the window does.
    onState({ live: true });
    return this.bridge.onEvent((event, data) => on({ event, data } as LiveEvent));
  }
}

/** The bridge in the Electron window, HTTP in a browser. */
export function createClient(w: { exoSentinel?: SentinelBridge }): SentinelClient {
  return w.exoSentinel ? new BridgeClient(w.exoSentinel) : new HttpClient();
}
