import type { BrowserWindowConstructorOptions } from 'electron';

/** The dashboard window: the renderer runs sandboxed with context isolation and no Node, behind the preload bridge. */
export function dashboardWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1000,
    height: 760,
    minWidth: 480,
    minHeight: 640,
    show: false,
    title: 'exo-sentinel',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      spellcheck: false,
      devTools: process.env['EXO_SENTINEL_DEVTOOLS'] === '1',
    },
  };
}

/**
 * How to load the dashboard for a view (`Tab` or `Panics:<id>`): in the URL's hash, which the page reads as it
 * starts — a message sent at `did-finish-load` could arrive before the page listens for it.
 */
export function dashboardLoadOptions(view: string | undefined): { hash: string } | undefined {
  return view ? { hash: view } : undefined;
}

/**
 * The one permission the dashboard's page is granted: writing text to the clipboard (Copy report). Electron
 * grants every permission a page asks for unless told otherwise (camera, microphone, geolocation,
 * notifications, …); the dashboard needs none of them, so a page that was made to ask would get nothing.
 */
export const dashboardPermission = (permission: string): boolean =>
  permission === 'clipboard-sanitized-write';
