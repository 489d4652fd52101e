/**
 * How much of the machine the local API may hold, and how long a client may hold it without using it. The
 * defaults are the daemon's; tests pass smaller numbers to `ApiServer` instead of waiting out real ones.
 */

/**
 * Connections held open at once. Every socket is a file descriptor: without a cap a local client opening
 * thousands left the sampler unable to open /proc or the timeline (EMFILE) and blinded the watchdog. At the
 * cap a new connection closes the one idle longest (connection-slots.ts); it is refused only when every
 * held connection is serving a request.
 */
export const API_MAX_CONNECTIONS = 256;
/** Live-event clients at once (a dashboard tab, the app, a CLI each hold one); more get 503. */
export const SSE_MAX_CLIENTS = 32;
/**
 * Bytes waiting for one live-event client before it is dropped: a client that does not read would else be
 * sent every tick's sample forever, held in the daemon's memory (EventSource reconnects on its own).
 */
export const SSE_MAX_BUFFERED = 256 * 1024;
/** A live-event client with bytes queued for it that has not drained them for this long is dropped. */
export const SSE_STALL_MS = 30_000;
/** With every live-event slot taken, a client stalled this long gives its slot to a new one (not a 503). */
export const SSE_EVICT_STALL_MS = 5_000;
/** A comment sent to every live-event client this often, so proxies keep the stream and stalls are seen. */
export const SSE_KEEP_ALIVE_MS = 15_000;
/** What was shed (connections closed, live clients dropped) is reported at most once per this window. */
export const SHED_REPORT_MS = 10_000;

export interface ApiLimits {
  maxConnections: number;
  sseMaxClients: number;
  sseMaxBuffered: number;
  sseStallMs: number;
  sseEvictStallMs: number;
  sseKeepAliveMs: number;
  shedReportMs: number;
}

export const DEFAULT_API_LIMITS: Readonly<ApiLimits> = {
  maxConnections: API_MAX_CONNECTIONS,
  sseMaxClients: SSE_MAX_CLIENTS,
  sseMaxBuffered: SSE_MAX_BUFFERED,
  sseStallMs: SSE_STALL_MS,
  sseEvictStallMs: SSE_EVICT_STALL_MS,
  sseKeepAliveMs: SSE_KEEP_ALIVE_MS,
  shedReportMs: SHED_REPORT_MS,
};

/** What the API holds now (ApiServer.load): connections idle and busy, Node's own count, live clients. */
export interface ApiLoad {
  idle: number;
  busy: number;
  open: number;
  live: { clients: number; queued: number };
}

/** The defaults with `over` laid on top; a value that is not a positive number keeps its default. */
export function apiLimits(over: Partial<ApiLimits> = {}): ApiLimits {
  const limits = { ...DEFAULT_API_LIMITS };
  for (const key of Object.keys(limits) as Array<keyof ApiLimits>) {
    const v = over[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) limits[key] = Math.ceil(v);
  }
  return limits;
}
