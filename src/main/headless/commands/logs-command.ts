import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { type FilePlace, followFile, tail } from '../log-tail.js';
import { shown } from '../output.js';
import { EXIT_FAILURE, wholeNumber } from '../usage-error.js';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** One log line for a person: time, level and message (a line that is not the daemon's JSON, as it is). */
export function formatLogLine(line: string): string {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return shown(line);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return shown(line);
  const r = o as { time?: unknown; level?: unknown; msg?: unknown; err?: { message?: unknown } };
  // A time Date cannot hold (1e20) is shown as unknown: one bad line must not hide the log.
  const date = typeof r.time === 'number' ? new Date(r.time) : null;
  const time = date && Number.isFinite(date.getTime()) ? date.toISOString() : '-';
  const level = typeof r.level === 'number' ? (LEVELS[r.level] ?? String(r.level)) : '-';
  const err = typeof r.err?.message === 'string' && r.msg !== r.err.message ? r.err.message : '';
  // JSON's \u001b is a real escape once parsed: the message is shown, never obeyed.
  return `${time} ${shown(level).padEnd(5)} ${typeof r.msg === 'string' ? shown(r.msg) : ''}${err && ` (${shown(String(r.err?.message))})`}`;
}

interface Flags {
  dataDir?: string;
  follow?: boolean;
  lines?: number;
  json?: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description("print the daemon's log (the last lines; -f keeps following it, across rotations)")
    .option('-f, --follow', 'keep printing new lines as they are written (Ctrl-C stops)')
    .option(
      '-n, --lines <n>',
      'how many of the last lines to print first (default 50)',
      wholeNumber(0, 100_000),
    )
    .option('--json', "print the daemon's JSON lines as they are")
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<Flags>();
      const file = paths(resolveDataDir(f.dataDir)).logFile;
      const show = (lines: string[]): void => {
        if (lines.length)
          process.stdout.write(`${lines.map(f.json ? (l) => l : formatLogLine).join('\n')}\n`);
      };
      const exists = existsSync(file);
      if (!exists && !f.follow) {
        process.stderr.write(
          `exo-sentinel: no log at ${file} (the daemon has not run with this data directory)\n`,
        );
        process.exitCode = EXIT_FAILURE;
        return;
      }
      let from: FilePlace | undefined;
      if (exists) {
        try {
          const read = tail(file, Math.floor(f.lines ?? 50));
          show(read.lines);
          from = read.end;
        } catch (e) {
          process.stderr.write(`exo-sentinel: cannot read ${file}: ${(e as Error).message}\n`);
          process.exitCode = EXIT_FAILURE;
          return;
        }
      } else process.stderr.write(`exo-sentinel: waiting for ${file}\n`);
      if (!f.follow) return;
      await new Promise<void>((resolve) => {
        const follower = followFile(
          file,
          show,
          (note) => process.stderr.write(`exo-sentinel: ${note}\n`),
          250,
          from,
        );
        const stop = (): void => {
          follower.stop();
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // The reader of a pipe went away (`logs -f | head`): stop quietly.
        process.stdout.on('error', stop);
      });
    });
}
