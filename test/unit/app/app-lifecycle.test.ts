import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP_NAP_REASON, AppNapGuard } from '../../../src/main/app/app-nap.js';
import { dashboardLoadOptions } from '../../../src/main/app/dashboard-window.js';
import { announceAdvisoryOnce } from '../../../src/main/app/event-notifications.js';
import { LOCAL_NETWORK_HINT, withLocalNetworkHint } from '../../../src/main/app/local-network.js';
import type { MenuActions } from '../../../src/main/app/menu-template.js';
import { NotificationController } from '../../../src/main/app/notification-controller.js';
import { QuitController, type QuitDeps } from '../../../src/main/app/quit-controller.js';
import { restartOnStorageChange } from '../../../src/main/app/storage-restart.js';
import { TrayController } from '../../../src/main/app/tray-controller.js';
import type { TrayView } from '../../../src/main/app/tray-view.js';
import {
  collectGarbage,
  FakeNotificationCenter,
  FakePowerSaveBlocker,
  FakeTray,
  fakeMenu,
} from './electron-fakes.js';

const GiB = 1024 ** 3;
const view = (over: Partial<TrayView> = {}): TrayView => ({
  level: 'ok',
  reasons: [],
  freePercent: 60,
  wiredBytes: 40 * GiB,
  gpuInUse: 48 * GiB,
  gpuCeiling: 96 * GiB,
  exoReachable: true,
  model: null,
  processes: [],
  lastPanic: null,
  guardMode: 'open',
  guardOverride: null,
  hold: null,
  launchAtLogin: { enabled: false, status: 'not-registered', problem: null },
  ...over,
});

const actions = (calls: string[]): Omit<MenuActions, 'openAlert'> => ({
  openDashboard: (v) => calls.push(`dashboard:${v ?? ''}`),
  openReport: (id) => calls.push(`report:${id}`),
  setGuardMode: (m) => calls.push(`guard:${m}`),
  acknowledge: () => calls.push('ack'),
  toggleLaunchAtLogin: () => calls.push('login'),
  openNotificationSettings: () => calls.push('notification-settings'),
  quit: () => calls.push('quit'),
});

/** A quit controller over recorded steps, with a manual clock for the bound. */
function quitRig(over: Partial<QuitDeps> = {}) {
  const calls: string[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const deps: QuitDeps = {
    stop: async (r) => void calls.push(`stop:${r}`),
    flush: async () => void calls.push('flush'),
    exit: (code) => void calls.push(`exit:${code}`),
    log: (m) => void calls.push(`log:${m}`),
    boundMs: 5_000,
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => {
      (t as { cleared: boolean }).cleared = true;
    },
    ...over,
  };
  return { quit: new QuitController(deps), calls, timers };
}
const beforeQuit = () => {
  const e = {
    prevented: 0,
    preventDefault() {
      e.prevented++;
    },
  };
  return e;
};

describe('quitting always ends', () => {
  it('the first before-quit stops the daemon, flushes the log, then exits; a second one (shutdown + the system quit) starts nothing', async () => {
    const { quit, calls, timers } = quitRig();
    const first = beforeQuit();
    const second = beforeQuit();
    quit.onBeforeQuit(first, 'shutdown');
    quit.onBeforeQuit(second, 'quit');
    assert.equal(first.prevented, 1);
    assert.equal(second.prevented, 1, 'held too, so the app does not die before the flush');
    assert.equal(await quit.end('again'), 0);
    assert.deepEqual(calls, ['stop:shutdown', 'flush', 'exit:0']);
    assert.equal(timers.length, 1);
    assert.equal(timers[0]!.ms, 5_000);
    assert.equal(timers[0]!.cleared, true, 'the bound is cleared once done');
    const late = beforeQuit();
    quit.onBeforeQuit(late);
    assert.equal(late.prevented, 0, 'after exit nothing is held');
  });

  it('the timeline removed (or writable again): the app relaunches, then quits the one way (stop writes it back, flush, exit), once', async () => {
    const { quit, calls } = quitRig();
    const daemon = { onStorageGone: null as (() => void) | null, onStorageBack: null as (() => void) | null };
    let ended: Promise<number> | null = null;
    restartOnStorageChange(daemon, {
      relaunch: () => void calls.push('relaunch'),
      requestQuit: (reason) => {
        ended = quit.end(reason);
      },
      log: (m) => void calls.push(`log:${m}`),
    });
    daemon.onStorageGone!();
    daemon.onStorageBack!();
    assert.ok(ended);
    assert.equal(await ended, 0);
    const why = 'the timeline file was removed or replaced; written back, restarting on it';
    assert.deepEqual(calls, [`log:restarting the app: ${why}`, 'relaunch', `stop:${why}`, 'flush', 'exit:0']);
  });

  it('a stop that fails (e.g. the database already closed) still flushes and exits, with code 1', async () => {
    const { quit, calls } = quitRig({
      stop: async () => {
        throw new Error('The database connection is not open');
      },
    });
    assert.equal(await quit.end('quit'), 1);
    assert.deepEqual(calls, [
      'log:quitting (quit): the daemon did not stop cleanly: The database connection is not open',
      'flush',
      'exit:1',
    ]);
  });

  it('a stop that hangs is cut at the bound: the app exits anyway', async () => {
    const { quit, calls, timers } = quitRig({ stop: () => new Promise(() => {}) });
    const ended = quit.end('logout');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, [], 'still waiting for the stop');
    timers[0]!.fn();
    assert.equal(await ended, 1);
    assert.deepEqual(calls, ['log:quitting (logout): stopping took over 5000 ms; exiting anyway', 'exit:1']);
  });

  it('with the real bound, a hung flush exits within it', async () => {
    const { quit, calls } = quitRig({
      flush: () => new Promise(() => {}),
      boundMs: 50,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
    });
    const t0 = performance.now();
    assert.equal(await quit.end('quit'), 1);
    const ms = performance.now() - t0;
    assert.ok(ms >= 45 && ms < 1_000, `exited after ${ms.toFixed(0)} ms`);
    assert.deepEqual(calls.at(-1), 'exit:1');
  });
});

describe('alerts that are seen', () => {
  it('a banner keeps working after garbage collection: the controller holds it until clicked', async () => {
    const center = new FakeNotificationCenter(true);
    const opened: string[] = [];
    const notes = new NotificationController({
      create: center.create,
      isSupported: () => true,
      open: (v) => opened.push(v),
      fallback: () => assert.fail('a signed app shows banners'),
      log: () => {},
      now: () => 0,
    });
    // The fake is faithful: a notification nobody holds is collected, and its click goes nowhere.
    (() => {
      center.create({ title: 'unheld', body: '' }).show();
    })();
    (() => {
      notes.panic('completeMemory', 'now', 7);
    })();
    await collectGarbage();
    assert.equal(center.click('unheld'), false, 'an unreferenced notification was collected');
    assert.equal(notes.state, 'shown');
    assert.equal(notes.pending, 1);
    assert.equal(center.click('Kernel panic recorded'), true);
    assert.deepEqual(opened, ['Panics:7']);
    assert.equal(notes.pending, 0, 'released once clicked');
  });

  it("unsigned: every banner fails; the alert stays in the title and as the menu's first item until opened, through 1 Hz updates", async () => {
    const center = new FakeNotificationCenter(false);
    const tray = new FakeTray();
    const calls: string[] = [];
    let controller: TrayController | null = null;
    const notes = new NotificationController({
      create: center.create,
      isSupported: () => true,
      open: (v) => calls.push(`dashboard:${v}`),
      fallback: (a) => controller?.raise(a),
      log: () => {},
      now: () => 1_000,
    });
    controller = new TrayController(
      tray,
      fakeMenu,
      (s) => `icon:${s}`,
      actions(calls),
      () => notes.state,
    );
    controller.update(view());
    assert.equal(tray.title, ' 50%');
    const meta = new Map<string, string>();
    const store = {
      getMeta: (k: string) => meta.get(k) ?? null,
      setMeta: (k: string, v: string) => void meta.set(k, v),
    };
    announceAdvisoryOnce(store, { affected: true, summary: 'macOS 26.4.1 is affected' }, notes, () => 2_000);
    await new Promise((r) => setImmediate(r));
    assert.equal(notes.state, 'failed');
    assert.equal(meta.get('app.advisory-shown'), undefined, 'a failed banner is not a seen advisory');
    for (let tick = 0; tick < 5; tick++) controller.update(view({ gpuInUse: (50 + tick) * GiB }));
    assert.equal(tray.title, ' ⚠ exo-sentinel: platform …', 'ticks do not overwrite the alert');
    assert.match(tray.tooltips.at(-1)!, /alert: exo-sentinel: platform advisory$/);
    const menu = tray.menu;
    assert.equal(
      menu.template[0]?.label,
      '⚠ Last alert: exo-sentinel: platform advisory — macOS 26.4.1 is affected',
    );
    assert.ok(menu.label('Notifications are not shown'));
    menu.click('Allow in System Settings › Notifications');
    menu.click('⚠ Last alert');
    assert.deepEqual(calls, ['notification-settings', 'dashboard:Advisory']);
    assert.equal(meta.get('app.advisory-shown'), '2000', 'recorded once the alert was opened');
    assert.equal(tray.title, ' 56%', 'the figure is back once the alert is opened');
    assert.equal(tray.menu.label('⚠ Last alert'), undefined);
  });

  it('notifications unsupported: the alert goes to the menu bar the same way', () => {
    const tray = new FakeTray();
    let controller: TrayController | null = null;
    const notes = new NotificationController({
      create: () => assert.fail('no banner when unsupported'),
      isSupported: () => false,
      open: () => {},
      fallback: (a) => controller?.raise(a),
      log: () => {},
      now: () => 0,
    });
    controller = new TrayController(
      tray,
      fakeMenu,
      (s) => `icon:${s}`,
      actions([]),
      () => notes.state,
    );
    controller.update(view());
    notes.runnerDied('runner 1601 failed (SIGKILL)');
    assert.equal(tray.title, ' ⚠ An EXO runner died');
    assert.equal(notes.state, 'unsupported');
    assert.match(String(tray.menu.template[0]?.label), /runner 1601 failed/);
  });
});

describe('the menu is never rebuilt under the person', () => {
  it('changes while the menu is open wait for it to close; the title and tooltip keep updating', () => {
    const tray = new FakeTray();
    let opens = 0;
    const c = new TrayController(
      tray,
      fakeMenu,
      (s) => `icon:${s}`,
      actions([]),
      undefined,
      () => opens++,
    );
    c.update(view());
    assert.equal(c.menuBuilds, 1);
    const open = tray.open();
    assert.equal(opens, 1, 'the menu opening refreshes what is read on demand (login item)');
    for (let gb = 60; gb < 70; gb++) c.update(view({ gpuInUse: gb * GiB, level: gb > 65 ? 'high' : 'ok' }));
    assert.equal(c.menuBuilds, 1, 'no rebuild while open');
    assert.equal(tray.menus.length, 1);
    assert.equal(c.menuDeferred, 10);
    assert.equal(tray.title, ' 72%', 'the live figure still moves');
    assert.deepEqual(tray.images, ['icon:ok', 'icon:high']);
    tray.close(open);
    c.update(view({ gpuInUse: 69 * GiB, level: 'high' }));
    assert.equal(c.menuBuilds, 2);
    assert.equal(tray.menu.template[0]?.label, 'Level: HIGH');
    assert.ok(tray.titles.every(([, o]) => o?.fontType === 'monospacedDigit'));
  });
});

describe('the rest of the shell', () => {
  it('a view opens through the URL hash at load (no message sent before the page listens)', () => {
    assert.deepEqual(dashboardLoadOptions('Panics:12'), { hash: 'Panics:12' });
    assert.equal(dashboardLoadOptions(undefined), undefined);
  });

  it('App Nap is prevented while EXO runs, with the reason, and allowed again when it stops', () => {
    const blocker = new FakePowerSaveBlocker();
    const logs: string[] = [];
    const nap = new AppNapGuard(blocker, (m) => logs.push(m));
    nap.set(false);
    assert.equal(blocker.active.size, 0);
    nap.set(true);
    nap.set(true);
    assert.deepEqual([...blocker.active.values()], ['prevent-app-suspension']);
    assert.equal(nap.held, true);
    nap.set(false);
    assert.equal(blocker.active.size, 0);
    assert.equal(nap.held, false);
    assert.deepEqual(logs, [
      `App Nap prevented (power-save blocker 1): ${APP_NAP_REASON}`,
      'App Nap allowed again (power-save blocker 1 released): EXO is not running',
    ]);
  });

  it('a peer refused by Local Network privacy (EHOSTUNREACH) says where to allow it, on macOS only', () => {
    const result = {
      rows: [
        { host: 'self', error: null },
        { host: 'mac-2:52417', error: 'EHOSTUNREACH' },
        { host: 'mac-3:52417', error: 'ECONNREFUSED' },
      ],
    };
    assert.deepEqual(
      withLocalNetworkHint(result, 'darwin').rows.map((r) => r.error),
      [null, `EHOSTUNREACH: ${LOCAL_NETWORK_HINT}`, 'ECONNREFUSED'],
    );
    assert.deepEqual(withLocalNetworkHint(result, 'linux'), result);
  });
});
