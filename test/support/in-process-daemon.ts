import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Config } from '../../src/main/core/config/config-schema.js';
import { type Clock, Daemon } from '../../src/main/core/daemon.js';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { createProbe } from '../../src/main/core/probes/create-probe.js';
import type { PlatformProbe } from '../../src/main/core/probes/probe-types.js';

/** The real clock with its wall time moved by `offset()` ms (read at each call); the monotonic clock is real. */
export const shiftedClock = (offset: () => number): Clock => ({
  now: () => Date.now() + offset(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
});

/**
 * A daemon in this process on `dataDir` with the real probe (wrapped by `probe` when given), a silent logger
 * and `clock`: begun (the test fails if it cannot) and ticking.
 */
export async function startInProcessDaemon(o: {
  dataDir: string;
  config: Config;
  clock: Clock;
  reportDirs?: string[];
  probe?: (p: PlatformProbe) => PlatformProbe;
}): Promise<Daemon> {
  const events = new EventCollector(() => o.clock.now());
  const real = createProbe(events);
  const daemon = new Daemon({
    dataDir: o.dataDir,
    config: o.config,
    probe: o.probe ? o.probe(real) : real,
    events,
    logger: pino({ level: 'silent' }),
    reportDirs: o.reportDirs ?? [],
    clock: o.clock,
  });
  const begun = await daemon.begin();
  assert.ok(begun.ok, begun.ok ? '' : begun.error);
  daemon.start();
  return daemon;
}
