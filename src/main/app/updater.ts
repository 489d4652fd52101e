import type { AppUpdater, UpdateInfo } from 'electron-updater';

/** What the updater needs from the app (main.ts gives the real ones; tests give fakes). */
export interface UpdaterDeps {
  /** `app.isPackaged`: a development run never updates. */
  isPackaged: boolean;
  /**
   * `<resources>/app-update.yml`: electron-builder writes it only when the build has a `publish` configuration
   * (see the README); without it there is nowhere to update from.
   */
  updateConfigFile: string;
  exists(path: string): boolean;
  env: NodeJS.ProcessEnv;
  /** Loads electron-updater (which loads Electron): only called once the checks above pass. */
  load(): Promise<Pick<AppUpdater, 'checkForUpdates' | 'on'> & UpdaterSettings>;
  log(level: 'info' | 'warn', message: string): void;
  /** An update was downloaded; it is installed when the app quits. */
  onReady(version: string): void;
}

type UpdaterSettings = Pick<AppUpdater, 'autoDownload' | 'autoInstallOnAppQuit' | 'allowPrerelease'> & {
  logger: AppUpdater['logger'];
};

/** How often a running app looks for a new release. */
export const CHECK_EVERY_MS = 6 * 3_600_000;

/** Whether this app may update itself, and why not. */
export function updaterDecision(
  deps: Pick<UpdaterDeps, 'isPackaged' | 'updateConfigFile' | 'exists' | 'env'>,
): {
  enabled: boolean;
  why: string;
} {
  if (!deps.isPackaged) return { enabled: false, why: 'not a packaged app (a development run)' };
  if (deps.env['EXO_SENTINEL_NO_UPDATE'] === '1') return { enabled: false, why: 'EXO_SENTINEL_NO_UPDATE=1' };
  if (!deps.exists(deps.updateConfigFile))
    return {
      enabled: false,
      why: `no publish configuration in this build (${deps.updateConfigFile} is missing)`,
    };
  return { enabled: true, why: `updates from the release feed in ${deps.updateConfigFile}` };
}

/**
 * electron-updater on the zip target: downloads a new release in the background and installs it when the app
 * quits (macOS updates from the zip, never the dmg). Runs only in a packaged app built with a publish
 * configuration. A failed check is a log line, never an exception; checks repeat every six hours.
 * Returns how to stop the periodic checks.
 */
export async function startUpdater(
  deps: UpdaterDeps,
): Promise<{ enabled: boolean; why: string; stop: () => void }> {
  const decision = updaterDecision(deps);
  deps.log('info', `updates: ${decision.enabled ? 'on' : 'off'}: ${decision.why}`);
  if (!decision.enabled) return { ...decision, stop: () => undefined };
  let updater: Awaited<ReturnType<UpdaterDeps['load']>>;
  try {
    updater = await deps.load();
  } catch (e) {
    const why = `electron-updater could not load: ${(e as Error).message}`;
    deps.log('warn', `updates: off: ${why}`);
    return { enabled: false, why, stop: () => undefined };
  }
  updater.autoDownload = true;
  updater.autoInstallOnAppQuit = true;
  updater.allowPrerelease = false;
  updater.logger = {
    info: (m?: unknown) => deps.log('info', `updates: ${String(m)}`),
    warn: (m?: unknown) => deps.log('warn', `updates: ${String(m)}`),
    error: (m?: unknown) => deps.log('warn', `updates: ${String(m)}`),
  };
  updater.on('error', (e: Error) => deps.log('warn', `updates: ${e.message}`));
  updater.on('update-downloaded', (info: UpdateInfo) => deps.onReady(info.version));
  const check = (): void => {
    updater
      .checkForUpdates()
      .catch((e: unknown) => deps.log('warn', `updates: check failed: ${(e as Error).message}`));
  };
  check();
  const timer = setInterval(check, CHECK_EVERY_MS);
  timer.unref();
  return { ...decision, stop: () => clearInterval(timer) };
}
