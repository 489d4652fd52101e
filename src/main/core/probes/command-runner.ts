import { execFile } from 'node:child_process';

/**
 * Runs a command with an argument array (never a shell string), `LC_ALL=C` so numbers and dates are not
 * localized, a timeout and an output cap. Never throws: a failure is a value naming the command.
 * A non-zero exit still returns stdout (sysctl prints the oids it knows and fails on the others).
 */
export type CommandResult =
  | { ok: true; stdout: string; exitCode: number; stderr: string }
  | { ok: false; error: string };

export interface CommandOptions {
  timeoutMs?: number;
  maxBytes?: number;
}

export type CommandRunner = (
  file: string,
  args: string[],
  options?: CommandOptions,
) => Promise<CommandResult>;

export const runCommand: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve) => {
    const timeout = options.timeoutMs ?? 3000;
    execFile(
      file,
      args,
      {
        timeout,
        maxBuffer: options.maxBytes ?? 1024 * 1024,
        env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
        killSignal: 'SIGKILL',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const label = [file, ...args].join(' ');
        if (!error) return resolve({ ok: true, stdout, stderr, exitCode: 0 });
        const e = error as NodeJS.ErrnoException & {
          killed?: boolean;
          code?: number | string;
          signal?: string;
        };
        if (e.killed || e.signal === 'SIGKILL')
          return resolve({ ok: false, error: `${label}: no answer within ${timeout} ms` });
        if (e.code === 'ENOENT') return resolve({ ok: false, error: `${label}: command not found` });
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          return resolve({ ok: false, error: `${label}: output over the cap` });
        if (typeof e.code === 'number' && stdout)
          return resolve({ ok: true, stdout, stderr, exitCode: e.code });
        resolve({ ok: false, error: `${label}: ${String(stderr).trim() || e.message}` });
      },
    );
  });

/** Wraps a runner to count spawns. */
export function countingRunner(inner: CommandRunner): CommandRunner & { count: number } {
  const wrapped = Object.assign(
    (file: string, args: string[], options?: CommandOptions) => {
      wrapped.count++;
      return inner(file, args, options);
    },
    { count: 0 },
  );
  return wrapped;
}
