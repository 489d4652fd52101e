import { accessSync, constants } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileSizeLimitProblem } from '../core/store/file-size-limit.js';

/** The database's directory is on a read-only file system (root ignores permissions, not a read-only mount). */
function readOnlyDir(dbPath: string): boolean {
  try {
    accessSync(dirname(dbPath), constants.W_OK);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * A database failure a person can act on, as one line: what is wrong with which file, and what to do.
 * Null for anything else (a bug: the caller shows it in full).
 */
export function describeStoreProblem(e: unknown, dbPath: string): string | null {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  // A write the file size limit stopped (a read error is never that one).
  const limited = fileSizeLimitProblem(code, dbPath);
  if (limited) return `${limited}, then try again`;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    return `${dbPath} is corrupt (${message}); start the daemon (exo-sentinel daemon) to move it aside and begin a new one, then recover what it held with: sqlite3 <moved file> .recover`;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return `${dbPath} is locked by another process (${message}); try again in a moment, or stop whatever holds it (exo-sentinel status shows the daemon)`;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC')
    return `no space left on device for ${dbPath}; free some space and try again`;
  if (
    code.startsWith('SQLITE_READONLY') ||
    code === 'EROFS' ||
    (code === 'SQLITE_CANTOPEN' && readOnlyDir(dbPath))
  )
    return `${dbPath} is on a read-only file system or not writable (${message}; the timeline needs to write ${basename(dbPath)}-shm beside it even to read); remount it read-write, or copy the data directory elsewhere and pass --data-dir`;
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'EACCES' || code === 'EPERM')
    return `cannot open ${dbPath} (${message}); check that the data directory exists and is readable and writable by this user`;
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO')
    return `I/O error on ${dbPath} (${message}); check the disk (Disk Utility, dmesg) and try again`;
  if (/newer than this exo-sentinel knows/.test(message)) return `${dbPath}: ${message}`;
  if (code === 'EXO_SENTINEL_SCHEMA') return message;
  return null;
}
