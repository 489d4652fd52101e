import { type ChildProcess, execFile, spawn } from 'node:child_process';

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
  /** Variables set for this command on top of the daemon's environment (`LC_ALL=C` still wins). */
  env?: Record<string, string>;
  /**
   * Each line of stdout is kept to its first this many bytes (the rest read and dropped as it comes): what
   * one line may cost in memory, whatever the command prints. `maxBytes` then bounds the bytes read.
   */
  maxLineBytes?: number;
}

export type CommandRunner = (
  file: string,
  args: string[],
  options?: CommandOptions,
) => Promise<CommandResult>;

export const runCommand: CommandRunner = (file, args, options = {}) =>
  options.maxLineBytes !== undefined
    ? runCuttingLines(file, args, options, options.maxLineBytes)
    : runWhole(file, args, options);

const runWhole: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve) => {
    const timeout = options.timeoutMs ?? 3000;
    execFile(
      file,
      args,
      {
        timeout,
        maxBuffer: options.maxBytes ?? 1024 * 1024,
        env: { ...process.env, ...options.env, LC_ALL: 'C', LANG: 'C' },
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

/**
 * `runCommand` for output whose lines may be huge (`ps … args=` on macOS, where ps never cuts a line when its
 * output is a pipe, whatever COLUMNS says): stdout is read as it comes and each line kept to its first
 * `maxLine` bytes, so memory is bounded by the lines, not by the bytes printed.
 */
function runCuttingLines(
  file: string,
  args: string[],
  options: CommandOptions,
  maxLine: number,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const timeout = options.timeoutMs ?? 3000;
    const cap = options.maxBytes ?? 1024 * 1024;
    const label = [file, ...args].join(' ');
    const child = startChild(file, args, options);
    if (typeof child === 'string') return resolve({ ok: false, error: `${label}: ${child}` });
    // What is kept goes into one growing buffer: a Buffer per line cost ~230 bytes of heap per newline.
    let out = Buffer.allocUnsafe(64 * 1024);
    let used = 0;
    const keepMax = Math.min(cap, KEPT_MAX_BYTES);
    const put = (src: Buffer, from: number, to: number): boolean => {
      const n = to - from;
      if (used + n > keepMax) return false;
      if (used + n > out.length) {
        const bigger = Buffer.allocUnsafe(Math.min(keepMax, Math.max(out.length * 2, used + n)));
        out.copy(bigger, 0, 0, used);
        out = bigger;
      }
      src.copy(out, used, from, to);
      used += n;
      return true;
    };
    const err: Buffer[] = [];
    let read = 0;
    let errBytes = 0;
    let lineBytes = 0;
    const { finish, ended, settled } = supervise(child, label, timeout, resolve);
    const overCap = (): void => {
      child.kill('SIGKILL');
      finish({ ok: false, error: `${label}: output over the cap` });
    };
    child.stdout?.on('data', (chunk: Buffer) => {
      if (settled()) return;
      read += chunk.length;
      if (read > cap) return overCap();
      let at = 0;
      while (at < chunk.length) {
        const nl = chunk.indexOf(10, at);
        const end = nl < 0 ? chunk.length : nl;
        const room = Math.max(0, maxLine - lineBytes);
        if (room > 0 && !put(chunk, at, Math.min(end, at + room))) return overCap();
        lineBytes += end - at;
        if (nl < 0) break;
        if (!put(NEWLINE, 0, 1)) return overCap();
        lineBytes = 0;
        at = nl + 1;
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errBytes += chunk.length;
      if (errBytes <= 64 * 1024) err.push(chunk);
    });
    child.on('close', (code, signal) => {
      if (!settled()) ended(code, signal, out.toString('utf8', 0, used), Buffer.concat(err).toString('utf8'));
    });
  });
}

/** A child with an argument array (never a shell), its output piped, `LC_ALL=C`; or why it did not start. */
function startChild(file: string, args: string[], options: CommandOptions): ChildProcess | string {
  try {
    return spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env, LC_ALL: 'C', LANG: 'C' },
      windowsHide: true,
    });
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Settles a child's run once: killed with SIGKILL at its timeout, a failure to start named, and its end (a
 * non-zero exit with output still answers, as sysctl's does) read from the last line of its stderr.
 */
function supervise(
  child: ChildProcess,
  label: string,
  timeout: number,
  resolve: (r: CommandResult) => void,
): {
  finish: (r: CommandResult) => void;
  ended: (code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string) => void;
  settled: () => boolean;
  timer: NodeJS.Timeout;
} {
  let done = false;
  const finish = (r: CommandResult): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    resolve(r);
  };
  const timer = setTimeout(() => {
    child.kill('SIGKILL');
    finish({ ok: false, error: `${label}: no answer within ${timeout} ms` });
  }, timeout);
  child.on('error', (e: NodeJS.ErrnoException) =>
    finish({
      ok: false,
      error: e.code === 'ENOENT' ? `${label}: command not found` : `${label}: ${e.message}`,
    }),
  );
  const ended = (
    code: number | null,
    signal: NodeJS.Signals | null,
    stdout: string,
    stderr: string,
  ): void => {
    if (code === 0) finish({ ok: true, stdout, stderr, exitCode: 0 });
    else if (typeof code === 'number' && stdout) finish({ ok: true, stdout, stderr, exitCode: code });
    else
      finish({
        ok: false,
        error: `${label}: ${stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit ${code}`)}`,
      });
  };
  return { finish, ended, settled: () => done, timer };
}

const NEWLINE = Buffer.from('\n');
/** Bytes kept at most of output whose lines are cut: 4000 processes with 16 KiB command lines. */
const KEPT_MAX_BYTES = 64 * 1024 * 1024;

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

/**
 * The same contract as `runCommand` for a command whose answer may come after its caller is gone (the Metal
 * ceiling asked of a Python, up to seconds): the child, its pipes and its timeout never keep Node running, so
 * a one-shot CLI reading exits at once and leaves the child to finish (or be killed by its own timeout while
 * the daemon lives). Argument array, no shell; output capped; killed with SIGKILL at the timeout.
 */
export const runInBackground: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve) => {
    const timeout = options.timeoutMs ?? 3000;
    const cap = options.maxBytes ?? 1024 * 1024;
    const label = [file, ...args].join(' ');
    const child = startChild(file, args, options);
    if (typeof child === 'string') return resolve({ ok: false, error: `${label}: ${child}` });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const { finish, ended, timer } = supervise(child, label, timeout, resolve);
    timer.unref();
    const take = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        child.kill('SIGKILL');
        finish({ ok: false, error: `${label}: output over the cap` });
      } else into.push(chunk);
    };
    child.stdout?.on('data', take(out));
    child.stderr?.on('data', take(err));
    child.on('close', (code, signal) =>
      ended(code, signal, Buffer.concat(out).toString('utf8'), Buffer.concat(err).toString('utf8')),
    );
    child.unref();
    for (const s of [child.stdout, child.stderr] as Array<{ unref?: () => void } | null>) s?.unref?.();
  });
