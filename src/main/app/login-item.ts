import type { App } from 'electron';

/** The Login Items pane of System Settings (macOS 13+), where a `requires-approval` item is allowed. */
export const LOGIN_ITEMS_SETTINGS_URL = 'x-apple.systempreferences:com.apple.LoginItems-Settings.extension';

/** What the menu shows: on/off as the person sees it in System Settings, the raw status, and why it cannot be set. */
export interface LoginItemView {
  enabled: boolean;
  /** macOS 13+: `not-registered | enabled | requires-approval | not-found`; null before macOS 13. */
  status: string | null;
  /** Set when registering is refused (e.g. the app runs from its disk image). */
  problem: string | null;
}

export interface LoginItemDeps {
  app: Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings'>;
  /** The running app's executable (`app.getPath('exe')`). */
  exePath(): string;
  openSettings(url: string): void;
}

/**
 * Where the app must not register from: its disk image (`/Volumes/…`) or a translocated copy (Gatekeeper runs a
 * downloaded app from a random read-only path until it is moved): the login item would point at a path that
 * is gone at the next login.
 */
export function loginItemProblem(exePath: string): string | null {
  if (exePath.includes('/AppTranslocation/'))
    return 'move exo-sentinel to Applications first (it runs from a temporary copy)';
  if (exePath.startsWith('/Volumes/'))
    return 'move exo-sentinel to Applications first (it runs from its disk image)';
  return null;
}

/**
 * Launch at login through the system's Login Items (SMAppService on macOS 13+). Electron reports
 * `openAtLogin: false` for an item that is registered but waiting for the person's approval
 * (`requires-approval`), so the state shown is taken from `status`: registered (enabled or waiting) is on.
 * The status is read on demand and cached (the tray reads the cache every tick; `refresh` on menu open).
 */
export class LoginItem {
  private cached: LoginItemView | null = null;

  constructor(private readonly deps: LoginItemDeps) {}

  /** The cached state (read once if never read). */
  get(): LoginItemView {
    this.cached ??= this.read();
    return this.cached;
  }

  refresh(): LoginItemView {
    this.cached = this.read();
    return this.cached;
  }

  private read(): LoginItemView {
    const s = this.deps.app.getLoginItemSettings() as { openAtLogin: boolean; status?: string };
    const status = s.status ?? null;
    const enabled = status === null ? s.openAtLogin : status === 'enabled' || status === 'requires-approval';
    return { enabled, status, problem: loginItemProblem(this.deps.exePath()) };
  }

  /**
   * The menu's click. Turning on registers, and opens Login Items when macOS wants the person's approval;
   * a click on an item still waiting for approval opens Login Items again (where it is allowed or removed);
   * turning off unregisters. Refused (nothing registered) while the app runs from its disk image.
   */
  toggle(): LoginItemView {
    const now = this.refresh();
    if (now.status === 'requires-approval') {
      this.deps.openSettings(LOGIN_ITEMS_SETTINGS_URL);
      return now;
    }
    if (!now.enabled && now.problem) return now;
    this.deps.app.setLoginItemSettings({ openAtLogin: !now.enabled });
    const after = this.refresh();
    if (after.status === 'requires-approval') this.deps.openSettings(LOGIN_ITEMS_SETTINGS_URL);
    return after;
  }
}
