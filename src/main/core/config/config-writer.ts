import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { formatIssues } from './config-loader.js';
import { type Config, ConfigSchema } from './config-schema.js';

export type SaveResult =
  | { ok: true; config: Config }
  | { ok: false; errors: string[]; reason: 'invalid' | 'write-failed' };

/**
 * Validates a configuration and writes it atomically with mode 0600 (it may hold tokens); a running daemon
 * reloads it. A failed write (disk full, read-only) is an error value naming the file.
 */
export function saveConfigFile(path: string, input: unknown, where = 'config'): SaveResult {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, errors: formatIssues(parsed.error.issues, input, where), reason: 'invalid' };
  try {
    // A config.json that is a link (to a file kept elsewhere, under version control…) stays one: the file it
    // names is replaced, not the link.
    const target = linkTarget(path);
    // The platform's config directory (~/.config/exo-sentinel) may not exist yet; only its owner reads it.
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileAtomic(target, `${JSON.stringify(input, null, 2)}\n`, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      ok: false,
      errors: [`${where}: cannot write ${path} (${err.code ?? err.message})`],
      reason: 'write-failed',
    };
  }
  return { ok: true, config: parsed.data };
}

/** The file a path names: itself, or the end of its chain of links (which need not exist yet). */
function linkTarget(path: string): string {
  let p = path;
  for (let hops = 0; hops < 32; hops++) {
    try {
      if (!lstatSync(p).isSymbolicLink()) return p;
    } catch {
      return p;
    }
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new Error(`${path}: too many links`);
}

/** How long a writer waits for another's lock, and after how long a lock whose holder died is taken over. */
const LOCK_WAIT_MS = 5000;
const LOCK_STALE_MS = 30_000;
/** What a synchronous wait for the lock sleeps on (nothing ever wakes it: the 20 ms run out). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Whether a lock file's holder is gone: its pid is not running, or it is older than any write takes. */
function staleLock(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
      }
    }
    return Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // gone already, or being written: try again
  }
}

/**
 * Runs `fn` holding `<path>.lock` (created exclusively, holding this pid): a read-change-write of the file by
 * two processes at once would otherwise keep only one of the changes. Waits up to 5 s for another holder; a
 * lock left by a process that died is taken over.
 */
export function withFileLock<T>(path: string, fn: () => T): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (staleLock(lock)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${path} is being changed by another process (${lock})`);
      Atomics.wait(PAUSE, 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
