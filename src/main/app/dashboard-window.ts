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
