import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export interface LockInfo {
  pid: number;
  startedAt: number;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    return typeof v.pid === 'number' && typeof v.startedAt === 'number'
      ? { pid: v.pid, startedAt: v.startedAt }
      : null;
  } catch {
    return null;
  }
}

/** The running daemon for a data directory, if its pidfile names a live process. */
export function runningDaemon(path: string): LockInfo | null {
  const lock = readLock(path);
  return lock && lock.pid !== process.pid && alive(lock.pid) ? lock : null;
}

export type AcquireResult = { ok: true; stale: LockInfo | null } | { ok: false; holder: LockInfo };

/**
 * One writer per data directory. A pidfile whose process is gone is stale: the previous daemon did not
 * stop cleanly (killed, or the machine panicked), which the caller records.
 */
export function acquireLock(path: string, now: number): AcquireResult {
  const existing = readLock(path);
  if (existing && existing.pid !== process.pid && alive(existing.pid)) return { ok: false, holder: existing };
  writeFileSync(path, JSON.stringify({ pid: process.pid, startedAt: now }), { mode: 0o644 });
  return { ok: true, stale: existing };
}

export function releaseLock(path: string): void {
  const existing = readLock(path);
  if (existing?.pid === process.pid) rmSync(path, { force: true });
}
