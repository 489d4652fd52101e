import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import type { Daemon } from '../../src/main/core/daemon.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { freePort } from '../support/free-port.js';
import { shiftedClock, startInProcessDaemon } from '../support/in-process-daemon.js';
import { tempDir } from '../support/temp-dir.js';

/** A day ahead of the wall clock: anything stamped with Date.now() instead of the daemon's clock shows. */
const SKEW = 86_400_000;

describe("the daemon's injected clock reaches EXO's poll (real fake-EXO over HTTP, real SQLite)", () => {
  const dir = tempDir('exo-sentinel-clock-');
  let fake: FakeExoControl;
  let daemon: Daemon;
  const clock = shiftedClock(() => SKEW);

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
    daemon = await startInProcessDaemon({ dataDir: dir.path, config: loaded.config, clock });
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
