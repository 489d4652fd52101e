import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname, sep } from 'node:path';

/** The most of a report that is read: the panic string sits at the start of the body; the rest is stackshot. */
export const MAX_REPORT_BYTES = 16 * 1024 * 1024;

export type ReadOutcome =
  | { ok: true; text: string; size: number; mtime: number; sha256: string; truncated: boolean }
  | {
      ok: false;
      reason: 'unreadable' | 'not-a-file' | 'outside-directory' | 'gone';
      size: number;
      mtime: number;
      problem: string;
    };

/** What would make a report readable, for the person reading `status`. */
export function readabilityAdvice(path: string, platform = process.platform): string {
  if (platform === 'darwin') {
    return (
      `${path} is readable only by admin users (group _analyticsusers). Run exo-sentinel as an admin user, ` +
      'check with `dseditgroup -o checkmember -m "$USER" _analyticsusers`, or add the user with ' +
      '`sudo dseditgroup -o edit -a "$USER" -t user _analyticsusers` (then log in again).'
    );
  }
  return `${path} is not readable by this user: run exo-sentinel as the file's owner or grant read access (chmod or setfacl).`;
}

/**
 * Reads a report file without trusting it: symlinks that leave the report directory are not followed,
 * FIFOs, sockets and devices are never opened, and at most MAX_REPORT_BYTES are read. Never throws.
 */
export function readReportFile(path: string, directory: string, maxBytes = MAX_REPORT_BYTES): ReadOutcome {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      return {
        ok: false,
        reason: 'unreadable',
        size: 0,
        mtime: 0,
        problem: readabilityAdvice(dirname(path)),
      };
    return {
      ok: false,
      reason: 'gone',
      size: 0,
      mtime: 0,
      problem: `${path} disappeared (${code ?? 'error'})`,
    };
  }
  const size = Number(st.size);
  const mtime = Math.round(Number(st.mtimeMs));
  let target = path;
  if (st.isSymbolicLink()) {
    try {
      target = realpathSync(path);
      const dir = realpathSync(directory);
      if (!target.startsWith(dir + sep)) {
        return {
          ok: false,
          reason: 'outside-directory',
          size,
          mtime,
          problem: `${basename(path)} links outside ${directory}: not followed`,
        };
      }
    } catch {
      return { ok: false, reason: 'gone', size, mtime, problem: `${path} is a dangling link` };
    }
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the check must not hang the daemon.
    fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      return { ok: false, reason: 'unreadable', size, mtime, problem: readabilityAdvice(path) };
    return { ok: false, reason: 'gone', size, mtime, problem: `${path}: ${code ?? (e as Error).message}` };
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile())
      return {
        ok: false,
        reason: 'not-a-file',
        size,
        mtime,
        problem: `${basename(path)} is not a regular file: not read`,
      };
    const length = Math.min(Number(fst.size), maxBytes);
    const buf = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buf, read, length - read, read);
      if (n === 0) break;
      read += n;
    }
    const bytes = buf.subarray(0, read);
    const sha256 = createHash('sha256').update(bytes).update(`:${fst.size}`).digest('hex');
    return {
      ok: true,
      text: bytes.toString('utf8'),
      size: Number(fst.size),
      mtime: Math.round(Number(fst.mtimeMs)),
      sha256,
      truncated: Number(fst.size) > maxBytes,
    };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM')
      return { ok: false, reason: 'unreadable', size, mtime, problem: readabilityAdvice(path) };
    return { ok: false, reason: 'gone', size, mtime, problem: `${path}: ${(e as Error).message}` };
  } finally {
    closeSync(fd);
  }
}
