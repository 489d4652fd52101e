import type { App } from 'electron';

/** Launch at login through the system's Login Items (macOS 13+ reports `requires-approval` when the user must allow it). */
export class LoginItem {
  constructor(private readonly app: Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings'>) {}

  get(): { enabled: boolean; status: string | null } {
    const s = this.app.getLoginItemSettings();
    return { enabled: s.openAtLogin, status: (s as { status?: string }).status ?? null };
  }

  set(enabled: boolean): { enabled: boolean; status: string | null } {
    this.app.setLoginItemSettings({ openAtLogin: enabled });
    return this.get();
  }
}
