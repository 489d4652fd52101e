import type { PowerMonitor } from 'electron';

export interface PausableDaemon {
  pause(reason: string): void;
  resume(reason: string): void;
}

/**
 * Sleep and wake go into the timeline and pause sampling across sleep. Shutdown, restart and logout ask the
 * app to quit (`app.quit()`), so they take the one quit path (`before-quit` → stop, flush, exit) instead of
 * stopping the daemon a second way.
 */
export function wirePowerEvents(
  power: Pick<PowerMonitor, 'on'>,
  daemon: PausableDaemon,
  /** `app.quit()` in the shell; a test that drives only sleep and wake may leave it out. */
  requestQuit?: (reason: string) => void,
): void {
  power.on('suspend', () => daemon.pause('the machine is going to sleep'));
  power.on('resume', () => daemon.resume('the machine woke up'));
  if (requestQuit) power.on('shutdown', () => requestQuit('shutdown'));
}
