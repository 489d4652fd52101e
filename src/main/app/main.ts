// The Electron shell: the only module that loads `electron` at run time. The core runs in this process.
import { createRequire } from 'node:module';
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
  Tray,
} from 'electron';
import type { TimelineEvent } from '../../shared/events.js';
import { IPC_PUSH_CHANNEL } from '../../shared/ipc.js';
import type { GuardMode } from '../../shared/risk.js';
import type { Notifier } from '../core/actions/notifier.js';
import { loadConfig } from '../core/config/config-loader.js';
import { paths, resolveDataDir } from '../core/config/data-dir.js';
import { Daemon, EventCollector } from '../core/daemon.js';
import { createLogger } from '../core/logger.js';
import { createProbe } from '../core/probes/create-probe.js';
import type { DatabaseConstructor } from '../core/store/database.js';
import { daemonBackend } from './daemon-backend.js';
import { dashboardWindowOptions } from './dashboard-window.js';
import { announceAdvisoryOnce, notifyTimelineEvents } from './event-notifications.js';
import { registerIpcHandlers, trustedSender } from './ipc-handlers.js';
import { LoginItem } from './login-item.js';
import { NotificationController } from './notification-controller.js';
import { wirePowerEvents } from './power-events.js';
import { TrayController } from './tray-controller.js';
import { TRAY_ICONS, trayViewFromStatus } from './tray-view.js';

const here = dirname(fileURLToPath(import.meta.url));
const appRoot = join(here, '..', '..', '..');
const assets = join(appRoot, 'assets');
const rendererIndex = join(appRoot, 'dist', 'renderer', 'index.html');
const preload = join(appRoot, 'dist', 'preload', 'preload.cjs');

/** Inside the app the Node-API build of better-sqlite3 (13.x) is used; the Node 20 build never ships. */
const Driver = createRequire(import.meta.url)('better-sqlite3-napi') as DatabaseConstructor;

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  app.dock?.hide();
  const dataDir = resolveDataDir(undefined);
  const loaded = loadConfig(paths(dataDir).config);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  const config = loaded.config;
  const { logger, close } = await createLogger({
    level: config.logLevel,
    file: join(app.getPath('logs'), 'exo-sentinel.log'),
    terminal: false,
  });
  const events = new EventCollector(() => Date.now(), logger);
  const login = new LoginItem(app);
  let window: BrowserWindow | null = null;
  let pendingView: string | null = null;
  const navigate = (view: string) => ({ event: 'navigate', data: { view } });

  const openDashboard = (view?: string): void => {
    if (!window) {
      window = new BrowserWindow(dashboardWindowOptions(preload));
      window.on('closed', () => {
        window = null;
      });
      window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
      window.webContents.on('will-navigate', (e) => e.preventDefault());
      // A view asked for before the page has loaded is sent once it can listen.
      window.webContents.once('did-finish-load', () => {
        if (pendingView) window?.webContents.send(IPC_PUSH_CHANNEL, navigate(pendingView));
        pendingView = null;
      });
      void window.loadFile(rendererIndex);
      window.once('ready-to-show', () => window?.show());
      pendingView = view ?? null;
      return;
    }
    window.show();
    if (view) window.webContents.send(IPC_PUSH_CHANNEL, navigate(view));
  };

  let trayController: TrayController | null = null;
  const notes = new NotificationController({
    create: (o) => new Notification(o),
    isSupported: () => Notification.isSupported(),
    open: (view) => openDashboard(view),
    fallback: (title) => trayController?.flag(`⚠ ${title}`),
    log: (m) => logger.warn(m),
    now: () => Date.now(),
  });
  const notifier: Notifier = {
    notify: async (n) => ({
      ok: notes.show(n.topic, n.title, n.body, n.topic === 'panic' ? 'Panics' : 'Overview'),
      detail: 'banner',
    }),
  };

  const daemon = new Daemon({
    dataDir,
    config,
    probe: createProbe(events, { ceilingBytes: config.gpu.ceilingBytes, mlxPython: config.gpu.mlxPython }),
    events,
    logger,
    notifier,
    Driver,
  });
  const begun = await daemon.begin();
  if (!begun.ok) throw new Error(begun.error);
  daemon.start();

  const backend = daemonBackend(daemon, config, dataDir);
  registerIpcHandlers(
    ipcMain,
    backend,
    trustedSender(() => window?.webContents.id ?? null, join(appRoot, 'dist', 'renderer')),
  );

  const tray = new Tray(nativeImage.createFromPath(join(assets, TRAY_ICONS.ok)));
  trayController = new TrayController(
    tray,
    (t) => Menu.buildFromTemplate(t),
    (s) => nativeImage.createFromPath(join(assets, TRAY_ICONS[s])),
    {
      openDashboard,
      openReport: (id) => openDashboard(`Panics:${id}`),
      setGuardMode: (mode: GuardMode | null) => {
        daemon.setGuardOverride(mode, 'the menu bar');
        refresh();
      },
      acknowledge: () => backend.ack(),
      setLaunchAtLogin: (on) => login.set(on),
      quit: () => app.quit(),
    },
  );
  // Level banners come from the daemon's action policy (with its cool-downs) through `notifier`.
  const refresh = (): void => {
    trayController?.update(trayViewFromStatus(daemon.statusView(), login.get()));
  };
  refresh();
  announceAdvisoryOnce(daemon.store, daemon.advisory().platform, notes, Date.now());
  // The dashboard window gets the same live stream the API serves over SSE; the tray follows each tick
  // (nothing to redraw while sampling is paused); new panics and runner deaths raise banners.
  daemon.onPublish = (event, data) => {
    if (event === 'sample') refresh();
    else if (event === 'event') notifyTimelineEvents([data as TimelineEvent], notes);
    window?.webContents.send(IPC_PUSH_CHANNEL, { event, data });
  };

  wirePowerEvents(powerMonitor, daemon);
  app.on('second-instance', () => openDashboard());
  app.on('window-all-closed', () => {
    // A menu-bar app keeps running with no window.
  });
  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    e.preventDefault();
    quitting = true;
    daemon.onPublish = null;
    void daemon
      .stop('quit')
      .then(close)
      .then(() => app.exit(0));
  });
}

// An agent app has no window to fail in: say why it cannot start (bad config.json, another daemon owning
// the data directory) before quitting, instead of vanishing from the menu bar.
void main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  console.error(e);
  dialog.showErrorBox('exo-sentinel could not start', message);
  app.exit(1);
});
