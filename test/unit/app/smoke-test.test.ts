import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NotificationController } from '../../../src/main/app/notification-controller.js';
import {
  notificationOutcome,
  runSmokeChecks,
  SMOKE_CONFIG,
  type SmokeVerdict,
  smokeTestTarget,
  smokeVerdict,
  waitFor,
} from '../../../src/main/app/smoke-test.js';
import { TrayController } from '../../../src/main/app/tray-controller.js';
import { validateConfig } from '../../../src/main/core/config/config-loader.js';
import { repoRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/temp-dir.js';
import { FakeNotificationCenter, FakeTray, fakeMenu } from './electron-fakes.js';

const meta = {
  app: 'exo-sentinel',
  version: '0.1.0',
  electron: '45.5.0',
  platform: 'darwin',
  arch: 'arm64',
  startedAt: '2026-11-28T12:00:00.000Z',
};

describe('smoke mode (--smoke-test[=FILE])', () => {
  it('reads the flag: bare uses the default file, =FILE names one, absent is null', () => {
    assert.equal(smokeTestTarget(['/x/exo-sentinel', '--smoke-test'], '/cwd/v.json'), '/cwd/v.json');
    assert.equal(smokeTestTarget(['/x/exo-sentinel', '--smoke-test=/tmp/out.json'], '/d'), '/tmp/out.json');
    assert.equal(smokeTestTarget(['/x/exo-sentinel', '--smoke-test='], '/d'), '/d');
    assert.equal(smokeTestTarget(['/x/exo-sentinel', '--smoke'], '/d'), null);
    assert.equal(smokeTestTarget(['/x/exo-sentinel'], '/d'), null);
  });

  it("the smoke run's config is valid and listens on ports the system picks (never an installed copy's)", () => {
    const loaded = validateConfig(JSON.parse(JSON.stringify(SMOKE_CONFIG)));
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
    assert.equal(loaded.config.guard.listen, '127.0.0.1:0');
    assert.equal(loaded.config.api.listen, '127.0.0.1:0');
  });

  it('runs each check with its limit; a failure, a throw or a hang fails that check only, and dependents are skipped', async () => {
    let t = 0;
    const t0 = performance.now();
    const checks = await runSmokeChecks(
      [
        ['tray', async () => 'menu-bar item {"x":1200,"y":0,"width":60,"height":24}', 1_000],
        ['window', () => new Promise(() => {}), 40],
        ['ipc', async () => 'never runs', 1_000],
        [
          'notification',
          async () => {
            throw new Error('banner failed and no menu-bar alert was raised');
          },
          1_000,
        ],
        ['daemon', async () => '3 tick(s)', 1_000],
      ],
      () => (t += 5),
      { ipc: ['window'] },
    );
    assert.ok(performance.now() - t0 < 1_000, 'the hung check was cut at its 40 ms limit');
    assert.deepEqual(
      checks.map((c) => [c.name, c.ok, c.detail]),
      [
        ['tray', true, 'menu-bar item {"x":1200,"y":0,"width":60,"height":24}'],
        ['window', false, 'no answer within 40 ms'],
        ['ipc', false, 'skipped: needs window'],
        ['notification', false, 'banner failed and no menu-bar alert was raised'],
        ['daemon', true, '3 tick(s)'],
      ],
    );
    assert.deepEqual(
      checks.map((c) => c.ms),
      [5, 5, 0, 5, 5],
    );
    const v = smokeVerdict(checks, meta, Date.parse(meta.startedAt) + 4_200);
    assert.equal(v.ok, false);
    assert.equal(v.durationMs, 4_200);
    assert.deepEqual(v.failed, [
      'window: no answer within 40 ms',
      'ipc: skipped: needs window',
      'notification: banner failed and no menu-bar alert was raised',
    ]);
    const passed = smokeVerdict(
      checks.filter((c) => c.ok),
      meta,
      Date.parse(meta.startedAt) + 1,
    );
    assert.equal(passed.ok, true);
    assert.deepEqual(passed.failed, []);
    assert.equal(smokeVerdict([], meta, 0).ok, false, 'no checks is no verdict');
    // The verdict is plain JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(v)) as SmokeVerdict, v);
  });

  it('the notification check: unsigned builds pass only when the alert reached the menu bar', async () => {
    for (const signed of [true, false]) {
      const center = new FakeNotificationCenter(signed);
      const tray = new FakeTray();
      let controller: TrayController | null = null;
      const notes = new NotificationController({
        create: center.create,
        isSupported: () => true,
        open: () => {},
        fallback: (a) => controller?.raise(a),
        log: () => {},
        now: () => 0,
      });
      controller = new TrayController(
        tray,
        fakeMenu,
        (s) => s,
        {
          openDashboard: () => {},
          openReport: () => {},
          setGuardMode: () => {},
          acknowledge: () => {},
          toggleLaunchAtLogin: () => {},
          openNotificationSettings: () => {},
          quit: () => {},
        },
        () => notes.state,
      );
      notes.show('smoke', 'exo-sentinel smoke test', 'A test notification', 'Overview');
      const state = await waitFor(
        () => (notes.state === 'unknown' ? null : notes.state),
        'banner outcome',
        1_000,
        5,
      );
      assert.equal(
        notificationOutcome(state, controller.pendingAlert !== null),
        signed
          ? 'banner shown'
          : 'banner failed (expected for an unsigned build); the alert is in the menu bar instead',
      );
    }
    assert.throws(
      () => notificationOutcome('failed', false),
      /banner failed and no menu-bar alert was raised/,
    );
    assert.throws(() => notificationOutcome('unknown', false), /neither showed nor failed/);
    await assert.rejects(
      waitFor(() => null, 'first tick', 30, 5),
      /first tick: not within 30 ms/,
    );
  });

  // Electron 45 downloads its binary on first use, from GitHub, which this machine cannot reach (and
  // `require('electron')` from Node would try): look for the binary without loading the package.
  const electronDir = join(repoRoot, 'node_modules', 'electron');
  const pathTxt = join(electronDir, 'path.txt');
  const binary = existsSync(pathTxt) ? join(electronDir, 'dist', readFileSync(pathTxt, 'utf8').trim()) : null;
  const xvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).stdout.trim();
  const skip =
    binary === null || !existsSync(binary)
      ? 'no Electron binary: electron 45 downloads it on first use from GitHub, unreachable here (the macOS CI job runs the packaged app instead)'
      : process.platform === 'linux' && !xvfb
        ? 'no xvfb-run to give Electron a display'
        : !existsSync(join(repoRoot, 'dist', 'main', 'app', 'main.js'))
          ? 'dist/main/app/main.js is missing: run `npm run build` first'
          : false;

  it('the real app passes its own smoke test (Xvfb on Linux)', { skip, timeout: 90_000 }, () => {
    const dir = tempDir('exo-sentinel-smoke-run-');
    try {
      const file = join(dir.path, 'verdict.json');
      const cmd = process.platform === 'linux' ? xvfb : (binary as string);
      const args = [
        ...(process.platform === 'linux' ? ['-a', binary as string, '--no-sandbox'] : []),
        repoRoot,
        `--smoke-test=${file}`,
      ];
      const run = spawnSync(cmd, args, { encoding: 'utf8', timeout: 80_000 });
      assert.ok(existsSync(file), `no verdict written (exit ${run.status}): ${run.stderr}`);
      const v = JSON.parse(readFileSync(file, 'utf8')) as SmokeVerdict;
      assert.deepEqual(v.failed, []);
      assert.equal(v.ok, true);
      assert.equal(run.status, 0);
    } finally {
      dir.cleanup();
    }
  });
});
