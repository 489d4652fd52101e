import type { PowerSaveBlocker } from 'electron';

/** Why the app holds the power assertion, for the log and the smoke test's verdict. */
export const APP_NAP_REASON =
  'EXO is running: the 1 s sampling loop must not be throttled by App Nap (a window-less agent is a candidate), or throttled ticks would be recorded as sleep gaps';

/**
 * Keeps App Nap off while it matters. macOS naps a window-less agent and coalesces its timers; a
 * `prevent-app-suspension` power-save blocker (an IOKit power assertion) keeps the process out of App Nap.
 * The same assertion also keeps the Mac from idle sleep, so it is held only while EXO runs (a node serving a
 * model is not meant to sleep anyway) and released when EXO stops.
 */
export class AppNapGuard {
  private id: number | null = null;

  constructor(
    private readonly blocker: Pick<PowerSaveBlocker, 'start' | 'stop' | 'isStarted'>,
    private readonly log: (message: string) => void,
  ) {}

  get held(): boolean {
    return this.id !== null && this.blocker.isStarted(this.id);
  }

  /** Holds the assertion when `needed`, releases it otherwise; logs each change with its reason. */
  set(needed: boolean): void {
    if (needed && !this.held) {
      this.id = this.blocker.start('prevent-app-suspension');
      this.log(`App Nap prevented (power-save blocker ${this.id}): ${APP_NAP_REASON}`);
    } else if (!needed && this.id !== null) {
      this.blocker.stop(this.id);
      this.log(`App Nap allowed again (power-save blocker ${this.id} released): EXO is not running`);
      this.id = null;
    }
  }
}
