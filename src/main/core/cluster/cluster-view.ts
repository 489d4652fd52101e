import { isIP } from 'node:net';
import { num } from '../../../shared/narrow.js';
import { isRiskLevel, type RiskLevel, type RiskReason } from '../../../shared/risk.js';
import { SIGNED_SCHEME, signRequest } from '../api/signed-request.js';
import type { ExoApiClient } from '../exo/exo-api-client.js';
import { plainText } from '../util/format.js';
import { type HttpAnswer, httpRequest } from '../util/http-request.js';
import type { ClusterConfig } from './cluster-config.js';

/**
 * A peer's status view is a few KiB; anything far larger is not one (256 KiB of nested arrays already costs
 * ~20 ms of parsing, 1 MiB ~70 ms).
 */
const PEER_STATUS_MAX_BYTES = 256 * 1024;
/**
 * Addresses EXO's topology may add (a node has a few: LAN, link-local, Thunderbolt). EXO's state is read from
 * whatever answers on its port: a topology of thousands of links would else be thousands of requests.
 */
export const MAX_TOPOLOGY_PEERS = 64;

/** One row per host of the cluster: keyed by host, never by EXO's node id (a new one every EXO start). */
export interface ClusterRow {
  host: string;
  url: string | null;
  self: boolean;
  reachable: boolean;
  error: string | null;
  level: RiskLevel | null;
  reasons: RiskReason[];
  memory: { total: number | null; freePercent: number | null; wired: number | null };
  gpu: { inUseBytes: number | null; ceilingBytes: number | null };
  panics72h: number | null;
  exoNodeId: string | null;
  source: 'self' | 'configured' | 'exo-topology';
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};

/** Bytes no machine has (1 PiB): a peer's figure past it is not one. */
const MAX_BYTES = 2 ** 50;
/** More panics in 72 h than a machine can reboot for (one a minute). */
const MAX_PANICS_72H = 72 * 60;

/** A peer's figure within what it can be, else unknown (a lying peer showed -5 bytes of memory, 1e308 panics). */
const inRange = (v: unknown, min: number, max: number, integer = false): number | null => {
  const n = num(v);
  return n !== null && n >= min && n <= max && (!integer || Number.isInteger(n)) ? n : null;
};

/** Memory and GPU figures of an untrusted answer, each within what it can be. */
const figures = (memory: Json, gpu: Json): Pick<ClusterRow, 'memory' | 'gpu'> => ({
  memory: {
    total: inRange(memory['total'], 0, MAX_BYTES),
    freePercent: inRange(memory['freePercent'], 0, 100),
    wired: inRange(memory['wired'], 0, MAX_BYTES),
  },
  gpu: {
    inUseBytes: inRange(gpu['inUseBytes'], 0, MAX_BYTES),
    ceilingBytes: inRange(gpu['ceilingBytes'], 0, MAX_BYTES),
  },
});

/** A row from an exo-sentinel `/api/v1/status` body (a peer's is untrusted JSON: every figure is narrowed). */
export function rowFromStatus(
  body: unknown,
  url: string | null,
  self: boolean,
  source: ClusterRow['source'],
): ClusterRow {
  const status = obj(body);
  const sample = obj(status['sample']);
  const memory = obj(sample['memory']);
  const gpu = obj(sample['gpu']);
  const risk = obj(status['risk']);
  const identity = obj(status['identity']);
  const exo = obj(status['exo']);
  return {
    host:
      typeof identity['hostname'] === 'string' ? peerText(identity['hostname'], 253) : (url ?? 'this host'),
    url,
    self,
    reachable: true,
    error: null,
    level: isRiskLevel(risk['level']) ? risk['level'] : null,
    reasons: peerReasons(risk['reasons']),
    ...figures(memory, gpu),
    panics72h: inRange(obj(status['panics'])['last72h'], 0, MAX_PANICS_72H, true),
    exoNodeId: typeof exo['nodeId'] === 'string' ? peerText(exo['nodeId'], 128) : null,
    source,
  };
}

/** Rows of a cluster answer, at most: this host, its configured peers and those found in the topology. */
const MAX_ANSWER_ROWS = 1 + 64 + MAX_TOPOLOGY_PEERS;
const SOURCES: readonly ClusterRow['source'][] = ['self', 'configured', 'exo-topology'];
const text = (v: unknown, max: number): string | null => (typeof v === 'string' ? peerText(v, max) : null);

/**
 * The rows of a `/api/v1/cluster` answer as the CLI prints them, every field narrowed (whatever listens on the
 * API's port answers): null when the answer has no list of rows, a row without a host left out.
 */
export function rowsFromClusterAnswer(body: unknown): ClusterRow[] | null {
  const rows = obj(body)['rows'];
  if (!Array.isArray(rows)) return null;
  const out: ClusterRow[] = [];
  for (const v of rows.slice(0, MAX_ANSWER_ROWS)) {
    const r = obj(v);
    const host = text(r['host'], 253);
    if (!host) continue;
    const memory = obj(r['memory']);
    const gpu = obj(r['gpu']);
    out.push({
      host,
      url: text(r['url'], 300),
      self: r['self'] === true,
      reachable: r['reachable'] === true,
      error: text(r['error'], 300),
      level: isRiskLevel(r['level']) ? r['level'] : null,
      reasons: peerReasons(r['reasons']),
      ...figures(memory, gpu),
      panics72h: inRange(r['panics72h'], 0, MAX_PANICS_72H, true),
      exoNodeId: text(r['exoNodeId'], 128),
      source: SOURCES.find((x) => x === r['source']) ?? 'configured',
    });
  }
  return out;
}

/** Reasons a peer listed, as reasons: the CLI and the dashboard read `.message` of each (a `null` there threw). */
const MAX_PEER_REASONS = 32;
/** A peer's text as the CLI prints it: one line, no control characters (an escape sequence would reach the terminal). */
const peerText = plainText;

function peerReasons(v: unknown): RiskReason[] {
  if (!Array.isArray(v)) return [];
  const out: RiskReason[] = [];
  for (const r of v.slice(0, MAX_PEER_REASONS)) {
    const o = obj(r);
    if (typeof o['message'] !== 'string' || !isRiskLevel(o['level'])) continue;
    out.push({
      signal: typeof o['signal'] === 'string' ? peerText(o['signal'], 64) : 'unknown',
      level: o['level'],
      message: peerText(o['message'], 300),
    });
  }
  return out;
}

/**
 * An address from EXO's topology as a URL's host: an IPv4 or IPv6 address and nothing else. Whatever listens
 * on EXO's port writes the topology: `::ffff:127.0.0.1]:41001/any?[` made the daemon send a signed request
 * to a host, port and path of its choosing, and `a b` made the whole cluster view a 500. An IPv6 address
 * with a zone (`%en0`) has no URL form and is left out, as are the unspecified addresses in any spelling.
 */
function peerHost(ip: string): string | null {
  const v = isIP(ip);
  if (v === 0 || (v === 6 && ip.includes('%'))) return null;
  // The URL's own spelling: `FE80::ABCD` and `fe80::abcd`, `::0` and `::`, are one each; an IPv4 address
  // written as IPv6 (`::ffff:a.b.c.d`, `::ffff:7f00:1`, `0::ffff:…`) is that IPv4 address.
  let host = new URL(`http://${v === 6 ? `[${ip}]` : ip}/`).hostname;
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (mapped) {
    const hi = Number.parseInt(mapped[1]!, 16);
    const lo = Number.parseInt(mapped[2]!, 16);
    host = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return host === '0.0.0.0' || host === '[::]' ? null : host;
}

/** A URL's host, or the URL itself when it does not parse. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Other nodes' addresses from EXO's topology (their link-local or LAN IPs), without this node. */
export function peersFromTopology(topology: unknown, selfNodeId: string | null, apiPort: number): string[] {
  const t = obj(topology);
  const out = new Set<string>();
  const connections = obj(t['connections']);
  for (const [from, sinks] of Object.entries(connections)) {
    for (const [to, links] of Object.entries(obj(sinks))) {
      if (to === selfNodeId || from !== selfNodeId) continue;
      for (const link of Array.isArray(links) ? links : []) {
        const ip = obj(obj(link)['sinkMultiaddr'])['ip_address'];
        const host = typeof ip === 'string' ? peerHost(ip) : null;
        if (host) out.add(`http://${host}:${apiPort}`);
      }
    }
  }
  return [...out];
}

/** The collection under way for a cluster configuration (a reload makes a new one). */
const inFlight = new WeakMap<ClusterConfig, Promise<{ rows: ClusterRow[] }>>();

/**
 * This host plus every peer (configured, and found through EXO's topology), each asked for its status
 * in a read signed with the cluster token (see `askPeer`). A node that does not answer is a row saying so. Callers while one collection
 * runs get its answer: many clients asking at once cost one request per peer,
 * not one each, so slow or huge peers cannot multiply the daemon's memory and parsing work.
 */
export function collectCluster(
  self: unknown,
  config: ClusterConfig,
  exo: ExoApiClient | null,
  selfNodeId: string | null,
): Promise<{ rows: ClusterRow[] }> {
  const running = inFlight.get(config);
  if (running) return running;
  const run = collectOnce(self, config, exo, selfNodeId).finally(() => inFlight.delete(config));
  inFlight.set(config, run);
  return run;
}

/**
 * A peer's status, the read signed with the cluster token (the token itself never leaves this machine, to
 * any peer: a name in `cluster.peers` can be answered by whoever spoofs it on the LAN or takes its address
 * while the node is down, and the token opens every node's API for writing). A peer that does not offer
 * signed reads is refused with a reason that says to upgrade it.
 */
async function askPeer(url: string, config: ClusterConfig, now: () => number): Promise<HttpAnswer> {
  const options = { timeoutMs: config.timeoutMs, maxBytes: PEER_STATUS_MAX_BYTES };
  const token = config.token;
  if (!token) return httpRequest(url, options);
  const target = new URL(url);
  const host = target.host;
  const signed = signRequest(token, { method: 'GET', target: target.pathname + target.search, host }, now());
  return httpRequest(url, { ...options, headers: { host, authorization: signed } });
}

const offersSigned = (challenge: string | undefined): boolean =>
  (challenge ?? '').split(',').some((c) => c.trim().split(' ')[0] === SIGNED_SCHEME);

/** Why a peer refused, in words a person can act on. */
function refusalText(res: HttpAnswer & { ok: true }, config: ClusterConfig): string {
  if (res.status !== 401) return `HTTP ${res.status}`;
  if (!config.token) return 'HTTP 401 (this node has no cluster.token)';
  if (!offersSigned(res.authenticate))
    return 'HTTP 401 (it does not take signed reads: an exo-sentinel older than this one, to upgrade, or not one; the cluster token is never sent)';
  let said = '';
  try {
    const m = (JSON.parse(res.text) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') said = `: ${m.slice(0, 200)}`;
  } catch {
    // not JSON: the status says enough
  }
  return `HTTP 401 (wrong or missing cluster.token${said})`;
}

async function collectOnce(
  self: unknown,
  config: ClusterConfig,
  exo: ExoApiClient | null,
  selfNodeId: string | null,
  now: () => number = Date.now,
): Promise<{ rows: ClusterRow[] }> {
  const rows: ClusterRow[] = [rowFromStatus(self, null, true, 'self')];
  const urls = new Map<string, ClusterRow['source']>(
    config.peers.map((p) => [p.replace(/\/+$/, ''), 'configured']),
  );
  if (exo) {
    const topo = await exo.state('topology');
    if (topo.ok)
      for (const u of peersFromTopology(topo.value, selfNodeId, config.apiPort).slice(0, MAX_TOPOLOGY_PEERS))
        if (!urls.has(u)) urls.set(u, 'exo-topology');
  }
  const results = await Promise.all(
    [...urls].map(async ([url, source]): Promise<ClusterRow> => {
      try {
        const res = await askPeer(`${url}/api/v1/status`, config, now);
        if (!res.ok) throw new Error(res.error);
        if (res.status < 200 || res.status > 299) throw new Error(refusalText(res, config));
        let status: unknown;
        try {
          status = JSON.parse(res.text);
        } catch {
          // Not quoted: an address from EXO's topology may be any service's, and its answer is not ours to show.
          throw new Error(`its answer is not JSON (${res.text.length} characters)`);
        }
        return rowFromStatus(status, url, false, source);
      } catch (e) {
        const err = e as Error;
        return {
          host: hostOf(url),
          url,
          self: false,
          reachable: false,
          error: peerText(err.message, 300),
          level: null,
          reasons: [],
          memory: { total: null, freePercent: null, wired: null },
          gpu: { inUseBytes: null, ceilingBytes: null },
          panics72h: null,
          exoNodeId: null,
          source,
        };
      }
    }),
  );
  rows.push(...results);
  // Two daemons on one machine share a hostname: tell them apart by their address.
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.host, (seen.get(r.host) ?? 0) + 1);
  for (const r of rows)
    if ((seen.get(r.host) ?? 0) > 1) r.host = `${r.host} (${r.self ? 'this daemon' : hostOf(r.url!)})`;
  return { rows };
}
