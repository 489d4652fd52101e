import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { daemonBackend } from '../../../src/main/app/daemon-backend.js';
import { registerIpcHandlers } from '../../../src/main/app/ipc-handlers.js';
import { validateConfig } from '../../../src/main/core/config/config-loader.js';
import { SentinelService } from '../../../src/main/core/service/sentinel-service.js';
import { ipcChannel } from '../../../src/shared/ipc.js';
import { tempDir } from '../../support/temp-dir.js';

const TOKEN = 'guard-token-for-the-app-4321';

describe("the app's config channel keeps the same rules as the API", () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('serves the token masked, keeps it when the mask comes back, refuses programs to run naming the field', async () => {
    writeFileSync(`${dir.path}/config.json`, JSON.stringify({ guard: { token: TOKEN } }));
    const loaded = validateConfig({ guard: { token: TOKEN } });
    assert.ok(loaded.ok);
    // The config channels use the service's configuration, its file and the daemon's reload.
    const reloads: string[] = [];
    const service = new SentinelService({
      timeline: {} as never,
      reports: {} as never,
      audit: {} as never,
      now: Date.now,
      status: () => ({}) as never,
      config: () => loaded.config,
      configPath: () => `${dir.path}/config.json`,
      configReload: {
        state: () => null,
        reload: (trigger) => {
          reloads.push(trigger);
          return {
            ok: true,
            trigger,
            at: 0,
            changed: ['intervalSeconds'],
            applied: [],
            restartRequired: ['intervalSeconds'],
          };
        },
      },
    });
    const backend = daemonBackend(service);
    const handlers = new Map<string, (e: IpcMainInvokeEvent, p: unknown) => Promise<unknown>>();
    const ipcMain = {
      handle: (c: string, fn: (e: IpcMainInvokeEvent, ...a: unknown[]) => unknown) =>
        handlers.set(c, fn as never),
    } satisfies Pick<IpcMain, 'handle'>;
    registerIpcHandlers(ipcMain, backend, () => true);
    const call = (c: 'config' | 'saveConfig' | 'patchConfig', p?: unknown) =>
      handlers.get(ipcChannel(c))!({} as IpcMainInvokeEvent, p) as Promise<Record<string, unknown>>;

    const shown = await call('config');
    assert.ok(!JSON.stringify(shown).includes(TOKEN));
    const config = shown['config'] as Record<string, Record<string, unknown>>;
    assert.equal(config['guard']!['token'], '••••4321');

    assert.deepEqual(await call('saveConfig', { ...config, intervalSeconds: 3 }), {
      ok: true,
      errors: [],
      applied: [],
      restartRequired: ['intervalSeconds'],
    });
    assert.deepEqual(reloads, ['app'], 'the saved file is applied at once');
    const saved = JSON.parse(readFileSync(`${dir.path}/config.json`, 'utf8'));
    assert.equal(saved.guard.token, TOKEN);
    assert.equal(saved.intervalSeconds, 3);
    assert.equal(statSync(`${dir.path}/config.json`).mode & 0o777, 0o600);

    const refused = await call('saveConfig', { ...config, gpu: { ceilingBytes: null, mlxPython: '/tmp/p' } });
    assert.deepEqual(refused, {
      ok: false,
      errors: [
        'config: "gpu.mlxPython" names a program to run and cannot be changed from here; edit the configuration file',
      ],
    });

    // The Settings form's channel: only the keys named change, the rest of the file stays as it is.
    const before = JSON.parse(readFileSync(`${dir.path}/config.json`, 'utf8'));
    assert.deepEqual(
      await call('patchConfig', { set: { 'guard.queue.max': 4 }, unset: ['intervalSeconds'] }),
      {
        ok: true,
        errors: [],
        applied: [],
        restartRequired: ['intervalSeconds'],
      },
    );
    const patched = JSON.parse(readFileSync(`${dir.path}/config.json`, 'utf8'));
    const { intervalSeconds: _gone, ...rest } = before;
    assert.deepEqual(patched, {
      ...rest,
      guard: { ...before.guard, queue: { ...before.guard.queue, max: 4 } },
    });
    assert.equal(patched.guard.token, TOKEN);
    assert.deepEqual(await call('patchConfig', { set: { 'gpu.mlxPython': '/tmp/p' } }), {
      ok: false,
      errors: [
        'config: "gpu.mlxPython" names a program to run and cannot be changed from here; edit the configuration file',
      ],
    });
    assert.deepEqual(
      await call('patchConfig', { set: { intervalSeconds: 500 } }).then((r) => r['ok']),
      false,
    );
    await assert.rejects(call('patchConfig', { intervalSeconds: 2 }), /patchConfig: malformed message/);
    assert.deepEqual(
      JSON.parse(readFileSync(`${dir.path}/config.json`, 'utf8')),
      patched,
      'refusals wrote nothing',
    );
  });
});
