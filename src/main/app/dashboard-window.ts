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
