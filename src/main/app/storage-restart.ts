/** The hooks through which the daemon asks its shell for a restart on its timeline. */
export interface RestartableDaemon {
  onStorageGone: (() => void) | null;
  onStorageBack: (() => void) | null;
}

export interface RestartDeps {
  /** `app.relaunch()`: a new instance starts when this one exits. */
  relaunch: () => void;
  /** The app's one way out (`app.quit()` → the daemon stops, the log is flushed, exit). */
  requestQuit: (reason: string) => void;
  log: (message: string) => void;
}

/**
 * What the headless daemon leaves to launchd (it exits 70 and is started again), the app does itself: it
 * relaunches and quits through its one way out, whose daemon stop writes a removed timeline back first.
 * - The timeline's file removed or replaced while the app ran: until now the app wrote into the unlinked file
 *   until it quit, so a crash or the kernel panic this tool watches for lost the whole timeline.
 * - Started on a read-only or full disk, the timeline became writable: the held ticks are in it, and a
 *   restart opens everything on it instead of running on in memory.
 * Asked once; a second ask while quitting changes nothing.
 */
export function restartOnStorageChange(daemon: RestartableDaemon, deps: RestartDeps): void {
  let asked = false;
  const restart = (why: string) => (): void => {
    if (asked) return;
    asked = true;
    deps.log(`restarting the app: ${why}`);
    deps.relaunch();
    deps.requestQuit(why);
  };
  daemon.onStorageGone = restart('the timeline file was removed or replaced; written back, restarting on it');
  daemon.onStorageBack = restart('the timeline is writable again, restarting on it');
}
