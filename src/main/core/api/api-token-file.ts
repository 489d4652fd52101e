import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What is at `<data>/api-token`, looked at without following a link: the token's text when the file holds a
 * valid one, and what is wrong with the file for a secret (its kind, owner and mode). Shared by the daemon,
 * which writes the file, and the CLI, which reads it. Nothing here ever puts the token in a message.
 */
export type TokenFileLook =
  | { kind: 'missing' }
  /** A link (never followed), a file this user cannot open, a directory: nothing read. */
  | { kind: 'unusable'; problem: string }
  | { kind: 'file'; token: string | null; facts: TokenFileFacts };

export interface TokenFileFacts {
  /** Permission bits and setuid/setgid/sticky (`st.mode & 0o7777`). */
  mode: number;
  uid: number;
  /** Owned by this process's user (always true where there are no uids). */
  ours: boolean;
  regular: boolean;
  /** The file descriptor it was read through, still open: the daemon repairs the mode on this very file. */
  fd: number;
}

export const TOKEN_PATTERN = /^[\x21-\x7e]{16,512}$/;
const MAX_TOKEN_FILE = 1024;

export const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/** Whether group or others may read or write the file; null when they have no permission bit at all. */
export function othersAccess(mode: number): { read: boolean; write: boolean } | null {
  const read = (mode & 0o044) !== 0;
  const write = (mode & 0o022) !== 0;
  return read || write || (mode & 0o011) !== 0 ? { read, write } : null;
}

/**
 * Opens the token file without following a link and without blocking on a FIFO; the caller closes
 * `facts.fd` (`closeTokenFile`). A file over 1 KiB or not holding 16–512 printable characters has no token.
 */
export function lookAtTokenFile(path: string): TokenFileLook {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    if (code === 'ELOOP' || code === 'EMLINK') return { kind: 'unusable', problem: 'is a symbolic link' };
    return { kind: 'unusable', problem: `cannot be opened (${code ?? (e as Error).message})` };
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    return { kind: 'unusable', problem: `cannot be examined (${(e as NodeJS.ErrnoException).code})` };
  }
  const uid = process.getuid?.();
  const facts: TokenFileFacts = {
    mode: st.mode & 0o7777,
    uid: st.uid,
    ours: uid === undefined || st.uid === uid,
    regular: st.isFile(),
    fd,
  };
  return { kind: 'file', token: facts.regular ? readToken(fd, st.size) : null, facts };
}

function readToken(fd: number, size: number): string | null {
  if (size > MAX_TOKEN_FILE) return null;
  try {
    const buf = Buffer.alloc(MAX_TOKEN_FILE);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const token = buf.subarray(0, n).toString('utf8').trim();
    return TOKEN_PATTERN.test(token) ? token : null;
  } catch {
    return null;
  }
}

export function closeTokenFile(look: TokenFileLook): void {
  if (look.kind === 'file') closeSync(look.facts.fd);
}

/** What is wrong with the file's kind or owner (null: a regular file of this user). */
export function ownershipProblem(facts: TokenFileFacts): string | null {
  if (!facts.regular) return 'is not a regular file';
  if (!facts.ours)
    return `is owned by another user (uid ${facts.uid}), not by this one (uid ${process.getuid?.()})`;
  return null;
}

/** "is readable by group or others (mode 0644)", or null when only its owner has access. */
export function accessProblem(facts: TokenFileFacts): string | null {
  if (process.getuid === undefined) return null;
  const others = othersAccess(facts.mode);
  if (!others) return null;
  const what =
    others.read && others.write
      ? 'readable and writable'
      : others.write
        ? 'writable'
        : others.read
          ? 'readable'
          : 'accessible';
  return `is ${what} by group or others (mode ${octal(facts.mode)})`;
}

/**
 * A warning when the directory holding the token lets group or others replace files in it (no sticky bit):
 * whoever can do that can swap the token file itself, whatever its mode.
 */
export function directoryProblem(path: string): string | null {
  if (process.getuid === undefined) return null;
  try {
    const st = statSync(dirname(path));
    if ((st.mode & 0o022) === 0 || (st.mode & 0o1000) !== 0) return null;
    return `is in a directory group or others can write (${dirname(path)}, mode ${octal(st.mode)})`;
  } catch {
    return null;
  }
}
