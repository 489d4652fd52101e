import { networkInterfaces, hostname as osHostname } from 'node:os';

/**
 * Who may talk to the local API, by the request's `Host` and `Origin` headers.
 *
 * `Host` is checked against an allowlist (loopback names and addresses, the listen address, configured extra
 * names): a page on another name that rebinds its DNS to 127.0.0.1 still sends its own name and is refused.
 * `Origin` (sent by browsers on cross-origin and non-GET requests): the API's own origin (`http://` + the
 * allowed Host) is the dashboard itself; a listed one gets CORS headers; anything else is refused.
 */
export interface OriginPolicy {
  /** Lower-case host names and addresses (IPv6 without brackets) this API answers to. */
  readonly hosts: ReadonlySet<string>;
  /** What a refused Host is told this server answers to. */
  readonly answersTo: string;
  /** What a refused Origin is told is allowed. */
  readonly allowedOrigins: string;
  /** Normalised origins (`scheme://host[:port]`) allowed cross-origin. */
  readonly corsOrigins: ReadonlySet<string>;
}

const LOOPBACK = ['localhost', '127.0.0.1', '::1'];
const WILDCARD = new Set(['0.0.0.0', '::', '']);

/**
 * A Host header (`host`, `host:port`, `[v6]` or `[v6]:port`) read: the lower-case host (IPv6 without
 * brackets) and the port it names (80 when it names none, as HTTP reads it); null when it is neither.
 */
export function parseHostHeader(header: string): { host: string; port: number } | null {
  const h = header.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(h) ?? /^([a-z0-9_.-]+?)\.?(?::(\d{1,5}))?$/.exec(h);
  return m ? { host: m[1]!, port: m[2] === undefined ? 80 : Number(m[2]) } : null;
}

/** The lower-case host a Host header names (IPv6 without brackets), or null. */
export const hostOf = (header: string): string | null => parseHostHeader(header)?.host ?? null;

/** The port a Host header names (80 when none), or null when it is not a Host header. */
export const portOf = (header: string): number | null => parseHostHeader(header)?.port ?? null;

const normaliseHost = (h: string): string =>
  hostOf(h.includes(':') && !h.startsWith('[') ? `[${h}]` : h) ?? h;

/** This machine's names and addresses (for a wildcard listen address, where clients use any of them). */
export function machineNames(): string[] {
  const name = osHostname().toLowerCase();
  const addrs = Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address.toLowerCase().replace(/%.*$/, ''))
    .filter((a): a is string => !!a);
  return [name, name.endsWith('.local') ? name : `${name}.local`, ...addrs];
}

export function buildOriginPolicy(opts: {
  listenHost: string;
  allowedHosts: readonly string[];
  corsOrigins: readonly string[];
  /** Names used when listening on a wildcard address (default: this machine's). */
  machine?: () => string[];
  /** The server, its key of extra names and its key of origins, as a refusal names them. */
  server?: { name: string; key: string; originsKey: string };
}): OriginPolicy {
  const hosts = new Set<string>(LOOPBACK);
  const listen = normaliseHost(opts.listenHost);
  // The listen address itself too, even a wildcard: the CLI reaches a daemon on 0.0.0.0 by that address.
  hosts.add(listen);
  if (WILDCARD.has(listen)) for (const n of (opts.machine ?? machineNames)()) hosts.add(normaliseHost(n));
  for (const h of opts.allowedHosts) hosts.add(normaliseHost(h));
  const corsOrigins = new Set<string>();
  for (const o of opts.corsOrigins) corsOrigins.add(originKey(o));
  const server = opts.server ?? { name: 'this API', key: 'api.allowedHosts', originsKey: 'api.corsOrigins' };
  return {
    hosts,
    corsOrigins,
    answersTo: `a name ${server.name} answers to (loopback, its listen address or ${server.key})`,
    allowedOrigins: `${server.name}'s own origin, nor in ${server.originsKey}`,
  };
}

const isLoopbackHost = (h: string): boolean => /^127\.\d+\.\d+\.\d+$/.test(h) || h.endsWith('.localhost');

export type HostVerdict = { ok: true } | { ok: false; status: 400 | 421; message: string };

export function checkHost(policy: OriginPolicy, header: string | undefined): HostVerdict {
  if (header === undefined || header === '')
    return { ok: false, status: 400, message: 'request has no Host header' };
  const host = hostOf(header);
  if (host !== null && (policy.hosts.has(host) || isLoopbackHost(host))) return { ok: true };
  return {
    ok: false,
    status: 421,
    message: `Host "${header.slice(0, 200)}" is not ${policy.answersTo}`,
  };
}

export type OriginVerdict =
  | { kind: 'none' }
  | { kind: 'same' }
  | { kind: 'listed'; origin: string }
  | { kind: 'foreign'; message: string };

/**
 * An origin as it is compared: what `URL` makes of an http(s) one (`https://a.example:443/` and
 * `https://A.example` are one origin); for other schemes, whose URL origin is "null" (a Tauri app's
 * `tauri://localhost`, a browser extension's `chrome-extension://<id>`), the text itself, lower-cased, without a
 * trailing slash. An origin that is not a URL at all is compared as text too, and matches only itself.
 */
function originKey(o: string): string {
  try {
    const u = new URL(o);
    if (u.origin !== 'null') return u.origin;
  } catch {
    // compared as text
  }
  return o.toLowerCase().replace(/\/+$/, '');
}

/** Same-origin: the Origin's authority is the (already allowed) Host over http. */
export function checkOrigin(
  policy: OriginPolicy,
  origin: string | undefined,
  host: string | undefined,
): OriginVerdict {
  if (origin === undefined) return { kind: 'none' };
  if (host !== undefined && origin.toLowerCase() === `http://${host.toLowerCase()}`) return { kind: 'same' };
  if (origin !== 'null' && policy.corsOrigins.has(originKey(origin))) return { kind: 'listed', origin };
  return {
    kind: 'foreign',
    message: `origin ${origin.slice(0, 200)} is not allowed (not ${policy.allowedOrigins})`,
  };
}

/** What a CORS preflight and a listed origin's responses carry. */
export const CORS_METHODS = 'GET, PUT, PATCH, POST, OPTIONS';
export const CORS_HEADERS = 'content-type, authorization, accept';
