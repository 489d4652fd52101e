import pino, { type Logger } from 'pino';
import buildRoll, { type RollStream } from 'pino-roll';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** JSON lines go here, rotated daily or at 10 MB, 7 old files kept. */
  file: string | null;
  /** Also print readable lines (to stderr) — when a person is watching a terminal. */
  terminal: boolean;
  /** Called when the log file cannot be written (disk full, read-only): logging never stops the process. */
  onError?: (message: string | null) => void;
}

/**
 * Secrets never reach a log line: the configuration's tokens (logged whole at start-up), a bare `token`,
 * and authorization headers, at the top level or one object down.
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'config.guard.token',
  'config.cluster.token',
  'guard.token',
  'cluster.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
];

/**
 * Colour only on a terminal, and never when `NO_COLOR` is set to anything but "" (https://no-color.org;
 * the CLI's `--no-color` sets it).
 */
export const wantsColor = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean =>
  stream.isTTY === true && !env['NO_COLOR'];

/**
 * pino with in-process destinations only (no worker-thread transports: they break inside a packaged app).
 * Returns the logger and a function that flushes and closes the file. A log file that cannot be written
 * (disk full, read-only) is reported through `onError` and otherwise ignored: at most 1 MiB waits in memory,
 * newer lines beyond that are dropped, and writing resumes by itself when the disk has room again.
 */
export async function createLogger(
  options: LoggerOptions,
): Promise<{ logger: Logger; close: () => Promise<void> }> {
  const streams: pino.StreamEntry[] = [];
  let roll: RollStream | null = null;
  if (options.file) {
    const report = options.onError ?? (() => undefined);
    try {
      // maxLength is SonicBoom's (pino-roll passes it through; its types do not list it).
      const stream = await buildRoll({
        file: options.file,
        size: '10m',
        frequency: 'daily',
        limit: { count: 7 },
        mkdir: true,
        ...{ maxLength: 1024 * 1024 },
      });
      stream.on('error', (e: NodeJS.ErrnoException) =>
        report(`the log file ${options.file} cannot be written: ${e.code ?? e.message}`),
      );
      stream.on('write', () => report(null));
      roll = stream;
      // SonicBoom throws from write() when its file never opened (fd -1): a log line must never throw.
      const guarded = {
        write: (line: string): void => {
          try {
            stream.write(line);
          } catch (e) {
            report(`the log file ${options.file} cannot be written: ${(e as Error).message}`);
          }
        },
      };
      streams.push({ level: options.level as pino.Level, stream: guarded });
    } catch (e) {
      report(`the log file ${options.file} cannot be opened: ${(e as Error).message}`);
    }
  }
  if (options.terminal) {
    // Loaded only when a person watches a terminal: a launchd/systemd daemon never pays for it.
    const { default: pretty } = await import('pino-pretty');
    streams.push({
      level: options.level as pino.Level,
      stream: pretty({
        destination: 2,
        colorize: wantsColor(process.stderr),
        translateTime: 'SYS:HH:MM:ss',
        sync: true,
      }),
    });
  }
  const logger =
    streams.length > 0
      ? pino(
          {
            level: options.level,
            base: { pid: process.pid },
            redact: { paths: REDACT_PATHS, censor: '[redacted]' },
          },
          pino.multistream(streams),
        )
      : pino({ level: 'silent' });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      const r = roll;
      if (!r) return resolve();
      try {
        r.flushSync();
      } catch {
        // A stream not yet open has nothing to flush.
      }
      // SonicBoom signals completion with 'close' (end's callback is not reliably called).
      // Not unref'd: the caller awaits this, and a stream that never opened (read-only disk) never closes.
      const timer = setTimeout(resolve, 2000);
      r.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      r.once('error', () => resolve());
      r.end();
    });
  return { logger, close };
}
