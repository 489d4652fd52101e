import { readFileSync } from 'node:fs';
import { paths } from '../core/config/data-dir.js';
import { runningDaemon } from '../core/instance-lock.js';

/** A running daemon of a data directory that answers on its local API. */
export interface DaemonLink {
  pid: number;
  /** `http://host:port`, from its pidfile. */
  api: string;
  tokenFile: string;
}

export type DaemonAnswer<T> = { ok: true; body: T } | { ok: false; status: number | null; message: string };

const MAX_ANSWER = 4 * 1024 * 1024;

/**
 * `EXO_SENTINEL_DEBUG=client` (or `all`) prints which way a command went, through the daemon or to the
 * database itself, on stderr: for tests and for a person wondering why a change did (not) apply.
 */
export function debugClient(message: string): void {
  const d = process.env['EXO_SENTINEL_DEBUG'] ?? '';
  if (/(^|,)(client|all)(,|$)/.test(d)) process.stderr.write(`exo-sentinel: debug: ${message}\n`);
}

/**
 * The daemon of this data directory, when one runs (its pidfile names a live process that is that daemon)
 * and it has an API: commands that change state go through it, the one writer of the database.
 */
export function findDaemon(dataDir: string): DaemonLink | null {
  const p = paths(dataDir);
  const d = runningDaemon(p.pidfile);
  if (!d?.api) return null;
  return { pid: d.pid, api: d.api, tokenFile: p.apiToken };
}

/**
 * One request to the daemon's API with its token (a loopback API without one needs none): the status and the
 * JSON body (`{}` when there is none). Throws when the daemon does not answer in time.
 */
export async function requestDaemon<T>(
  link: DaemonLink,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<{ status: number; body: T | Record<string, never>; json: boolean }> {
  let token = '';
  try {
    token = readFileSync(link.tokenFile, 'utf8').trim();
  } catch {
    // A loopback API needs no token.
  }
  debugClient(`${method} ${path} through the API of the daemon (pid ${link.pid}) at ${link.api}`);
  const r = await fetch(`${link.api}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  if (text.length > MAX_ANSWER) throw new Error(`answered over ${MAX_ANSWER} bytes`);
  try {
    return { status: r.status, body: JSON.parse(text) as T, json: true };
  } catch {
    return { status: r.status, body: {}, json: false };
  }
}

/**
 * A request whose failure is a value: a daemon that does not answer, refuses or answers something else is an
 * error naming why (nothing was changed).
 */
export async function askDaemon<T>(
  link: DaemonLink,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<DaemonAnswer<T>> {
  const who = `the daemon (pid ${link.pid}) at ${link.api}`;
  try {
    const r = await requestDaemon<T>(link, method, path, body, timeoutMs);
    if (!r.json)
      return { ok: false, status: r.status, message: `${who} answered HTTP ${r.status} without JSON` };
    if (r.status < 200 || r.status > 299) {
      const m = (r.body as { error?: { message?: unknown } }).error?.message;
      return {
        ok: false,
        status: r.status,
        message: `${who} refused it: ${typeof m === 'string' ? m : `HTTP ${r.status}`}`,
      };
    }
    return { ok: true, body: r.body as T };
  } catch (e) {
    return {
      ok: false,
      status: null,
      message: `${who} did not answer (${(e as Error).message}); nothing was changed`,
    };
  }
}
