import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';
import { IPC_PUSH_CHANNEL } from '../../shared/ipc.js';
import type { LiveEvent } from '../../shared/live-events.js';
import { dashboardLoadOptions, dashboardPermission, dashboardWindowOptions } from './dashboard-window.js';

/**
 * The one dashboard window: opened on demand at a view (`Tab` or `Panics:<id>`), closed without quitting,
 * and the target of the pushed live messages.
 */
export class DashboardController {
  private window: BrowserWindow | null = null;
  private loaded = false;
  /** When the page last finished loading: it subscribes to pushed messages a few IPC round trips later. */
  private loadedAt = 0;

  constructor(
    private readonly files: {
      preload: string;
      rendererIndex: string;
      /** `new BrowserWindow(options)`: electron is loaded at run time by the entry point only. */
      create: (options: BrowserWindowConstructorOptions) => BrowserWindow;
    },
  ) {}

  get current(): BrowserWindow | null {
    return this.window;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  /** Sends a message to the page if a window is open (the live stream, a navigation). */
  push(message: LiveEvent): void {
    this.window?.webContents.send(IPC_PUSH_CHANNEL, message);
  }

  open(view?: string): void {
    if (!this.window) {
      this.create(view);
      return;
    }
    this.window.show();
    if (!view) return;
    // A page that loaded moments ago may not listen yet: load it again with the view in the hash instead.
    if (this.loaded && Date.now() - this.loadedAt > 2_000) this.push({ event: 'navigate', data: { view } });
    else {
      this.loaded = false;
      void this.window.loadFile(this.files.rendererIndex, dashboardLoadOptions(view));
    }
  }

  private create(view: string | undefined): void {
    const window = this.files.create(dashboardWindowOptions(this.files.preload));
    this.window = window;
    this.loaded = false;
    window.on('closed', () => {
      this.window = null;
    });
    window.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    // The page never navigates, in its main frame or any other: a link or a script that tries is stopped.
    window.webContents.on('will-navigate', (e) => e.preventDefault());
    window.webContents.on('will-frame-navigate', (e) => e.preventDefault());
    const session = window.webContents.session;
    session.setPermissionRequestHandler((_wc, permission, grant) => grant(dashboardPermission(permission)));
    session.setPermissionCheckHandler((_wc, permission) => dashboardPermission(permission));
    window.webContents.on('did-finish-load', () => {
      this.loaded = true;
      this.loadedAt = Date.now();
    });
    // The view goes in the URL's hash: the page opens it as it starts, with no message to miss.
    void window.loadFile(this.files.rendererIndex, dashboardLoadOptions(view));
    window.once('ready-to-show', () => window.show());
  }
}
