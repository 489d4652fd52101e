import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import {
  CHECK_EVERY_MS,
  startUpdater,
  type UpdaterDeps,
  updaterDecision,
} from '../../../src/main/app/updater.js';

/** A stand-in for electron-updater's autoUpdater: an emitter whose checks are counted. */
class FakeUpdater extends EventEmitter {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  allowPrerelease = true;
  logger: unknown = null;
  checks = 0;
  constructor(private readonly fail = false) {
    super();
  }
  checkForUpdates() {
    this.checks++;
    return this.fail ? Promise.reject(new Error('HttpError: 404 latest-mac.yml')) : Promise.resolve(null);
  }
}

function deps(o: Partial<UpdaterDeps> & { updater?: FakeUpdater } = {}) {
  const logs: string[] = [];
  const ready: string[] = [];
  let loads = 0;
  const updater = o.updater ?? new FakeUpdater();
  const d: UpdaterDeps = {
    isPackaged: true,
    updateConfigFile: '/Applications/exo-sentinel.app/Contents/Resources/app-update.yml',
    exists: () => true,
    env: {},
    load: async () => {
      loads++;
      return updater as unknown as Awaited<ReturnType<UpdaterDeps['load']>>;
    },
    log: (level, m) => logs.push(`${level} ${m}`),
    onReady: (v) => ready.push(v),
    ...o,
  };
  return { d, logs, ready, updater, loads: () => loads };
}

describe('the app updater (electron-updater on the zip target)', () => {
  it('never loads in a development run, without a publish configuration, or when switched off', async () => {
    for (const [o, why] of [
      [{ isPackaged: false }, 'not a packaged app (a development run)'],
      [
        { exists: () => false },
        'no publish configuration in this build (/Applications/exo-sentinel.app/Contents/Resources/app-update.yml is missing)',
      ],
      [{ env: { EXO_SENTINEL_NO_UPDATE: '1' } }, 'EXO_SENTINEL_NO_UPDATE=1'],
    ] as const) {
      const f = deps(o);
      const r = await startUpdater(f.d);
      assert.deepEqual([r.enabled, r.why], [false, why]);
      assert.equal(f.loads(), 0, 'electron-updater not even loaded');
      assert.deepEqual(f.logs, [`info updates: off: ${why}`]);
    }
  });

  it('packaged with a feed: downloads in the background, installs on quit, checks now and every 6 h', async () => {
    const f = deps();
    const r = await startUpdater(f.d);
    try {
      assert.equal(r.enabled, true);
      assert.equal(f.updater.autoDownload, true);
      assert.equal(f.updater.autoInstallOnAppQuit, true);
      assert.equal(f.updater.allowPrerelease, false);
      assert.equal(f.updater.checks, 1);
      assert.equal(CHECK_EVERY_MS, 21_600_000);
      f.updater.emit('update-downloaded', { version: '0.2.0' });
      assert.deepEqual(f.ready, ['0.2.0']);
    } finally {
      r.stop();
    }
  });

  it('a failing check or an updater error is a log line, never an exception', async () => {
    const f = deps({ updater: new FakeUpdater(true) });
    const r = await startUpdater(f.d);
    r.stop();
    await new Promise((resolve) => setImmediate(resolve));
    f.updater.emit('error', new Error('code signature did not pass validation'));
    assert.ok(
      f.logs.includes('warn updates: check failed: HttpError: 404 latest-mac.yml'),
      f.logs.join('\n'),
    );
    assert.ok(f.logs.includes('warn updates: code signature did not pass validation'));
    const broken = deps({
      load: async () => {
        throw new Error("Cannot find module 'electron-updater'");
      },
    });
    const b = await startUpdater(broken.d);
    assert.equal(b.enabled, false);
    assert.equal(b.why, "electron-updater could not load: Cannot find module 'electron-updater'");
  });

  it('the decision alone', () => {
    assert.equal(
      updaterDecision({
        isPackaged: true,
        updateConfigFile: '/x/app-update.yml',
        exists: () => true,
        env: {},
      }).enabled,
      true,
    );
  });
});
