// The Electron shell: the only module that loads `electron` at run time. The core runs in this process.

import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  nativeImage,
  powerMonitor,
  powerSaveBlocker,
  shell,
  Tray,
} from 'electron';
import type { GuardMode } from '../../shared/risk.js';
import type { Notifier } from '../core/actions/notifier.js';
import { loadConfig } from '../core/config/config-loader.js';
import type { Config } from '../core/config/config-schema.js';
import { paths, resolveDataDir } from '../core/config/data-dir.js';
import { Daemon } from '../core/daemon.js';
import { EventCollector } from '../core/event-collector.js';
import { createLogger, type Logger } from '../core/logger.js';
import { createProbe, nativeDisabledBy } from '../core/probes/create-probe.js';
import type { SentinelService } from '../core/service/sentinel-service.js';
import type { DatabaseConstructor } from '../core/store/database.js';
import { APP_NAP_REASON, AppNapGuard } from './app-nap.js';
import { daemonBackend } from './daemon-backend.js';
import { DashboardController } from './dashboard-controller.js';
import { announceAdvisoryOnce, notifyTimelineEvents } from './event-notifications.js';
import { registerIpcHandlers, trustedSender } from './ipc-handlers.js';
import { LoginItem } from './login-item.js';
import { NOTIFICATION_SETTINGS_URL } from './menu-template.js';
import { NotificationController } from './notification-controller.js';
import { wirePowerEvents } from './power-events.js';
import { QuitController } from './quit-controller.js';
import {
  notificationOutcome,
  runSmokeChecks,
  SMOKE_CONFIG,
  type SmokeStep,
  smokeTestTarget,
  smokeVerdict,
  waitFor,
} from './smoke-test.js';
import { restartOnStorageChange } from './storage-restart.js';
import { TrayController } from './tray-controller.js';
import { TRAY_ICONS, trayViewFromStatus } from './tray-view.js';
import { startUpdater } from './updater.js';

const here = dirname(fileURLToPath(import.meta.url));
const appRoot = join(here, '..', '..', '..');
const assets = join(appRoot, 'assets');
const rendererIndex = join(appRoot, 'dist', 'renderer', 'index.html');
const preload = join(appRoot, 'dist', 'preload', 'preload.cjs');

/** better-sqlite3 13 is Node-API: the same prebuild loads in Electron's Node as in the daemon's. */
const Driver = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;

/** How long quitting may take (daemon stop + log flush) before the app exits anyway. */
const QUIT_BOUND_MS = 5_000;

const smokeFile = smokeTestTarget(process.argv, join(process.cwd(), 'exo-sentinel-smoke.json'));
/** A smoke run keeps to a fresh data directory and profile: it never touches (or waits on) a running copy. */
const smokeHome = smokeFile ? mkdtempSync(join(tmpdir(), 'exo-sentinel-smoke-')) : null;
if (smokeHome) writeFileSync(join(smokeHome, 'config.json'), JSON.stringify(SMOKE_CONFIG));
const smokeMeta = (startedAt: number) => ({
  app: 'exo-sentinel',
  version: app.getVersion(),
  electron: process.versions.electron ?? null,
  platform: process.platform,
  arch: process.arch,
  startedAt: new Date(startedAt).toISOString(),
});
const launchedAt = Date.now();

/** Sets the profile folders and takes the single-instance lock; false when another copy runs. */
async function prepareApp(): Promise<boolean> {
  if (smokeHome) app.setPath('userData', join(smokeHome, 'app'));
  // Chromium's profile (cache, cookies, local storage) in its own folder, not beside timeline.db (userData is
  // the data directory on macOS). Must be set before `ready`.
  app.setPath('sessionData', join(app.getPath('userData'), 'Chromium'));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  await app.whenReady();
  app.dock?.hide();
  return true;
}

/** The daemon in this process, started, with its configuration reloads (the Settings tab writes the file). */
async function startDaemon(
  dataDir: string,
  config: Config,
  events: EventCollector,
  logger: Logger,
  notifier: Notifier,
): Promise<Daemon> {
  const daemon = new Daemon({
    dataDir,
    config,
    probe: createProbe(
      events,
      {
        ceilingBytes: config.gpu.ceilingBytes,
        mlxPython: config.gpu.mlxPython,
        ceilingCacheFile: join(dataDir, 'metal-ceiling.json'),
      },
      { nativeDisabled: nativeDisabledBy(process.env) },
    ),
    events,
    logger,
    notifier,
    Driver,
  });
  const begun = await daemon.begin();
  if (!begun.ok) throw new Error(begun.error);
  daemon.start();
  // The configuration file applies when it changes, as in the headless daemon.
  daemon.watchConfig((path) => loadConfig(path));
  return daemon;
}

/** Self-update from the release's zip, only in a packaged build with a publish configuration (README). */
function startUpdates(logger: Logger, notes: NotificationController): void {
  if (smokeHome) return;
  void startUpdater({
    isPackaged: app.isPackaged,
    updateConfigFile: join(process.resourcesPath, 'app-update.yml'),
    exists: existsSync,
    env: process.env,
    load: async () => (await import('electron-updater')).default.autoUpdater,
    log: (level, m) => logger[level](m),
    onReady: (version) =>
      notes.show('update', `exo-sentinel ${version} is ready`, 'It is installed when you quit.', 'Overview'),
  });
}

/** What the menu bar, the notifications and the smoke run share. */
interface Shell {
  service: SentinelService;
  dashboard: DashboardController;
  notes: NotificationController;
  login: LoginItem;
  requestQuit: (reason: string) => void;
}

/** The menu-bar item and its menu; `refresh` redraws it from the status. */
function buildTray(s: Shell, refresh: () => void): { tray: Tray; controller: TrayController } {
  const tray = new Tray(nativeImage.createFromPath(join(assets, TRAY_ICONS.ok)));
  tray.setIgnoreDoubleClickEvents(true);
  const controller = new TrayController(
    tray,
    (t) => Menu.buildFromTemplate(t),
    (state) => nativeImage.createFromPath(join(assets, TRAY_ICONS[state])),
    {
      openDashboard: (view) => s.dashboard.open(view),
      openReport: (id) => s.dashboard.open(`Panics:${id}`),
      setGuardMode: (mode: GuardMode | null) => {
        s.service.setGuardMode(mode, 'the menu bar');
        refresh();
      },
      setGuardProfile: (profile) => {
        s.service.setGuardProfile(profile, 'the menu bar');
        refresh();
      },
      acknowledge: () => s.service.ack('the menu bar'),
      toggleLaunchAtLogin: () => {
        s.login.toggle();
        refresh();
      },
      openNotificationSettings: () => void shell.openExternal(NOTIFICATION_SETTINGS_URL),
      quit: () => s.requestQuit('quit'),
    },
    () => s.notes.state,
    // The login item's status is read when the menu opens (not every tick); it shows at the next build.
    () => s.login.refresh(),
  );
  return { tray, controller };
}

/** The packaged app's own check (`--smoke-test`): each step with its bound, the verdict in a file. */
function smokeSteps(s: Shell, tray: Tray, controller: TrayController, appNap: AppNapGuard): SmokeStep[] {
  const { dashboard, notes, service } = s;
  return [
    [
      'tray',
      async () => `menu-bar item ${JSON.stringify(tray.getBounds())}, ${controller.menuBuilds} menu build(s)`,
      5_000,
    ],
    [
      'daemon',
      async () => {
        const ticks = await waitFor(
          () => {
            const n = service.status().daemon.ticks;
            return n > 0 ? n : null;
          },
          'first tick',
          15_000,
        );
        return `${ticks} tick(s), storage ${JSON.stringify(service.status().storage)}`;
      },
      20_000,
    ],
    [
      'window',
      async () => {
        dashboard.open('Overview');
        await waitFor(() => (dashboard.isLoaded ? true : null), 'dashboard did-finish-load', 20_000);
        return `dashboard loaded from ${dashboard.current?.webContents.getURL()}`;
      },
      25_000,
    ],
    [
      'ipc',
      async () => {
        const level = (await dashboard.current?.webContents.executeJavaScript(
          'window.exoSentinel.invoke("status").then((s) => s.risk.level)',
        )) as unknown;
        if (typeof level !== 'string') throw new Error(`status over IPC answered ${JSON.stringify(level)}`);
        return `renderer → preload → main → renderer: level ${level}`;
      },
      10_000,
    ],
    [
      'notification',
      async () => {
        notes.show('smoke', 'exo-sentinel smoke test', 'A test notification', 'Overview');
        const state = await waitFor(
          () => (notes.state === 'unknown' ? null : notes.state),
          'banner outcome',
          10_000,
        );
        return notificationOutcome(state, controller.pendingAlert !== null);
      },
      15_000,
    ],
    [
      'app-nap',
      async () =>
        `power-save blocker ${appNap.held ? 'held' : 'not held (EXO not running)'}: ${APP_NAP_REASON}`,
      1_000,
    ],
  ];
}

/** Opening the app again (Finder, Spotlight, a second launch) shows the dashboard; no window keeps it running. */
function wireAppEvents(dashboard: DashboardController): void {
  app.on('second-instance', () => dashboard.open());
  // An activation during the first seconds is the launch itself (at login too): no window for that.
  const readyAt = Date.now();
  app.on('activate', () => {
    if (Date.now() - readyAt > 3_000) dashboard.open();
  });
  app.on('window-all-closed', () => {
    // A menu-bar app keeps running with no window.
  });
}

/**
 * One way out: menu Quit, Cmd-Q, logout, restart and shutdown all end here, in app.exit after the daemon
 * stopped and the log is flushed (bounded).
 */
function wireQuit(
  daemon: Daemon,
  flush: () => Promise<void>,
): { quit: QuitController; requestQuit: (reason: string) => void } {
  let quitReason = 'quit';
  const quit = new QuitController({
    stop: (reason) => {
      daemon.onPublish = null;
      return daemon.stop(reason);
    },
    flush,
    exit: (code) => app.exit(code),
    log: (m) => console.error(m),
    boundMs: QUIT_BOUND_MS,
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (t) => clearTimeout(t as NodeJS.Timeout),
  });
  app.on('before-quit', (e) => quit.onBeforeQuit(e, quitReason));
  const requestQuit = (reason: string): void => {
    quitReason = reason;
    app.quit();
  };
  return { quit, requestQuit };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  if (!(await prepareApp())) return;
  const dataDir = smokeHome ?? resolveDataDir(undefined);
  const loaded = loadConfig(paths(dataDir).config);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const config = loaded.config;
  const { logger, close } = await createLogger({
    level: config.logLevel,
    // Beside the daemon's log (~/Library/Logs/exo-sentinel), under its own name: both may run at once.
    file: join(smokeHome ?? paths(dataDir).logs, 'exo-sentinel-app.log'),
    terminal: false,
  });
  const events = new EventCollector(() => Date.now(), logger);
  const login = new LoginItem({
    app,
    exePath: () => app.getPath('exe'),
    openSettings: (url) => void shell.openExternal(url),
  });
  const dashboard = new DashboardController({
    preload,
    rendererIndex,
    create: (options) => new BrowserWindow(options),
  });
  let trayController: TrayController | null = null;
  const notes = new NotificationController({
    create: (o) => new Notification(o),
    isSupported: () => Notification.isSupported(),
    open: (view) => dashboard.open(view),
    fallback: (alert) => trayController?.raise(alert),
    log: (m) => logger.warn(m),
    now: () => Date.now(),
  });
  // Level banners come from the daemon's action policy (with its cool-downs) through this notifier.
  const notifier: Notifier = {
    notify: async (n) => ({
      ok: notes.show(n.topic, n.title, n.body, n.topic === 'panic' ? 'Panics' : 'Overview'),
      detail: 'banner',
    }),
  };
  const daemon = await startDaemon(dataDir, config, events, logger, notifier);

  const { quit, requestQuit } = wireQuit(daemon, close);
  restartOnStorageChange(daemon, {
    relaunch: () => app.relaunch(),
    requestQuit,
    log: (m) => logger.warn(m),
  });
  startUpdates(logger, notes);

  const { service } = daemon;
  registerIpcHandlers(
    ipcMain,
    daemonBackend(service),
    trustedSender(() => dashboard.current?.webContents.id ?? null, join(appRoot, 'dist', 'renderer')),
  );
  const s: Shell = { service, dashboard, notes, login, requestQuit };
  const appNap = new AppNapGuard(powerSaveBlocker, (m) => logger.info(m));
  const refresh = (): void => {
    const v = trayViewFromStatus(service.status(), login.get());
    appNap.set(v.exoReachable || v.processes.length > 0);
    trayController?.update(v);
  };
  const { tray, controller } = buildTray(s, refresh);
  trayController = controller;
  refresh();
  const advisory = service.advisory();
  if ('platform' in advisory)
    announceAdvisoryOnce(service.shellMeta(), advisory.platform, notes, () => Date.now());
  // The dashboard window gets the same live stream the API serves over SSE; the tray follows each tick
  // (nothing to redraw while sampling is paused); new panics and runner deaths raise banners.
  daemon.onPublish = (message) => {
    if (message.event === 'sample') refresh();
    else if (message.event === 'event') notifyTimelineEvents([message.data], notes);
    dashboard.push(message);
  };
  wirePowerEvents(powerMonitor, daemon, requestQuit);
  wireAppEvents(dashboard);

  if (smokeFile) {
    const checks = await runSmokeChecks(smokeSteps(s, tray, controller, appNap), () => Date.now(), {
      ipc: ['window'],
    });
    const verdict = smokeVerdict(checks, smokeMeta(startedAt), Date.now());
    writeFileSync(smokeFile, `${JSON.stringify(verdict, null, 2)}\n`);
    console.log(`smoke test ${verdict.ok ? 'passed' : 'FAILED'}: ${smokeFile}`);
    quit.exitCode = verdict.ok ? 0 : 2;
    requestQuit('smoke test done');
  }
}

// An agent app has no window to fail in: say why it cannot start (bad config.json, another daemon owning
// the data directory) before quitting, instead of vanishing from the menu bar.
void main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  console.error(e);
  if (smokeFile) {
    // No dialog in a smoke run (nobody to close it on CI): the verdict says why it could not start.
    const check = { name: 'start', ok: false, ms: Date.now() - launchedAt, detail: message };
    writeFileSync(
      smokeFile,
      `${JSON.stringify(smokeVerdict([check], smokeMeta(launchedAt), Date.now()), null, 2)}\n`,
    );
    app.exit(2);
    return;
  }
  dialog.showErrorBox('exo-sentinel could not start', message);
  app.exit(1);
});
