import { networkInterfaces } from 'node:os';
import {
  accessProblem,
  closeTokenFile,
  lookAtTokenFile,
  othersAccess,
  ownershipProblem,
  type TokenFileLook,
} from '../core/api/api-token-file.js';
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
 * Whether the pidfile's API address is this machine's (loopback, a wildcard, or one of its interface
 * addresses) over plain http: only then does the token go with a request. A pidfile is data anyone who can
 * write the data directory may have changed; a daemon never listens on another machine.
 */
export function isLocalApi(api: string, addresses: () => string[] = localAddresses): boolean {
  let u: URL;
  try {
    u = new URL(api);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' || u.username || u.password || (u.pathname !== '/' && u.pathname !== ''))
    return false;
  const host = u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (/^127\.\d+\.\d+\.\d+$/.test(host) || host === 'localhost' || host === '::1') return true;
  if (host === '0.0.0.0' || host === '::') return true;
  return addresses().includes(host);
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address.toLowerCase().replace(/%.*$/, ''))
    .filter((a): a is string => !!a);
}

/** The token the CLI may send, and what is wrong with its file (why it is not used, or a warning when it is). */
export interface TokenRead {
  token: string | null;
  problem: string | null;
}

/**
 * The token in `<data>/api-token`, read without following a link, only from a small regular file of this
 * user that group and others cannot write (another user could have put a token of their choosing there). A
 * file group or others can read is used, with a warning: its token may be known to them. A missing file is
 * no problem (a loopback API needs no token for most requests).
 */
export function readToken(path: string): TokenRead {
  const look = lookAtTokenFile(path);
  try {
    return tokenVerdict(path, look);
  } finally {
    closeTokenFile(look);
  }
}

function tokenVerdict(path: string, look: TokenFileLook): TokenRead {
  if (look.kind === 'missing') return { token: null, problem: null };
  const refused = (problem: string, more = ''): TokenRead => ({
    token: null,
    problem: `the API token file ${path} ${problem}: not used${more}`,
  });
  if (look.kind === 'unusable') return refused(look.problem);
  const owner = ownershipProblem(look.facts);
  if (owner) return refused(owner);
  if (look.token === null) return refused('holds no token');
  const access = accessProblem(look.facts);
  if (!access) return { token: look.token, problem: null };
  if (othersAccess(look.facts.mode)?.write)
    return refused(
      access,
      ' (its token may be one another user chose); restarting the daemon replaces it with a new one only you can read',
    );
  return {
    token: look.token,
    problem: `the API token file ${path} ${access}: its token may be known to another user; restarting the daemon replaces it`,
  };
}

/** The token alone (null: none, or a file that is not used). */
export function readTokenFile(path: string): string | null {
  return readToken(path).token;
}

/** The token for a request, a problem with its file said once on stderr (never the token). */
export function tokenForRequest(path: string): string | null {
  const r = readToken(path);
  if (r.problem && !warned.has(r.problem)) {
    warned.add(r.problem);
    process.stderr.write(`exo-sentinel: warning: ${r.problem}\n`);
  }
  return r.token;
}
const warned = new Set<string>();

/** The answer's body, dropped (and the connection closed) past `max` bytes. */
async function boundedText(r: Response, max: number): Promise<string> {
  if (!r.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) {
    size += c.byteLength;
    if (size > max) {
      await r.body.cancel().catch(() => undefined);
      throw new Error(`answered over ${max} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One request to the daemon's API with its token (a loopback API without one needs none): the status and the
 * JSON body (`{}` when there is none). Throws when the daemon does not answer in time, when its pidfile names
 * an address that is not this machine's (the token is never sent there), or when it answers over 4 MiB.
 * Redirects are not followed.
 */
export async function requestDaemon<T>(
  link: DaemonLink,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
): Promise<{ status: number; body: T | Record<string, never>; json: boolean }> {
  if (!isLocalApi(link.api))
    throw new Error(`the pidfile names ${link.api.slice(0, 200)}, not an http address of this machine`);
  const token = tokenForRequest(link.tokenFile) ?? '';
  debugClient(`${method} ${path} through the API of the daemon (pid ${link.pid}) at ${link.api}`);
  const r = await fetch(`${new URL(link.api).origin}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await boundedText(r, MAX_ANSWER);
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
