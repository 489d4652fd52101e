import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/main/core/config/config-loader.js';
import { Daemon } from '../../src/main/core/daemon.js';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { createProbe } from '../../src/main/core/probes/create-probe.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = 'a-guard-token-for-the-lan-0001';

describe('a reload never opens the guard', () => {
  it('removing the token while the guard listens beyond loopback is refused; the token keeps being asked', async () => {
    const dir = tempDir('exo-sentinel-reload-guard-');
    const path = join(dir.path, 'config.json');
    const port = await freePort();
    const base = {
      api: { enabled: false },
      exo: { url: `http://127.0.0.1:${await freePort()}` },
      reports: { dirs: [] },
    };
    writeFileSync(path, JSON.stringify({ ...base, guard: { listen: `0.0.0.0:${port}`, token: TOKEN } }));
    const loaded = loadConfig(path);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
    const events = new EventCollector(() => Date.now());
    const daemon = new Daemon({
      dataDir: dir.path,
      config: loaded.config,
      probe: createProbe(events),
      events,
      logger: pino({ level: 'silent' }),
      reportDirs: [],
    });
    try {
      const begun = await daemon.begin();
      assert.ok(begun.ok, begun.ok ? '' : begun.error);
      daemon.watchConfig((p) => loadConfig(p));
      const ask = async (auth?: string): Promise<number> =>
        (
          await fetch(`http://127.0.0.1:${port}/v1/models`, {
            headers: auth ? { authorization: `Bearer ${auth}` } : {},
          })
        ).status;
      assert.equal(await ask(), 401);

      // A file naming a guard beyond loopback without a token is not valid at all.
      writeFileSync(path, JSON.stringify({ ...base, guard: { listen: `0.0.0.0:${port}`, token: null } }));
      const invalid = daemon.reloadConfig('SIGHUP');
      assert.ok(invalid && !invalid.ok);
      assert.match(
        invalid.errors[0]!,
        /"guard\.token" is a secret \(not shown\): needed when guard\.listen \(0\.0\.0\.0:\d+\) is not loopback/,
      );
      assert.equal(await ask(), 401, 'still closed');
      // One that moves the guard back to loopback and drops the token is valid, but the move waits for a
      // restart (guard.listen) while the token would go now: refused, the guard still listens beyond loopback.
      writeFileSync(path, JSON.stringify({ ...base, guard: { listen: '127.0.0.1:52416', token: null } }));
      const r = daemon.reloadConfig('SIGHUP');
      assert.ok(r && !r.ok);
      assert.match(r.errors[0]!, /^"guard\.token": the guard listens on 0\.0\.0\.0:\d+, beyond loopback/);
      assert.equal(await ask(), 401, 'still closed');
      assert.equal(daemon.config.guard.token, TOKEN);
      const refused = events.drain().find((e) => e.kind === 'config.invalid');
      assert.match(refused?.message ?? '', /the previous configuration stays/);
      assert.ok(!JSON.stringify(refused).includes(TOKEN));

      // A new token applies at once: the old one stops working.
      const NEW = 'another-token-for-the-lan-0002';
      writeFileSync(path, JSON.stringify({ ...base, guard: { listen: `0.0.0.0:${port}`, token: NEW } }));
      const ok = daemon.reloadConfig('SIGHUP');
      assert.ok(ok?.ok);
      assert.deepEqual(ok.applied, ['guard.token']);
      assert.equal(await ask(TOKEN), 401);
      assert.notEqual(await ask(NEW), 401);
    } finally {
      await daemon.stop('test');
      dir.cleanup();
    }
  });
});
