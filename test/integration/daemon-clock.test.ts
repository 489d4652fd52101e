import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import { type Clock, Daemon } from '../../src/main/core/daemon.js';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { createProbe } from '../../src/main/core/probes/create-probe.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dir.js';

/** A day ahead of the wall clock: anything stamped with Date.now() instead of the daemon's clock shows. */
const SKEW = 86_400_000;

describe("the daemon's injected clock reaches EXO's poll (real fake-EXO over HTTP, real SQLite)", () => {
  const dir = tempDir('exo-sentinel-clock-');
  let fake: FakeExoControl;
  let daemon: Daemon;
  const clock: Clock = {
    now: () => Date.now() + SKEW,
    monotonic: () => performance.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };

  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 1 });
    const loaded = validateConfig({
      intervalSeconds: 0.2,
      exo: { url: fake.url, pollSeconds: 1 },
      guard: { enabled: false },
      api: { listen: `127.0.0.1:${await freePort()}` },
      reports: { dirs: [] },
    });
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
    const events = new EventCollector(() => clock.now());
    daemon = new Daemon({
      dataDir: dir.path,
      config: loaded.config,
      probe: createProbe(events),
      events,
      logger: pino({ level: 'silent' }),
      reportDirs: [],
      clock,
    });
    const begun = await daemon.begin();
    assert.ok(begun.ok, begun.ok ? '' : begun.error);
    daemon.start();
  });
  after(async () => {
    await daemon?.stop('test');
    await fake?.close();
    dir.cleanup();
  });

  it("stamps EXO's last check with the daemon's clock, not the wall clock", async () => {
    const end = Date.now() + 5000;
    let exo = daemon.service.status().exo;
    while (exo.checkedAt === null && Date.now() < end) {
      await sleep(50);
      exo = daemon.service.status().exo;
    }
    assert.equal(exo.reachable, true, exo.error ?? '');
    assert.ok(exo.checkedAt !== null);
    // Within the test's few seconds of the skewed clock, a day away from the wall clock.
    assert.ok(Math.abs(exo.checkedAt - clock.now()) < 10_000, `checkedAt ${exo.checkedAt} vs ${clock.now()}`);
    assert.ok(exo.lastReachableAt !== null && exo.lastReachableAt > Date.now() + SKEW / 2);
  });
});
