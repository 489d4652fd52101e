/**
 * What a running daemon can take from an edited configuration file, key by key. A key matches an entry when
 * it is the entry or lies under it (`api` covers `api.listen`). Everything not listed here applies live.
 */
export const RESTART_KEYS = [
  // Listeners and what they were built with.
  'api',
  'guard.enabled',
  'guard.listen',
  'guard.maxConnections',
  'guard.maxHeaderBytes',
  'guard.upstreamCaFile',
  // Readers built once at start.
  'intervalSeconds',
  'slowIntervalSeconds',
  'gpu',
  'watch',
  'reports.dirs',
  'exo.url',
  'exo.timeoutMs',
  'exo.home',
] as const;

/** True when a change to `key` (dotted) takes effect only after the daemon restarts. */
export function needsRestart(key: string): boolean {
  return RESTART_KEYS.some((k) => key === k || key.startsWith(`${k}.`));
}
