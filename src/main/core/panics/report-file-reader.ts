import { closeSync, constants, fstatSync, lstatSync, openSync, read, readSync, realpathSync } from 'node:fs';
import { basename, dirname, sep } from 'node:path';
import { type CollectedHead, HeadCollector, MAX_REPORT_BYTES } from './report-head-collector.js';

export {
  HEAD_BYTES,
  MAX_REPORT_BYTES,
  MAX_SCAN_BYTES,
  PANIC_CAPTURE_BYTES,
} from './report-head-collector.js';

/** Files up to this size are read in one go by the cooperative reader; larger ones a chunk per turn. */
export const SYNC_READ_BYTES = 2 * 1024 * 1024;

export type ReadOutcome =
  | { ok: true; text: string; size: number; mtime: number; sha256: string; truncated: boolean }
  | {
      ok: false;
      reason: 'unreadable' | 'not-a-file' | 'outside-directory' | 'gone';
      size: number;
      mtime: number;
      problem: string;
    };
type ReadFailure = Extract<ReadOutcome, { ok: false }>;

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

const denied = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM';
};

/** The file as opened for reading: its descriptor, size and time (the descriptor's, not the name's). */
interface OpenedReport {
  ok: true;
  fd: number;
  size: number;
  mtime: number;
}

/**
 * Opens a report file without trusting it: symlinks that leave the report directory are not followed,
 * FIFOs, sockets and devices are never read (opened non-blocking, then refused by fstat).
 */
function openReport(path: string, directory: string): OpenedReport | ReadFailure {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (e) {
    if (denied(e))
      return {
        ok: false,
        reason: 'unreadable',
        size: 0,
        mtime: 0,
        problem: readabilityAdvice(dirname(path)),
      };
    const code = (e as NodeJS.ErrnoException).code;
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
    if (denied(e)) return { ok: false, reason: 'unreadable', size, mtime, problem: readabilityAdvice(path) };
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: 'gone', size, mtime, problem: `${path}: ${code ?? (e as Error).message}` };
  }
  try {
    const fst = fstatSync(fd);
    if (fst.isFile()) return { ok: true, fd, size: Number(fst.size), mtime: Math.round(Number(fst.mtimeMs)) };
    closeSync(fd);
    return {
      ok: false,
      reason: 'not-a-file',
      size,
      mtime,
      problem: `${basename(path)} is not a regular file: not read`,
    };
  } catch (e) {
    closeSync(fd);
    return readFailure(e, path, size, mtime);
  }
}

function readFailure(e: unknown, path: string, size: number, mtime: number): ReadFailure {
  if (denied(e)) return { ok: false, reason: 'unreadable', size, mtime, problem: readabilityAdvice(path) };
  return { ok: false, reason: 'gone', size, mtime, problem: `${path}: ${(e as Error).message}` };
}

const collected = (file: OpenedReport, head: CollectedHead): ReadOutcome => ({
  ok: true,
  text: head.text,
  size: file.size,
  mtime: file.mtime,
  sha256: head.sha256,
  truncated: head.truncated,
});

function collectSync(file: OpenedReport, maxBytes: number): ReadOutcome {
  const c = new HeadCollector(file.size, maxBytes);
  for (let r = c.next(); r; r = c.next()) c.took(readSync(file.fd, r.buffer, r.offset, r.length, r.position));
  return collected(file, c.finish());
}

/**
 * Reads a report file without trusting it (see openReport). The file is streamed in 1 MiB chunks: only
 * its head (HEAD_BYTES) and, when the panic string starts past the head, PANIC_CAPTURE_BYTES from there
 * are kept, so a 60 MB report costs a few MiB whatever its layout. Never throws.
 */
export function readReportFile(path: string, directory: string, maxBytes = MAX_REPORT_BYTES): ReadOutcome {
  const file = openReport(path, directory);
  if (!file.ok) return file;
  try {
    return collectSync(file, maxBytes);
  } catch (e) {
    return readFailure(e, path, file.size, file.mtime);
  } finally {
    closeSync(file.fd);
  }
}

/**
 * readReportFile for a file of at most `syncBytes` (as its descriptor says once open): 'large', with
 * nothing read, when it is bigger (readReportFileCooperatively reads those).
 */
export function readReportFileUpTo(
  path: string,
  directory: string,
  syncBytes: number,
  maxBytes = MAX_REPORT_BYTES,
): ReadOutcome | 'large' {
  const file = openReport(path, directory);
  if (!file.ok) return file;
  try {
    return file.size > syncBytes ? 'large' : collectSync(file, maxBytes);
  } catch (e) {
    return readFailure(e, path, file.size, file.mtime);
  } finally {
    closeSync(file.fd);
  }
}

const readChunk = (fd: number, buffer: Buffer, offset: number, length: number, position: number) =>
  new Promise<number>((resolve, reject) =>
    read(fd, buffer, offset, length, position, (e, n) => (e ? reject(e) : resolve(n))),
  );

/**
 * readReportFile for the daemon's scans: the same outcome, but a file larger than `syncBytes` is read a
 * chunk per turn of the event loop (the read itself off the main thread), so a directory of 256 MB files
 * never holds the loop longer than one chunk's hashing.
 */
export async function readReportFileCooperatively(
  path: string,
  directory: string,
  syncBytes = SYNC_READ_BYTES,
  maxBytes = MAX_REPORT_BYTES,
): Promise<ReadOutcome> {
  const file = openReport(path, directory);
  if (!file.ok) return file;
  try {
    if (file.size <= syncBytes) return collectSync(file, maxBytes);
    const c = new HeadCollector(file.size, maxBytes);
    for (let r = c.next(); r; r = c.next())
      c.took(await readChunk(file.fd, r.buffer, r.offset, r.length, r.position));
    return collected(file, c.finish());
  } catch (e) {
    return readFailure(e, path, file.size, file.mtime);
  } finally {
    closeSync(file.fd);
  }
}
