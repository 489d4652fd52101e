import { plainText } from '../util/format.js';
import { httpRequest, keepAliveAgent } from '../util/http-request.js';
import { scanJsonLimits } from '../util/json-limits.js';

/** EXO's largest answer we read (a busy /state/tasks); a longer one is garbage, not held in memory. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
/**
 * EXO's state nests about ten levels (tagged unions of pydantic models); whatever answers on its port is
 * checked before it is parsed: 10 MB of `[` took the daemon to 1.4 GB of RSS and 70 % of a core.
 */
export const EXO_JSON_LIMITS = { maxDepth: 64, maxArrayItems: 200_000 } as const;
/**
 * The longest node id taken (EXO's are libp2p peer ids, about 52 characters). A longer answer is not one:
 * each new id is an `exo.restarted` event holding it, and /node_id is asked every poll.
 */
const MAX_NODE_ID_CHARS = 256;
/** `/node_id`'s answer read: its JSON string (≤ 256 characters, \uXXXX escapes included) or an error. */
const MAX_NODE_ID_BYTES = 4096;
/** How much of an error message from EXO's body is kept (it goes into events and the log). */
const MAX_MESSAGE_CHARS = 300;
/** EXO's errors are a line of JSON; a longer error body is quoted, not parsed. */
const MAX_PARSED_ERROR_BYTES = 64 * 1024;
/** A message from outside, as the log, the timeline and `status` show it: bounded, one line, no control characters. */
const clip = (text: string): string => {
  const shown = plainText(text.slice(0, MAX_MESSAGE_CHARS), MAX_MESSAGE_CHARS);
  return text.length > MAX_MESSAGE_CHARS ? `${shown}… (${text.length} characters)` : shown;
};
/** What a value is, in a few words (never the whole of it: it may be megabytes). */
const kindOf = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : clip(String(v));

/**
 * A small client for EXO's HTTP API. EXO down, slow, restarting or answering garbage is a state the
 * caller records, never an exception: every call returns a value.
 */
export type ExoFailure = 'down' | 'timeout' | 'http' | 'garbage';
export type ExoResult<T> =
  | { ok: true; value: T; status: number; bytes?: number }
  | { ok: false; kind: ExoFailure; error: string; status: number | null; bytes?: number };

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

  private async request(
    method: string,
    path: string,
    maxBytes = MAX_ANSWER_BYTES,
  ): Promise<ExoResult<unknown>> {
    const url = `${this.baseUrl}${path}`;
    const res = await httpRequest(url, {
      method,
      headers: { accept: 'application/json' },
      timeoutMs: this.timeoutMs,
      maxBytes,
      agent: this.agent,
    });
    const fail = (kind: ExoFailure, detail: string, bytes?: number): ExoResult<never> & { ok: false } => ({
      ok: false,
      kind,
      error: `${method} ${url}: ${detail}`,
      status: res.status,
      ...(bytes === undefined ? {} : { bytes }),
    });
    if (!res.ok) {
      if (res.kind === 'timeout') return { ...fail('timeout', res.error), status: null };
      if (res.kind === 'too-large')
        return fail(
          'garbage',
          res.status === null ? res.error : `HTTP ${res.status}, ${res.error}`,
          maxBytes,
        );
      return fail('down', res.error);
    }
    const text = res.text;
    // Bytes, not characters: what pacing charges (state-pacing.ts) is what was read and parsed.
    const raw = Buffer.from(text);
    const bytes = raw.length;
    const failed = res.status < 200 || res.status > 299;
    // An error's body is read for its message only: a large one is not parsed at all.
    if (failed && bytes > MAX_PARSED_ERROR_BYTES)
      return fail('http', `HTTP ${res.status}: ${clip(text)}`, bytes);
    const shape = scanJsonLimits(raw, EXO_JSON_LIMITS);
    if (!shape.ok) return fail('garbage', `HTTP ${res.status}, JSON refused: ${shape.message}`, bytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail('garbage', `HTTP ${res.status}, not JSON: ${JSON.stringify(text.slice(0, 80))}`, bytes);
    }
    if (failed) {
      const said = (body as { error?: { message?: unknown } } | null)?.error?.message;
      return fail('http', `HTTP ${res.status}: ${clip(typeof said === 'string' ? said : text)}`, bytes);
    }
    return { ok: true, value: body, status: res.status, bytes };
  }

  /** Liveness: this node's id (a new one on every EXO start). */
  async nodeId(): Promise<ExoResult<string>> {
    // A JSON string of at most 256 characters, escapes included: whatever listens on EXO's port, a bigger
    // answer is not read (15 MB of nested arrays took a core and 500 MB at every poll).
    const r = await this.request('GET', '/node_id', MAX_NODE_ID_BYTES);
    if (!r.ok) return r;
    if (typeof r.value !== 'string')
      return {
        ok: false,
        kind: 'garbage',
        error: `/node_id returned ${kindOf(r.value)}, not a string`,
        status: r.status,
      };
    // Also one with control characters or spaces: it is printed by `status` and in events.
    if (r.value.length > MAX_NODE_ID_CHARS || plainText(r.value, MAX_NODE_ID_CHARS) !== r.value)
      return {
        ok: false,
        kind: 'garbage',
        error: `/node_id returned "${plainText(r.value.slice(0, 80), 80)}" (${r.value.length} characters), not a node id`,
        status: r.status,
      };
    return { ok: true, value: r.value, status: r.status };
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
