import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename, dirname, sep } from 'node:path';

/** The hash covers this much of a file (and its size): the identity of a report across names. */
export const MAX_REPORT_BYTES = 16 * 1024 * 1024;
/** The text kept from the start of a file: header, body fields and an Apple-silicon `panicString`. */
export const HEAD_BYTES = 2 * 1024 * 1024;
/** Kept from a panic-string key found past the head (Intel bodies put it after the stackshot). */
export const PANIC_CAPTURE_BYTES = 1024 * 1024;
/** A file is never read past this, whatever its size. */
export const MAX_SCAN_BYTES = 256 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** A key this close to the end of the head may have its panic line cut off: capture from the key. */
const HEAD_MARGIN = 64 * 1024;
const PANIC_KEYS = ['"panicString"', '"macOSPanicString"'].map((k) => Buffer.from(k));
const OVERLAP = Math.max(...PANIC_KEYS.map((k) => k.length)) - 1;

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
 * FIFOs, sockets and devices are never opened. The file is streamed in 1 MiB chunks through one buffer:
 * only its head (HEAD_BYTES) and, when the panic string starts past the head, PANIC_CAPTURE_BYTES from
 * there are kept, so a 60 MB report costs a few MiB whatever its layout. Never throws.
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
    const { text, sha256, truncated } = streamHead(fd, Number(fst.size), maxBytes);
    return {
      ok: true,
      text,
      size: Number(fst.size),
      mtime: Math.round(Number(fst.mtimeMs)),
      sha256,
      truncated,
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

/** Index of the first panic-string key in `buf`, or -1. */
function findPanicKey(buf: Buffer): number {
  let at = -1;
  for (const k of PANIC_KEYS) {
    const i = buf.indexOf(k);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}

/**
 * Reads `fd` chunk by chunk: hashes the first `hashBytes` (plus the size, as the ledger always has), keeps
 * the head, and looks for a panic-string key until one is found, the file ends or MAX_SCAN_BYTES.
 * When the key lies past the head, the text is the header line followed by `{` and the bytes from the
 * key on: a (truncated) JSON body holding the panic string, which the container reads.
 */
function streamHead(
  fd: number,
  size: number,
  hashBytes: number,
): { text: string; sha256: string; truncated: boolean } {
  const hash = createHash('sha256');
  const head = Buffer.allocUnsafe(Math.min(size, HEAD_BYTES));
  const window = Buffer.allocUnsafe(CHUNK_BYTES + OVERLAP);
  let capture: Buffer | null = null;
  let captured = 0;
  let keyAt = -1;
  let headLength = 0;
  let carry = 0;
  let pos = 0;
  const limit = Math.min(size, MAX_SCAN_BYTES);
  while (pos < limit) {
    const n = readSync(fd, window, carry, Math.min(CHUNK_BYTES, limit - pos), pos);
    if (n === 0) break;
    const data = window.subarray(carry, carry + n);
    if (pos < hashBytes) hash.update(data.subarray(0, Math.min(n, hashBytes - pos)));
    if (pos < head.length) headLength += data.copy(head, pos, 0, Math.min(n, head.length - pos));
    if (capture !== null) {
      if (captured < capture.length) captured += data.copy(capture, captured, 0, capture.length - captured);
    } else if (keyAt < 0) {
      const i = findPanicKey(window.subarray(0, carry + n));
      if (i >= 0) {
        keyAt = pos - carry + i;
        if (keyAt + HEAD_MARGIN > head.length) {
          capture = Buffer.allocUnsafe(PANIC_CAPTURE_BYTES);
          captured = window.copy(capture, 0, i, Math.min(carry + n, i + PANIC_CAPTURE_BYTES));
        }
      }
    }
    pos += n;
    // Keep the last bytes so a key split across two chunks is still found.
    const kept = Math.min(OVERLAP, carry + n);
    window.copy(window, 0, carry + n - kept, carry + n);
    carry = kept;
    const panicDone = keyAt >= 0 && (capture === null || captured >= capture.length);
    if (pos >= hashBytes && pos >= head.length && panicDone) break;
  }
  hash.update(`:${size}`);
  let text = head.subarray(0, headLength).toString('utf8');
  if (capture !== null) {
    const nl = text.indexOf('\n');
    const headerLine = nl < 0 ? '' : text.slice(0, nl);
    text = `${headerLine}\n{${capture.subarray(0, captured).toString('utf8')}`;
  }
  return { text, sha256: hash.digest('hex'), truncated: size > headLength };
}
