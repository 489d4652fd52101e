/**
 * What a running daemon can take from an edited configuration file, key by key. A key matches an entry when
 * it is the entry or lies under it (`api` covers `api.listen`). Everything not listed here applies live.
 */
export const RESTART_KEYS = [
  // Listeners and what they were built with.
  'api',
  'guard.enabled',
  'guard.listen',
  'guard.maxHeaderBytes',
  'guard.maxBufferedBodyBytes',
  'guard.upstreamCaFile',
  // Readers built once at start.
  'intervalSeconds',
  'gpu',
  'watch',
  'reports',
  'exo.url',
  'exo.timeoutMs',
  'exo.home',
  // The notifier's program is started with the daemon.
  'actions.notify.command',
] as const;

/** True when a change to `key` (dotted) takes effect only after the daemon restarts. */
export function needsRestart(key: string): boolean {
  return RESTART_KEYS.some((k) => key === k || key.startsWith(`${k}.`));
}
