import type { Agent, IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { http } from './node-http.js';

/**
 * How long a kept-alive socket may sit idle before this side closes it. Over the 1 s poll, so a poller keeps
 * its sockets from one tick to the next; under the idle timeouts of the servers it asks (EXO's hypercorn
 * `keep_alive_timeout` 5 s, uvicorn and node:http 5 s, gunicorn 2 s), so that this side, not the server,
 * closes an idle socket, and a request never goes out on one the server is closing at that moment.
 */
export const FREE_SOCKET_MS = 1500;

/** Taken off a server's `Keep-Alive: timeout=N` (whole seconds, rounded down) before trusting it. */
const HINT_MARGIN_MS = 1000;

/** What the last answer on a socket said about keeping it (`Keep-Alive: timeout=N, max=M`). */
interface KeepAliveHint {
  timeoutSeconds: number | null;
  max: number | null;
}

const hints = new WeakMap<object, KeepAliveHint>();

/** `Keep-Alive: timeout=5, max=100` in any order and case; null when it says neither. */
export function parseKeepAlive(value: string | undefined): KeepAliveHint | null {
  if (!value) return null;
  const param = (name: string): number | null => {
    const m = new RegExp(`(?:^|[,;\\s])${name}\\s*=\\s*"?(\\d{1,9})"?`, 'i').exec(value);
    return m ? Number(m[1]) : null;
  };
  const hint = { timeoutSeconds: param('timeout'), max: param('max') };
  return hint.timeoutSeconds === null && hint.max === null ? null : hint;
}

/**
 * Remembers what an answer's headers said about its socket, for `PollingAgent.keepSocketAlive` when the
 * socket is handed back. (`Connection: close` needs nothing here: node never keeps such a socket.)
 */
export function noteKeepAliveHint(socket: object | null, headers: IncomingHttpHeaders): void {
  const value = headers['keep-alive'];
  const hint = parseKeepAlive(Array.isArray(value) ? value.join(', ') : value);
  if (socket && hint) hints.set(socket, hint);
}

/**
 * node's keep-alive agent, stricter about what a server announced: node reads `Keep-Alive: timeout=` only
 * when it comes first and ignores `max=`; here `max=0`, or a timeout too short to trust, means the socket is
 * not kept, and a longer one shortens the idle time when it is under ours.
 */
class PollingAgent extends http.Agent {
  override keepSocketAlive(socket: Duplex): boolean {
    // node returns whether to keep the socket (its documentation says so; its types say void).
    if (!(super.keepSocketAlive(socket) as unknown as boolean)) return false;
    const hint = hints.get(socket);
    hints.delete(socket);
    if (!hint) return true;
    if (hint.max !== null && hint.max <= 0) return false;
    if (hint.timeoutSeconds === null) return true;
    const ms = hint.timeoutSeconds * 1000 - HINT_MARGIN_MS;
    if (ms <= 0) return false;
    const s = socket as Duplex & { timeout?: number; setTimeout?: (ms: number) => unknown };
    if (s.setTimeout && (s.timeout === undefined || s.timeout === 0 || ms < s.timeout)) s.setTimeout(ms);
    return true;
  }
}

/**
 * A keep-alive agent for a server asked every second: idle sockets are closed after `idleMs`
 * (see `FREE_SOCKET_MS`), the most recently used one is reused first.
 */
export function keepAliveAgent(idleMs = FREE_SOCKET_MS): Agent {
  return new PollingAgent({
    keepAlive: true,
    maxSockets: 8,
    maxFreeSockets: 4,
    timeout: idleMs,
    scheduling: 'lifo',
    agentKeepAliveTimeoutBuffer: HINT_MARGIN_MS,
  });
}
