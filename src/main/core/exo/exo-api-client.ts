import { httpRequest, keepAliveAgent } from '../util/http-request.js';

/** EXO's largest answer we read (a busy /state/tasks); a longer one is garbage, not held in memory. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

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
  /** Up to six small GETs a second to one server: the sockets are kept between them. */
  private readonly agent = keepAliveAgent();

  constructor(
    baseUrl: string,
    private readonly timeoutMs = 2000,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async request(method: string, path: string): Promise<ExoResult<unknown>> {
    const url = `${this.baseUrl}${path}`;
    const res = await httpRequest(url, {
      method,
      headers: { accept: 'application/json' },
      timeoutMs: this.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      agent: this.agent,
    });
    if (!res.ok) {
      if (res.kind === 'timeout')
        return { ok: false, kind: 'timeout', error: `${method} ${url}: ${res.error}`, status: null };
      if (res.kind === 'too-large')
        return { ok: false, kind: 'garbage', error: `${method} ${url}: ${res.error}`, status: res.status };
      return { ok: false, kind: 'down', error: `${method} ${url}: ${res.error}`, status: res.status };
    }
    const text = res.text;
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
    if (res.status < 200 || res.status > 299) {
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
