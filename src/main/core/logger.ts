import pino, { type Logger } from 'pino';
import { RotatingFile, type RotationLimits } from './rotating-file.js';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** JSON lines go here, rotated at 10 MB, 7 old files kept (see LOG_ROTATION). */
  file: string | null;
  /** Also print readable lines (to stderr) — when a person is watching a terminal. */
  terminal: boolean;
  /** Size and count limits of the file (default LOG_ROTATION). */
  rotation?: RotationLimits;
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

/** The log file's rotation: the current file plus 7 older ones of at most 10 MB each. */
export const LOG_ROTATION: RotationLimits = { maxBytes: 10 * 1024 * 1024, keep: 7 };

/**
 * pino with in-process destinations only (no worker-thread transports: they break inside a packaged app).
 * Returns the logger and a function that closes the file. The file rotates by size (rotating-file.ts; its
 * current name never changes). A log file that cannot be written (disk full, read-only) is reported through
 * `onError` and otherwise ignored: the line is dropped, nothing waits in memory, and writing resumes by itself
 * when the disk has room again.
 */
export async function createLogger(
  options: LoggerOptions,
): Promise<{ logger: Logger; close: () => Promise<void> }> {
  const streams: pino.StreamEntry[] = [];
  const file = options.file
    ? new RotatingFile(options.file, options.rotation ?? LOG_ROTATION, options.onError ?? (() => undefined))
    : null;
  // Every stream takes every level the logger lets through: the logger's own level is the one filter, so a
  // reloaded configuration's logLevel (logger.level = …) reaches the file and the terminal alike.
  if (file) streams.push({ level: 'trace', stream: file });
  if (options.terminal) {
    // Loaded only when a person watches a terminal: a launchd/systemd daemon never pays for it.
    const { default: pretty } = await import('pino-pretty');
    streams.push({
      level: 'trace',
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
  const close = async (): Promise<void> => file?.close();
  return { logger, close };
}
