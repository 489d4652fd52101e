import { execFileSync } from 'node:child_process';
import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { parseProcStat } from './probes/linux/proc-pid-parser.js';

/**
 * What the pidfile records. A pid alone cannot tell the daemon from an unrelated process that got the same
 * pid after a reboot (the kernel panic this tool is for), so the boot and the process's start time go in too.
 */
export interface LockInfo {
  pid: number;
  startedAt: number;
  /** The boot the holder ran in (Linux boot_id, macOS kern.bootsessionuuid); null when unreadable. */
  bootId: string | null;
  /** The holder's start time as the OS reports it (stable for the life of the process); null when unreadable. */
  processStart: string | null;
  /** The holder's local API, once it listens (`http://host:port`). */
  api?: string;
  /** Seconds between the holder's samples (its `--interval` included), for a reader judging whether it writes. */
  intervalSeconds?: number;
}

/** What a holder adds to its record besides who it is. */
export type LockExtra = Pick<LockInfo, 'api' | 'intervalSeconds'>;

const extraOf = (l: LockInfo): LockExtra => ({
  ...(l.api ? { api: l.api } : {}),
  ...(l.intervalSeconds ? { intervalSeconds: l.intervalSeconds } : {}),
});

/** How this machine answers "which boot is this" and "when did process N start". */
export interface ProcessIdentity {
  bootId: string | null;
  startTimeOf(pid: number): string | null;
}

function readBootId(platform: NodeJS.Platform): string | null {
  try {
    if (platform === 'linux') return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    if (platform === 'darwin')
      return (
        execFileSync('/usr/sbin/sysctl', ['-n', 'kern.bootsessionuuid'], { encoding: 'utf8', timeout: 2000 })
          .trim()
          .slice(0, 100) || null
      );
  } catch {
    // Unreadable: the start time alone decides.
  }
  return null;
}

function readStartTime(platform: NodeJS.Platform, pid: number): string | null {
  try {
    if (platform === 'linux') {
      const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      return stat ? String(stat.startTimeTicks) : null;
    }
    if (platform === 'darwin')
      return (
        execFileSync('/bin/ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000 })
          .trim()
          .replace(/\s+/g, ' ') || null
      );
  } catch {
    // No such process (ps exits 1), or no procfs.
  }
  return null;
}

/** The real machine; the boot id is read once (it cannot change while this process lives). */
export function systemIdentity(platform: NodeJS.Platform = process.platform): ProcessIdentity {
  let boot: string | null | undefined;
  return {
    get bootId() {
      if (boot === undefined) boot = readBootId(platform);
      return boot;
    },
    startTimeOf: (pid) => readStartTime(platform, pid),
  };
}

/**
 * The stale-lock rule: the lock is held only when its process is the one that wrote it — same boot AND the
 * same start time for that pid now. Anything else (another boot, the pid reused by another process, a pidfile
 * from an older version without those fields, a process that is gone) is stale. A pid alone never blocks.
 */
export function isHeld(lock: LockInfo, here: ProcessIdentity): boolean {
  if (lock.processStart === null) return false;
  if (lock.bootId !== here.bootId) return false;
  return here.startTimeOf(lock.pid) === lock.processStart;
}

export function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid !== 'number' || typeof v.startedAt !== 'number') return null;
    return {
      pid: v.pid,
      startedAt: v.startedAt,
      bootId: typeof v.bootId === 'string' ? v.bootId : null,
      processStart: typeof v.processStart === 'string' ? v.processStart : null,
      ...(typeof v.api === 'string' ? { api: v.api } : {}),
      ...(typeof v.intervalSeconds === 'number' && v.intervalSeconds > 0 && v.intervalSeconds <= 3600
        ? { intervalSeconds: v.intervalSeconds }
        : {}),
    };
  } catch {
    return null;
  }
}

/** The running daemon for a data directory, if its pidfile names a process that is still that daemon. */
export function runningDaemon(path: string, here: ProcessIdentity = systemIdentity()): LockInfo | null {
  const lock = readLock(path);
  return lock && lock.pid !== process.pid && isHeld(lock, here) ? lock : null;
}

export type AcquireResult =
  | {
      ok: true;
      /** The previous holder's record, when it did not stop cleanly (killed, or the machine panicked). */
      stale: LockInfo | null;
      /** Why the pidfile could not be written (disk full, read-only): the daemon runs, unguarded by it. */
      unrecorded: string | null;
      /** The record this daemon holds (written, or to be written once it can be: `checkLock` does). */
      record?: LockInfo;
    }
  | { ok: false; holder: LockInfo };

/**
 * One writer per data directory. The pidfile is created atomically (written beside, then hard-linked into
 * place, which fails if one exists), so two daemons starting together cannot both take it. When the disk is
 * full or read-only the daemon still starts (sampling and the guard matter more than the lock); the caller
 * says so.
 */
export function acquireLock(
  path: string,
  now: number,
  here: ProcessIdentity = systemIdentity(),
  extra: LockExtra = {},
): AcquireResult {
  const mine: LockInfo = {
    pid: process.pid,
    startedAt: now,
    bootId: here.bootId,
    processStart: here.startTimeOf(process.pid),
    ...extra,
  };
  let stale: LockInfo | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const text = readText(path);
    const existing = readLock(path);
    if (existing && existing.pid !== process.pid && isHeld(existing, here))
      return { ok: false, holder: existing };
    if (existing && existing.pid !== process.pid) stale = existing;
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(mine), { mode: 0o644 });
    } catch (e) {
      rmSync(tmp, { force: true });
      return { ok: true, stale, unrecorded: (e as Error).message, record: mine };
    }
    try {
      // A stale or unreadable pidfile goes first — moved aside, and only if it is still the one judged stale
      // (a daemon starting at the same moment may have just taken it); then the link succeeds only if no
      // one else got there.
      if (text !== null && !removeIfUnchanged(path, text)) continue;
      linkSync(tmp, path);
      return { ok: true, stale, unrecorded: null, record: mine };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        return { ok: true, stale, unrecorded: (e as Error).message, record: mine };
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // Already gone.
      }
    }
  }
  const holder = readLock(path);
  return holder ? { ok: false, holder } : { ok: true, stale, unrecorded: `${path} keeps changing` };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Removes `path` if it still holds `text`; a newer file found there is put back. False when it changed. */
function removeIfUnchanged(path: string, text: string): boolean {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return true; // Gone already.
  }
  const moved = readText(aside);
  if (moved !== text) {
    try {
      linkSync(aside, path);
    } catch {
      // Someone took the place meanwhile: theirs stands.
    }
    rmSync(aside, { force: true });
    return false;
  }
  rmSync(aside, { force: true });
  return true;
}

/** What a look at its own pidfile found, for a running daemon. */
export type LockCheck =
  | { state: 'held'; lock: LockInfo }
  | { state: 'rewritten' }
  | { state: 'taken'; holder: LockInfo }
  | { state: 'unwritable'; problem: string };

/**
 * A running daemon's look at its pidfile: still its own (no process is looked up: no spawn on macOS), else
 * written again from `own` when removed or left by a dead process, or `taken` by another live daemon (the
 * pidfile was removed and a second daemon started, which this one then stops for). The lock is the pidfile
 * alone: removed while its daemon ran, a second daemon started beside it and both wrote the timeline.
 */
export function checkLock(
  path: string,
  own: LockInfo,
  here: () => ProcessIdentity = systemIdentity,
  /** The record that was in the pidfile when this daemon started without writing its own: stale, taken over. */
  foundAtStart: LockInfo | null = null,
): LockCheck {
  const now = readLock(path);
  const leftOver =
    now !== null &&
    foundAtStart !== null &&
    now.pid === foundAtStart.pid &&
    now.startedAt === foundAtStart.startedAt;
  const identity = here();
  const rewrite = (): LockCheck => {
    const again = acquireLock(path, own.startedAt, identity, extraOf(own));
    if (!again.ok) return { state: 'taken', holder: again.holder };
    return again.unrecorded ? { state: 'unwritable', problem: again.unrecorded } : { state: 'rewritten' };
  };
  if (leftOver) return rewrite();
  // Its own record: the same pid and start (a daemon in another pid namespace sharing the directory can be
  // pid 1 too).
  if (now?.pid === process.pid && now.startedAt === own.startedAt) return { state: 'held', lock: now };
  if (now?.pid === process.pid) return { state: 'taken', holder: now };
  if (now && isHeld(now, identity)) return { state: 'taken', holder: now };
  return rewrite();
}

/** Adds what the holder learns after start (its API address) to its own pidfile; best effort. */
export function updateLock(path: string, extra: LockExtra): void {
  const existing = readLock(path);
  if (existing?.pid !== process.pid) return;
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ ...existing, ...extra }), { mode: 0o644 });
    // rename is atomic: a reader sees the old record or the new one, never a half-written file.
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true });
  }
}

export function releaseLock(path: string): void {
  const existing = readLock(path);
  if (existing?.pid === process.pid) rmSync(path, { force: true });
}
