import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  IpcMain,
  IpcMainInvokeEvent,
  IpcRenderer,
  IpcRendererEvent,
  MenuItemConstructorOptions,
  NotificationConstructorOptions,
  PowerMonitor,
} from 'electron';
import type { AppBackend } from '../../../src/main/app/app-backend.js';
import { DashboardController } from '../../../src/main/app/dashboard-controller.js';
import { dashboardPermission, dashboardWindowOptions } from '../../../src/main/app/dashboard-window.js';
import { announceAdvisoryOnce, notifyTimelineEvents } from '../../../src/main/app/event-notifications.js';
import { IpcRejection, registerIpcHandlers, trustedSender } from '../../../src/main/app/ipc-handlers.js';
import { LOGIN_ITEMS_SETTINGS_URL, LoginItem } from '../../../src/main/app/login-item.js';
import { buildMenuTemplate, type MenuActions } from '../../../src/main/app/menu-template.js';
import {
  NotificationController,
  type NotificationLike,
} from '../../../src/main/app/notification-controller.js';
import { wirePowerEvents } from '../../../src/main/app/power-events.js';
import { TrayController, type TrayLike } from '../../../src/main/app/tray-controller.js';
import type { TrayState, TrayView } from '../../../src/main/app/tray-view.js';
import { createBridge } from '../../../src/preload/bridge.js';
import { GUARD_PROFILES } from '../../../src/shared/api-contracts.js';
import { IPC_PUSH_CHANNEL, ipcChannel } from '../../../src/shared/ipc.js';
import { makeStatusView } from '../../support/status-view-factory.js';
import { FakeLoginItems, FakeTray, fakeMenu } from './electron-fakes.js';

const GiB = 1024 ** 3;
const view = (over: Partial<TrayView> = {}): TrayView => ({
  level: 'ok',
  reasons: [],
  freePercent: 60,
  wiredBytes: 40 * GiB,
  gpuInUse: 48 * GiB,
  gpuCeiling: 96 * GiB,
  exoReachable: true,
  model: 'mlx-community/Qwen3-Coder-Next-4bit',
  processes: [{ pid: 1601, role: 'exo-runner', footprint: 40 * GiB }],
  lastPanic: null,
  guardMode: 'open',
  guardOverride: null,
  hold: null,
  launchAtLogin: { enabled: false, status: 'not-registered', problem: null },
  ...over,
});

const actions = (): MenuActions & { calls: string[] } => {
  const calls: string[] = [];
  return {
    calls,
    openDashboard: (v) => calls.push(`dashboard:${v ?? ''}`),
    openReport: (id) => calls.push(`report:${id}`),
    setGuardMode: (m) => calls.push(`guard:${m}`),
    acknowledge: () => calls.push('ack'),
    toggleLaunchAtLogin: () => calls.push('login'),
    openAlert: () => calls.push('alert'),
    openNotificationSettings: () => calls.push('notification-settings'),
    quit: () => calls.push('quit'),
  };
};

describe('menu-bar wiring (fakes typed against electron.d.ts)', () => {
  it('a level change swaps the icon and rebuilds the menu; an unchanged view does neither', () => {
    const tray = new FakeTray() satisfies TrayLike;
    const c = new TrayController(tray, fakeMenu, (s: TrayState) => `icon:${s}`, actions());
    c.update(view());
    c.update(view());
    assert.deepEqual(tray.images, ['icon:ok']);
    assert.equal(c.menuBuilds, 1);
    assert.deepEqual(tray.titles, [[' 50%', { fontType: 'monospacedDigit' }]]);
    assert.equal(tray.tooltips.at(-1), 'exo-sentinel: OK — GPU 50% of the Metal ceiling');
    c.update(
      view({
        level: 'high',
        reasons: [{ signal: 'gpu-in-use', level: 'high', message: 'GPU in use 86%' }],
        gpuInUse: 83 * GiB,
      }),
    );
    assert.deepEqual(tray.images, ['icon:ok', 'icon:high']);
    assert.equal(c.menuBuilds, 2);
    assert.equal(tray.title, ' 86%');
    assert.equal(tray.menu.template[0]?.label, 'Level: HIGH');
    c.update(view({ exoReachable: false, gpuInUse: 83 * GiB }));
    assert.equal(tray.images.at(-1), 'icon:exo-down');
    c.update(view({ hold: { reason: 'completeMemory kernel panic (report 3)' }, gpuInUse: 83 * GiB }));
    assert.equal(tray.images.at(-1), 'icon:hold');
  });

  it('the menu has the figures, the last panic with its report, the guard switch, and Acknowledge only during a hold', () => {
    const a = actions();
    const calm = buildMenuTemplate(view(), a);
    const labels = calm.map((i) => i.label ?? i.type);
    assert.ok(labels.includes('Memory: free 60%, wired 40.0 GiB'));
    assert.ok(labels.includes('GPU: 48.0 GiB of 96.0 GiB (50%)'));
    assert.ok(labels.includes('EXO: running — mlx-community/Qwen3-Coder-Next-4bit'));
    assert.ok(labels.includes('No kernel panic recorded'));
    assert.ok(!labels.includes('Acknowledge panic'));
    const guard = calm.find((i) => i.label === 'Guard')!.submenu as MenuItemConstructorOptions[];
    assert.deepEqual(
      guard.map((g) => [g.label ?? g.type, g.checked]),
      [
        ['Automatic, by level (open)', true],
        ['separator', undefined],
        ['Open', false],
        ['Serialise requests', false],
        ['Refuse new requests', false],
      ],
    );
    (guard[3]!.click as () => void)();
    const pinned = buildMenuTemplate(view({ guardMode: 'serialise', guardOverride: 'serialise' }), a);
    const pinnedGuard = pinned.find((i) => i.label === 'Guard')!.submenu as MenuItemConstructorOptions[];
    assert.deepEqual(
      pinnedGuard.filter((g) => g.checked).map((g) => g.label),
      ['Serialise requests'],
      'a pinned mode is the checked one',
    );
    (pinnedGuard[0]!.click as () => void)();
    const held = buildMenuTemplate(
      view({ hold: { reason: 'panic' }, lastPanic: { id: 3, kind: 'completeMemory', time: 0 } }),
      a,
    );
    (held.find((i) => i.label === 'Open crash report')!.click as () => void)();
    (held.find((i) => i.label === 'Acknowledge panic')!.click as () => void)();
    (held.find((i) => i.label?.startsWith('Launch at login'))!.click as () => void)();
    (held.find((i) => i.label === 'Quit exo-sentinel')!.click as () => void)();
    assert.deepEqual(a.calls, ['guard:serialise', 'guard:null', 'report:3', 'ack', 'login', 'quit']);
  });

  it('notifications are rate-limited per topic, open the right view, and fall back to the tray when they fail', () => {
    let now = 0;
    const shown: NotificationConstructorOptions[] = [];
    const handlers = new Map<string, (...a: unknown[]) => void>();
    const byTitle = new Map<string, Map<string, (...a: unknown[]) => void>>();
    const opened: string[] = [];
    const fallbacks: string[] = [];
    const c = new NotificationController({
      create: (o) => {
        shown.push(o);
        const own = new Map<string, (...a: unknown[]) => void>();
        byTitle.set(String(o.title), own);
        const n = {
          show: () => {},
          on: (event: string, fn: (...a: unknown[]) => void) => {
            handlers.set(event, fn);
            own.set(event, fn);
            return n;
          },
        };
        return n as unknown as NotificationLike;
      },
      isSupported: () => true,
      open: (v) => opened.push(v),
      fallback: (a) => fallbacks.push(a.title),
      log: () => {},
      now: () => now,
    });
    assert.equal(c.levelChanged('ok', 'high', 'GPU at 90%'), true);
    assert.equal(
      c.levelChanged('high', 'critical', 'GPU at 96%'),
      false,
      'within a minute of the last level banner',
    );
    assert.equal(c.levelChanged('critical', 'high', null), false, 'a fall is not announced');
    now = 61_000;
    assert.equal(c.levelChanged('high', 'critical', 'GPU at 96%'), true);
    assert.equal(c.panic('completeMemory', 'now', 7), true);
    assert.equal(c.advisory('macOS 26.4.1 is affected'), true);
    now = 999_999_999;
    assert.equal(c.advisory('again'), false, 'the advisory shows once');
    assert.deepEqual(
      shown.map((s) => s.title),
      ['EXO risk HIGH', 'EXO risk CRITICAL', 'Kernel panic recorded', 'exo-sentinel: platform advisory'],
    );
    assert.equal(c.suppressed, 2);
    handlers.get('click')!();
    byTitle.get('Kernel panic recorded')!.get('click')!();
    assert.deepEqual(opened, ['Advisory', 'Panics:7'], 'a panic banner opens its own report');
    handlers.get('failed')!({}, 'not signed');
    assert.deepEqual(fallbacks, ['exo-sentinel: platform advisory']);
    const unsupported = new NotificationController({
      create: () => assert.fail('no banner when unsupported'),
      isSupported: () => false,
      open: () => {},
      fallback: (a) => fallbacks.push(a.title),
      log: () => {},
      now: () => 0,
    });
    unsupported.runnerDied('runner 1 failed');
    assert.equal(fallbacks.at(-1), 'An EXO runner died');
  });

  it('timeline events raise panic and runner banners; the advisory is announced once per data directory', () => {
    const got: Array<[string, ...unknown[]]> = [];
    const notes = {
      panic: (kind: string | null, when: string, id?: number) => got.push(['panic', kind, when, id]) > 0,
      runnerDied: (m: string) => got.push(['runner', m]) > 0,
      advisory: (summary: string, onSeen?: () => void) => {
        got.push(['advisory', summary]);
        seen.push(onSeen);
        return true;
      },
    };
    const seen: Array<(() => void) | undefined> = [];
    const iso = (ms: number) => new Date(ms).toISOString();
    const panicAt = Date.UTC(2026, 3, 23, 10, 0, 35);
    notifyTimelineEvents(
      [
        {
          time: 5,
          kind: 'panic.detected',
          severity: 'critical',
          message: '',
          data: { kind: 'completeMemory', reportId: 3, panicTime: panicAt },
        },
        {
          time: Date.UTC(2026, 10, 26),
          kind: 'panic.detected',
          severity: 'warning',
          message: '',
          data: { kind: null, reportId: 4, panicTime: null },
        },
        { time: 6, kind: 'exo.runner-failed', severity: 'warning', message: 'runner 1601 failed (SIGKILL)' },
        { time: 7, kind: 'exo.runner-terminated', severity: 'warning', message: 'runner 1602 terminated' },
        { time: 8, kind: 'risk.level', severity: 'warning', message: 'ok → high' },
      ],
      notes,
      iso,
    );
    assert.deepEqual(got, [
      ['panic', 'completeMemory', '2026-04-23T10:00:35.000Z', 3],
      ['panic', null, '2026-11-26T00:00:00.000Z', 4],
      ['runner', 'runner 1601 failed (SIGKILL)'],
      ['runner', 'runner 1602 terminated'],
    ]);

    got.length = 0;
    const meta = new Map<string, string>();
    const store = {
      getMeta: (k: string) => meta.get(k) ?? null,
      setMeta: (k: string, v: string) => void meta.set(k, v),
    };
    const affected = { affected: true, summary: 'macOS 26.4.1 is affected' };
    assert.equal(
      announceAdvisoryOnce(store, { affected: null, summary: 'unknown build' }, notes, () => 1),
      false,
    );
    assert.equal(
      announceAdvisoryOnce(store, affected, notes, () => 2),
      true,
    );
    assert.equal(meta.get('app.advisory-shown'), undefined, 'sent is not seen: nothing recorded yet');
    // The banner never showed (failed, or the app quit first): the next start announces it again.
    assert.equal(
      announceAdvisoryOnce(store, affected, notes, () => 3),
      true,
    );
    seen.at(-1)!();
    assert.equal(meta.get('app.advisory-shown'), '3', 'recorded when its banner showed');
    seen.at(-1)!();
    assert.equal(meta.get('app.advisory-shown'), '3', 'recorded once');
    assert.equal(
      announceAdvisoryOnce(store, affected, notes, () => 4),
      false,
    );
    assert.deepEqual(got, [
      ['advisory', 'macOS 26.4.1 is affected'],
      ['advisory', 'macOS 26.4.1 is affected'],
    ]);
  });

  it('IPC rejects unknown senders and malformed messages, and answers valid ones', async () => {
    const handlers = new Map<string, (event: IpcMainInvokeEvent, payload: unknown) => Promise<unknown>>();
    const fakeIpcMain = {
      handle: (channel: string, fn: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown) => {
        handlers.set(channel, fn as never);
      },
    } satisfies Pick<IpcMain, 'handle'>;
    const calls: string[] = [];
    const backend: AppBackend = {
      status: () => makeStatusView(7),
      timeline: (f, t) => ({ f, t }),
      events: (k) => ({ events: [{ k }] }),
      panics: () => ({ reports: [] }),
      panicReport: (id) => (id === 1 ? '# report' : null),
      cluster: async () => ({ rows: [] }),
      advisory: () => ({}),
      config: () => ({}),
      configSchema: () => ({ type: 'object', title: 'exo-sentinel configuration' }),
      saveConfig: () => ({ ok: true, errors: [] }),
      patchConfig: () => ({ ok: true, errors: [] }),
      ack: () => {
        calls.push('ack');
        return { ended: null };
      },
      setGuardMode: (mode) => {
        calls.push(`guard:${mode}`);
        return { guardMode: mode ?? 'open', guardOverride: mode };
      },
      guardProfile: () => ({ profile: 'protect', configured: 'protect', profiles: GUARD_PROFILES }),
      setGuardProfile: (profile) => {
        calls.push(`profile:${profile}`);
        return { profile, configured: 'protect', changed: true, guardMode: 'open' };
      },
    };
    const trusted = (e: Pick<IpcMainInvokeEvent, 'senderFrame' | 'sender'>) => e.sender.id === 7;
    registerIpcHandlers(fakeIpcMain, backend, trusted);
    const ours = {
      sender: { id: 7 },
      senderFrame: { url: 'file:///app/dist/renderer/index.html' },
    } as unknown as IpcMainInvokeEvent;
    const stranger = {
      sender: { id: 8 },
      senderFrame: { url: 'https://evil.example/' },
    } as unknown as IpcMainInvokeEvent;
    const call = (c: string, e: IpcMainInvokeEvent, p?: unknown) =>
      handlers.get(ipcChannel(c as never))!(e, p);
    assert.deepEqual(await call('status', ours), makeStatusView(7));
    assert.deepEqual(await call('timeline', ours, { from: 1, to: 2 }), { f: 1, t: 2 });
    assert.equal(await call('panicReport', ours, { id: 1 }), '# report');
    assert.deepEqual(await call('configSchema', ours), {
      type: 'object',
      title: 'exo-sentinel configuration',
    });
    await assert.rejects(call('configSchema', ours, { x: 1 }), /configSchema: malformed message/);
    await assert.rejects(
      call('ack', stranger),
      (e: Error) => e instanceof IpcRejection && /unknown sender/.test(e.message),
    );
    assert.deepEqual(calls, [], 'a stranger reaches nothing');
    await assert.rejects(
      call('timeline', ours, { from: 'yesterday', to: 2 }),
      /timeline: malformed message: from: /,
    );
    await assert.rejects(call('timeline', ours, { from: 1, to: 2, extra: true }), /malformed message/);
    await assert.rejects(
      call('events', ours, { kind: 'DROP TABLE', from: 0 }),
      /events: malformed message: kind: /,
    );
    await assert.rejects(call('status', ours, { sneaky: 1 }), /status: malformed message/);
    await assert.rejects(call('panicReport', ours, { id: 2 }), /report 2 is not a readable kernel panic/);
    await assert.rejects(
      call('setGuardMode', ours, { mode: 'off' }),
      /setGuardMode: malformed message: mode: /,
    );
    assert.deepEqual(await call('setGuardMode', ours, { mode: 'refuse-new' }), {
      guardMode: 'refuse-new',
      guardOverride: 'refuse-new',
    });
    await call('setGuardMode', ours, { mode: 'auto' });
    assert.deepEqual(calls, ['guard:refuse-new', 'guard:null'], '"auto" reaches the backend as null');
    assert.deepEqual(await call('guardProfile', ours), {
      profile: 'protect',
      configured: 'protect',
      profiles: GUARD_PROFILES,
    });
    await assert.rejects(
      call('setGuardProfile', ours, { profile: 'reckless' }),
      /setGuardProfile: malformed message: profile: /,
    );
    await assert.rejects(call('setGuardProfile', stranger, { profile: 'observe' }), /unknown sender/);
    assert.deepEqual(await call('setGuardProfile', ours, { profile: 'balanced' }), {
      profile: 'balanced',
      configured: 'protect',
      changed: true,
      guardMode: 'open',
    });
    assert.equal(calls.at(-1), 'profile:balanced');
  });

  it('the preload bridge exposes only the contract and filters pushed messages', async () => {
    const invoked: Array<[string, unknown]> = [];
    const listeners = new Map<string, (...a: unknown[]) => void>();
    const fakeIpcRenderer = {
      invoke: async (channel: string, ...args: unknown[]) => {
        invoked.push([channel, args[0]]);
        return { ok: true };
      },
      on(channel: string, fn: (event: IpcRendererEvent, ...args: unknown[]) => void) {
        listeners.set(channel, fn as (...a: unknown[]) => void);
        return this as unknown as IpcRenderer;
      },
      removeListener(channel: string) {
        listeners.delete(channel);
        return this as unknown as IpcRenderer;
      },
    } satisfies Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;
    const bridge = createBridge(fakeIpcRenderer);
    assert.deepEqual(await bridge.invoke('timeline', { from: 1, to: 2 }), { ok: true });
    assert.deepEqual(invoked, [['exo-sentinel:timeline', { from: 1, to: 2 }]]);
    await assert.rejects(bridge.invoke('shell.openExternal', 'x'), /unknown channel "shell\.openExternal"/);
    const got: Array<[string, unknown]> = [];
    const off = bridge.onEvent((e, d) => got.push([e, d]));
    const push = listeners.get(IPC_PUSH_CHANNEL)!;
    push({}, { event: 'sample', data: { a: 1 } });
    push({}, 'garbage');
    push({}, { event: 'level', data: null });
    assert.deepEqual(got, [['sample', { a: 1 }]]);
    off();
    assert.equal(listeners.has(IPC_PUSH_CHANNEL), false);
  });

  it('the dashboard window is sandboxed with context isolation and no Node', () => {
    const o = dashboardWindowOptions('/app/dist/preload/preload.cjs');
    assert.deepEqual(
      { ...o.webPreferences, devTools: undefined },
      {
        preload: '/app/dist/preload/preload.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webviewTag: false,
        spellcheck: false,
        devTools: undefined,
      },
    );
    assert.equal(o.minWidth, 480);
  });

  it('sleep pauses sampling, wake resumes it, shutdown asks the app to quit (one quit path, no second stop)', () => {
    const on = new Map<string, () => void>();
    const power = {
      on: (e: string, fn: () => void) => {
        on.set(e, fn);
        return power;
      },
    } as unknown as Pick<PowerMonitor, 'on'>;
    const calls: string[] = [];
    wirePowerEvents(
      power,
      {
        pause: (r) => calls.push(`pause:${r}`),
        resume: (r) => calls.push(`resume:${r}`),
      },
      (r) => calls.push(`quit:${r}`),
    );
    on.get('suspend')!();
    on.get('resume')!();
    on.get('shutdown')!();
    assert.deepEqual(calls, [
      'pause:the machine is going to sleep',
      'resume:the machine woke up',
      'quit:shutdown',
    ]);
  });

  it('launch at login as macOS 13+ reports it: registered but awaiting approval shows on and opens Login Items', () => {
    const items = new FakeLoginItems();
    const opened: string[] = [];
    const li = new LoginItem({
      app: items,
      exePath: () => '/Applications/exo-sentinel.app/Contents/MacOS/exo-sentinel',
      openSettings: (u) => opened.push(u),
    });
    assert.deepEqual(li.get(), { enabled: false, status: 'not-registered', problem: null });
    // Turning on registers; macOS wants approval; Electron says openAtLogin false, the menu says on.
    assert.deepEqual(li.toggle(), { enabled: true, status: 'requires-approval', problem: null });
    assert.equal(
      items.getLoginItemSettings().openAtLogin,
      false,
      'what Electron reports while awaiting approval',
    );
    assert.deepEqual(opened, [LOGIN_ITEMS_SETTINGS_URL]);
    const item = buildMenuTemplate(view({ launchAtLogin: li.get() }), actions()).find((i) =>
      i.label?.startsWith('Launch at login'),
    );
    assert.equal(item?.label, 'Launch at login — allow in System Settings › Login Items…');
    assert.equal(item?.checked, true);
    // A click while it awaits approval opens Login Items again; it never re-registers or silently unregisters.
    assert.deepEqual(li.toggle(), { enabled: true, status: 'requires-approval', problem: null });
    assert.equal(items.sets.length, 1);
    assert.equal(opened.length, 2);
    items.approve();
    assert.equal(li.get().status, 'requires-approval', 'cached until refreshed (the menu refreshes on open)');
    assert.deepEqual(li.refresh(), { enabled: true, status: 'enabled', problem: null });
    // Approved, a click turns it off.
    assert.deepEqual(li.toggle(), { enabled: false, status: 'not-registered', problem: null });
    assert.deepEqual(
      items.sets.map((s) => s.openAtLogin),
      [true, false],
    );
  });

  it('launch at login refuses to register from the disk image or a translocated copy', () => {
    for (const exe of [
      '/Volumes/exo-sentinel 0.1.0-arm64/exo-sentinel.app/Contents/MacOS/exo-sentinel',
      '/private/var/folders/x1/T/AppTranslocation/6C1D/d/exo-sentinel.app/Contents/MacOS/exo-sentinel',
    ]) {
      const items = new FakeLoginItems();
      const li = new LoginItem({ app: items, exePath: () => exe, openSettings: () => {} });
      const v = li.toggle();
      assert.equal(v.enabled, false);
      assert.match(String(v.problem), /move exo-sentinel to Applications first/);
      assert.equal(items.sets.length, 0, `${exe}: nothing registered`);
      const item = buildMenuTemplate(view({ launchAtLogin: v }), actions()).find((i) =>
        i.label?.startsWith('Launch at login'),
      );
      assert.equal(item?.enabled, false);
      assert.match(String(item?.label), /Applications first/);
    }
  });
});

describe('what the dashboard window trusts', () => {
  it("IPC from the dashboard's own page only: not another window, not a folder beside the renderer's", () => {
    const trusted = trustedSender(
      () => 7,
      '/Applications/exo-sentinel.app/Contents/Resources/app/dist/renderer',
    );
    const from = (id: number, url: string) => trusted({ sender: { id }, senderFrame: { url } } as never);
    const app = 'file:///Applications/exo-sentinel.app/Contents/Resources/app/dist';
    for (const [id, url, trust] of [
      [7, `${app}/renderer/index.html`, true],
      [8, `${app}/renderer/index.html`, false],
      [7, `${app}/renderer-x/index.html`, false],
      [7, `${app}/renderer/../evil.html`, false],
      [7, 'https://evil.example/dist/renderer/index.html', false],
      [7, `${app}/renderer/%E0%A4%A.html`, false],
    ] as const)
      assert.equal(from(id, url), trust, `${id} ${url}`);
  });

  it('grants the page writing to the clipboard and no other permission', () => {
    assert.equal(dashboardPermission('clipboard-sanitized-write'), true);
    for (const p of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
      'fullscreen',
      'hid',
      'serial',
    ])
      assert.equal(dashboardPermission(p), false, p);
  });
});

describe('the dashboard window as it is made', () => {
  it('denies new windows, stops every navigation, and wires the session to grant only clipboard writes', () => {
    const handlers = new Map<string, (e: { preventDefault(): void }) => void>();
    let request: ((wc: unknown, permission: string, grant: (ok: boolean) => void) => void) | null = null;
    let check: ((wc: unknown, permission: string) => boolean) | null = null;
    let openHandler: (() => { action: string }) | null = null;
    const window = {
      on: () => window,
      once: () => window,
      show: () => {},
      loadFile: async () => {},
      webContents: {
        on: (event: string, fn: (e: { preventDefault(): void }) => void) => void handlers.set(event, fn),
        setWindowOpenHandler: (fn: () => { action: string }) => {
          openHandler = fn;
        },
        session: {
          setPermissionRequestHandler: (fn: typeof request) => {
            request = fn;
          },
          setPermissionCheckHandler: (fn: typeof check) => {
            check = fn;
          },
        },
      },
    };
    const c = new DashboardController({
      preload: '/app/preload.js',
      rendererIndex: '/app/index.html',
      create: () => window as never,
    });
    c.open();
    assert.deepEqual(openHandler!(), { action: 'deny' });
    for (const event of ['will-navigate', 'will-frame-navigate']) {
      let prevented = 0;
      handlers.get(event)!({ preventDefault: () => void prevented++ });
      assert.equal(prevented, 1, event);
    }
    const granted: Array<[string, boolean]> = [];
    for (const p of ['clipboard-sanitized-write', 'media', 'notifications'])
      request!(null, p, (ok) => void granted.push([p, ok]));
    assert.deepEqual(granted, [
      ['clipboard-sanitized-write', true],
      ['media', false],
      ['notifications', false],
    ]);
    assert.equal(check!(null, 'geolocation'), false);
    assert.equal(check!(null, 'clipboard-sanitized-write'), true);
  });
});
