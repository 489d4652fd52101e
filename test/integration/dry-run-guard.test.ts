import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, validateConfig } from '../../src/main/core/config/config-loader.js';
import { freePort } from '../support/free-port.js';
import { shiftedClock, startInProcessDaemon } from '../support/in-process-daemon.js';
import { tempDir } from '../support/temp-dir.js';

// A level pushed to critical by the thresholds (any free memory is below 100 %), with the guard's mode read
// as the status (and so the guard) has it.
describe('a dry run and the guard, in a running daemon', () => {
  it('a dry run at critical leaves the guard open; leaving it sets the mode in the reload, entering it opens at once', async () => {
    const dir = tempDir('exo-sentinel-dry-');
    const file = {
      intervalSeconds: 0.2,
      api: { enabled: false },
      guard: { enabled: false },
      exo: { url: `http://127.0.0.1:${await freePort()}` },
      reports: { dirs: [] },
      risk: { freeElevated: 100, freeHigh: 100, freeCritical: 100 },
      actions: { dryRun: true },
    };
    writeFileSync(join(dir.path, 'config.json'), JSON.stringify(file));
    const loaded = validateConfig(file);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
    const daemon = await startInProcessDaemon({
      dataDir: dir.path,
      config: loaded.config,
      clock: shiftedClock(() => 0),
    });
    // As the app and the headless daemon do: writes through the service are reloaded at once.
    daemon.watchConfig((path) => loadConfig(path));
    try {
      const status = () => {
        const v = daemon.service.status();
        return { level: v.risk.level, guardMode: v.guardMode };
      };
      for (let i = 0; i < 50 && status().level !== 'critical'; i++) await sleep(100);
      assert.equal(status().level, 'critical');
      await sleep(500);
      assert.equal(status().guardMode, 'open', 'a dry run refuses and cancels nothing');
      const out = daemon.service.patchConfig({ set: { 'actions.dryRun': false } }, 'api');
      assert.ok(out.ok, JSON.stringify(out));
      assert.equal(status().guardMode, 'cancel-newest', 'set in the reload, not at the next tick');
      const back = daemon.service.patchConfig({ set: { 'actions.dryRun': true } }, 'api');
      assert.ok(back.ok, JSON.stringify(back));
      assert.equal(status().guardMode, 'open', 'stood down in the reload');
      await sleep(500);
      assert.equal(status().guardMode, 'open', 'and no tick sets it again');
    } finally {
      await daemon.stop('test');
      dir.cleanup();
    }
  });
});
