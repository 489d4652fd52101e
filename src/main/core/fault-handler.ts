/** The exit code for a fault the daemon cannot contain: non-zero, so launchd/systemd start it again. */
export const EXIT_FAULT = 70;

/** I/O errors on a stream (a full or read-only disk under the log or stdout, a closed pipe): not a broken daemon. */
const CONTAINABLE = new Set(['ENOSPC', 'EROFS', 'EIO', 'EPIPE', 'EAGAIN', 'EDQUOT', 'ECONNRESET', 'EBADF']);

export function isContainable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONTAINABLE.has(code);
}

export interface FaultSink {
  /** Records a contained fault (an event with the next tick, a log line). */
  contain(where: string, e: unknown): void;
  /** Records a fatal fault at once, best effort; then the process exits. */
  fatal(where: string, e: unknown): Promise<void>;
}

/**
 * Process-level last resort. An unhandled rejection is contained (recorded, the daemon carries on: every entry
 * point catches, so one that reaches here is a bug, not a broken process). An uncaught exception is contained
 * only when it is an I/O error on a stream; anything else leaves the process in an unknown state, so it is
 * recorded and the process exits with EXIT_FAULT for its supervisor to restart it. Returns the uninstaller.
 */
export function installFaultHandlers(sink: FaultSink, exit: (code: number) => void): () => void {
  let exiting = false;
  const onRejection = (reason: unknown): void => sink.contain('unhandled rejection', reason);
  const onException = (e: unknown): void => {
    if (isContainable(e)) {
      sink.contain('uncaught I/O error', e);
      return;
    }
    if (exiting) return;
    exiting = true;
    // Exit even if recording hangs.
    const timer = setTimeout(() => exit(EXIT_FAULT), 3000);
    timer.unref();
    sink
      .fatal('uncaught exception', e)
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        exit(EXIT_FAULT);
      });
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
