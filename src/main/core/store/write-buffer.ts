import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StorageState, StorageStatus } from '../../../shared/status-view.js';
import { fileSizeLimitProblem } from './file-size-limit.js';

/** No block left for this user on the file's file system. */
function diskFull(path: string): boolean {
  try {
    return statfsSync(dirname(path)).bavail === 0;
  } catch {
    return false;
  }
}

/** The file's directory is on a read-only file system (SQLite says only "unable to open database file"). */
function readOnlyDir(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * What the daemon holds in memory while the timeline cannot be written (disk full, read-only data directory):
 * a bounded first-in-first-out buffer. Beyond its capacity, in entries and (with `weigh`) in bytes, the
 * oldest entries go, and are counted, so memory stays bounded however long the disk stays full. The newest
 * entry is always kept.
 */
export class BoundedBuffer<T> {
  private items: T[] = [];
  private weights: number[] = [];
  private total = 0;
  private droppedCount = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number = Number.POSITIVE_INFINITY,
    private readonly weigh: (item: T) => number = () => 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`capacity must be ≥ 1, got ${capacity}`);
  }

  push(item: T): void {
    const w = this.weigh(item);
    this.items.push(item);
    this.weights.push(w);
    this.total += w;
    // The oldest past the count, then more of the oldest while the rest weigh too much (the newest stays).
    let n = Math.max(0, this.items.length - this.capacity);
    let kept = this.total;
    for (let i = 0; i < n; i++) kept -= this.weights[i]!;
    while (n < this.items.length - 1 && kept > this.maxBytes) kept -= this.weights[n++]!;
    if (n > 0) this.drop(n);
  }

  private drop(n: number): void {
    for (const w of this.weights.splice(0, n)) this.total -= w;
    this.items.splice(0, n);
    this.droppedCount += n;
  }

  get size(): number {
    return this.items.length;
  }

  /** The bytes the entries held weigh (0 without `weigh`). */
  get bytes(): number {
    return this.total;
  }

  /** How many entries were dropped (oldest first) because the buffer was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The entries, oldest first, without removing them. */
  peek(): readonly T[] {
    return this.items;
  }

  /** Removes the oldest `n` entries (after they were written). */
  shift(n: number): void {
    for (const w of this.weights.splice(0, n)) this.total -= w;
    this.items.splice(0, n);
  }
}

/** The timeline's write health, as `status` shows it (the wire type lives in shared). */
export type { StorageState, StorageStatus };

/** One line naming a storage failure: what and where, from SQLite's or the OS's error code. */
export function describeStorageError(e: unknown, path: string): string {
  const err = e as { code?: string; message?: string };
  const code = err.code ?? '';
  // Before "no space": the write the kernel cuts short at the limit is SQLITE_FULL too (on a disk with room).
  const limited = fileSizeLimitProblem(code, path, code === 'SQLITE_FULL' && diskFull(path));
  if (limited) return limited;
  // A full disk can also surface as an I/O error (the -shm file cannot grow) or "unable to open".
  if (
    code === 'SQLITE_FULL' ||
    code === 'ENOSPC' ||
    (/^SQLITE_(IOERR|CANTOPEN)/.test(code) && diskFull(path))
  )
    return `no space left on device at ${path}`;
  if (
    code.startsWith('SQLITE_READONLY') ||
    code === 'EROFS' ||
    (code === 'SQLITE_CANTOPEN' && readOnlyDir(path))
  )
    return `read-only file system at ${path}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_PERM')
    return `permission denied writing ${path}`;
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return `I/O error writing ${path}: ${err.message}`;
  return `cannot write ${path}: ${err.message ?? String(e)}`;
}

/** Tracks the timeline's write health: the first failure and recovery are the moments worth an event. */
export class StorageHealth {
  private failing: { message: string; since: number } | null = null;
  private readonly extra = new Map<string, string>();

  constructor(readonly path: string) {}

  /** Records a failed write; returns the message when this starts a failure (or changes its cause). */
  failed(e: unknown, now: number): string | null {
    const message = describeStorageError(e, this.path);
    const changed = this.failing?.message !== message;
    this.failing = { message, since: this.failing?.since ?? now };
    return changed ? message : null;
  }

  /** Records a successful write; returns how long writes had failed, if they had. */
  succeeded(now: number): number | null {
    if (!this.failing) return null;
    const ms = now - this.failing.since;
    this.failing = null;
    return ms;
  }

  get ok(): boolean {
    return this.failing === null;
  }

  /** A storage note beside the timeline (key: what, e.g. 'log'); null clears it. */
  note(key: string, message: string | null): void {
    if (message === null) this.extra.delete(key);
    else this.extra.set(key, message);
  }

  status(buffered: number, dropped: number): StorageStatus {
    return {
      state: this.failing ? 'failing' : 'ok',
      message: this.failing?.message ?? null,
      path: this.path,
      buffered,
      dropped,
      since: this.failing?.since ?? null,
      notes: [...this.extra.values()],
    };
  }
}
