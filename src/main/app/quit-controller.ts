/** What the shell does on the way out, each step given as a port so the order can be tested without Electron. */
export interface QuitDeps {
  /** The daemon's stop: flushes the last tick and closes the database (idempotent in the daemon too). */
  stop(reason: string): Promise<void>;
  /** Flushes and closes the log file. */
  flush(): Promise<void>;
  /** `app.exit(code)`: ends the process without emitting `before-quit` again. */
  exit(code: number): void;
  log(message: string): void;
  /** How long the stop and the flush may take before the app exits anyway. */
  boundMs: number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/**
 * One way out for every quit: the menu's Quit, Cmd-Q, logout, restart and shutdown (the power handler asks
 * the app to quit; macOS then sends its own quit too). The first `before-quit` is held while the daemon stops
 * and the log is flushed; every later one (the second quit of a shutdown, a user's impatient Cmd-Q) is held
 * too but starts nothing new. Each path ends in `exit`: after the flush, or at the bound if a step hangs or
 * fails, so the system's logout or shutdown is never left refused.
 */
export class QuitController {
  private ending: Promise<number> | null = null;
  exited: number | null = null;
  /** The exit code when every step succeeds (the smoke test sets it from its verdict). */
  exitCode = 0;

  constructor(private readonly deps: QuitDeps) {}

  /** The `before-quit` handler. */
  onBeforeQuit(event: { preventDefault(): void }, reason = 'quit'): void {
    if (this.exited !== null) return;
    event.preventDefault();
    void this.end(reason);
  }

  /** Stops, flushes and exits, once; later calls get the same promise (resolving to the exit code). */
  end(reason: string): Promise<number> {
    this.ending ??= this.run(reason);
    return this.ending;
  }

  private async run(reason: string): Promise<number> {
    let timer: unknown;
    const bound = new Promise<number>((resolve) => {
      timer = this.deps.setTimer(() => {
        this.deps.log(`quitting (${reason}): stopping took over ${this.deps.boundMs} ms; exiting anyway`);
        resolve(1);
      }, this.deps.boundMs);
    });
    const steps = (async (): Promise<number> => {
      let code = this.exitCode;
      try {
        await this.deps.stop(reason);
      } catch (e) {
        code = 1;
        this.deps.log(`quitting (${reason}): the daemon did not stop cleanly: ${(e as Error).message}`);
      }
      try {
        await this.deps.flush();
      } catch (e) {
        code = 1;
        this.deps.log(`quitting (${reason}): the log could not be flushed: ${(e as Error).message}`);
      }
      return code;
    })();
    const code = await Promise.race([steps, bound]);
    this.deps.clearTimer(timer);
    this.exited = code;
    this.deps.exit(code);
    return code;
  }
}
