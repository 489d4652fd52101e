import { pino } from 'pino';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import { Daemon } from '../../src/main/core/daemon.js';
import { EventCollector } from '../../src/main/core/event-collector.js';
import type { Logger } from '../../src/main/core/logger.js';
import { createProbe } from '../../src/main/core/probes/create-probe.js';
import { freePort } from './free-port.js';

/**
 * A daemon in this process (real probes, real SQLite) whose only report directory is `reports`: no guard,
 * EXO at a closed port, rescans an hour apart; `config` goes over that (intervalSeconds, api, …). Not begun.
 */
export async function reportWatchingDaemon(o: {
  dataDir: string;
  reports: string;
  config?: Record<string, unknown>;
  logger?: Logger;
}): Promise<Daemon> {
  const loaded = validateConfig({
    guard: { enabled: false },
    exo: { url: `http://127.0.0.1:${await freePort()}` },
    reports: { dirs: [o.reports], rescanSeconds: 3600 },
    ...o.config,
  });
  if (!loaded.ok) throw new Error(loaded.errors.join('; '));
  const events = new EventCollector(() => Date.now());
  return new Daemon({
    dataDir: o.dataDir,
    config: loaded.config,
    probe: createProbe(events),
    events,
    logger: o.logger ?? pino({ level: 'silent' }),
    reportDirs: [o.reports],
  });
}
