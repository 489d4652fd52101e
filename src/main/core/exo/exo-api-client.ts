import { fetchErrorText } from '../util/fetch-error.js';

/**
 * A small client for EXO's HTTP API. EXO down, slow, restarting or answering garbage is a state the
 * caller records, never an exception: every call returns a value.
 */
export type ExoFailure = 'down' | 'timeout' | 'http' | 'garbage';
export type ExoResult<T> =
  | { ok: true; value: T; status: number }
  | { ok: false; kind: ExoFailure; error: string; status: number | null };

export class ExoApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 2000,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async request(method: string, path: string): Promise<ExoResult<unknown>> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      if (err.name === 'TimeoutError' || err.name === 'AbortError') {
        return {
          ok: false,
          kind: 'timeout',
          error: `${method} ${url}: no answer within ${this.timeoutMs} ms`,
          status: null,
        };
      }
      return {
        ok: false,
        kind: 'down',
        error: `${method} ${url}: ${fetchErrorText(err)}`,
        status: null,
      };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      return {
        ok: false,
        kind: 'down',
        error: `${method} ${url}: connection lost (${(e as Error).message})`,
        status: res.status,
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        ok: false,
        kind: 'garbage',
        error: `${method} ${url}: HTTP ${res.status}, not JSON: ${JSON.stringify(text.slice(0, 80))}`,
        status: res.status,
      };
    }
    if (!res.ok) {
      const message = (body as { error?: { message?: string } })?.error?.message ?? text.slice(0, 120);
      return {
        ok: false,
        kind: 'http',
        error: `${method} ${url}: HTTP ${res.status}: ${message}`,
        status: res.status,
      };
    }
    return { ok: true, value: body, status: res.status };
  }

  /** Liveness: this node's id (a new one on every EXO start). */
  async nodeId(): Promise<ExoResult<string>> {
    const r = await this.request('GET', '/node_id');
    if (!r.ok) return r;
    return typeof r.value === 'string'
      ? { ok: true, value: r.value, status: r.status }
      : {
          ok: false,
          kind: 'garbage',
          error: `/node_id returned ${JSON.stringify(r.value).slice(0, 80)}, not a string`,
          status: r.status,
        };
  }

  /** One `/state/<key>` sub-tree. Never the whole `/state`, never `/events`. */
  state(
    key: 'nodeMemory' | 'nodeIdentities' | 'instances' | 'runners' | 'tasks' | 'topology',
  ): Promise<ExoResult<unknown>> {
    return this.request('GET', `/state/${key}`);
  }

  deleteInstance(instanceId: string): Promise<ExoResult<unknown>> {
    return this.request('DELETE', `/instance/${encodeURIComponent(instanceId)}`);
  }

  cancel(commandId: string): Promise<ExoResult<unknown>> {
    return this.request('POST', `/v1/cancel/${encodeURIComponent(commandId)}`);
  }
}
