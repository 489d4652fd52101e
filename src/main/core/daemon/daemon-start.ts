import type { ApiServer } from '../api/api-server.js';
import type { Config } from '../config/config-schema.js';
import type { EventCollector } from '../event-collector.js';
import type { GuardServer } from '../guard/guard-server.js';
import { type LockInfo, updateLock } from '../instance-lock.js';
import type { Logger } from '../logger.js';
import type { MachineIdentity, PlatformProbe } from '../probes/probe-types.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { VERSION } from '../version.js';

/** Why a listener did not start; an address in use names the flags that choose another or turn it off. */
const whyNot = (e: unknown, listen: string, flags: string): string => {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'EADDRINUSE' ? `${listen} is already in use (${flags})` : err.message;
};

/**
 * Starts the guard, then the API (its address goes into the pidfile: the CLI finds the daemon there). Null
 * when both listen (or are off); else why not, with what had started stopped again.
 */
export async function startListeners(p: {
  guard: GuardServer | null;
  api: ApiServer | null;
  config: Config;
  events: EventCollector;
  lockPath: string;
}): Promise<string | null> {
  const { guard, api, config, events } = p;
  if (guard) {
    try {
      const a = await guard.start();
      events.push(
        'guard.started',
        'info',
        `guard listening on ${a.host}:${a.port} in front of ${config.exo.url}`,
        {
          ...a,
          upstream: config.exo.url,
        },
      );
    } catch (e) {
      return `the guard cannot start: ${whyNot(e, config.guard.listen, '--guard-listen HOST:PORT, or --no-guard')}`;
    }
  }
  if (api) {
    try {
      const a = await api.start();
      events.push('api.started', 'info', `API and dashboard on http://${a.host}:${a.port}`, { ...a });
      // The CLI asks a running daemon (status, and every change: ack, guard, panics scan) at this address.
      updateLock(p.lockPath, { api: `http://${a.host}:${a.port}` });
    } catch (e) {
      await guard?.stop();
      await api.stop();
      return `the API cannot start: ${whyNot(e, config.api.listen, '--api-listen HOST:PORT, or --no-api')}`;
    }
  }
  return null;
}

/** The start in the timeline: an unclean previous stop, the machine's identity (kept for the advisory). */
export async function recordStart(p: {
  store: TimelineStore;
  probe: PlatformProbe;
  events: EventCollector;
  logger: Logger;
  config: Config;
  stale: LockInfo | null;
}): Promise<void> {
  const { store, events, config, stale } = p;
  if (stale) {
    const last = store.latestSample();
    events.push(
      'daemon.unclean-stop',
      'warning',
      `the previous daemon (pid ${stale.pid}) stopped without shutting down; last sample ${
        last ? new Date(last.time).toISOString() : 'none'
      }`,
      { pid: stale.pid, lastSampleAt: last?.time ?? null },
    );
  }
  let identity: MachineIdentity | null = null;
  try {
    identity = await p.probe.identity();
  } catch (e) {
    events.failed('identity', (e as Error).message);
  }
  events.push('daemon.started', 'info', `exo-sentinel ${VERSION} started (pid ${process.pid})`, {
    version: VERSION,
    pid: process.pid,
    intervalSeconds: config.intervalSeconds,
    slowIntervalSeconds: config.slowIntervalSeconds,
    identity,
  });
  try {
    if (identity) store.setMeta('identity', JSON.stringify(identity));
  } catch (e) {
    p.logger.warn(`the machine identity cannot be stored: ${(e as Error).message}`);
  }
}
