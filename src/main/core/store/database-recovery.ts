import { existsSync, renameSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { formatBytes } from '../util/format.js';
import { type DatabaseConstructor, type Db, openDatabase } from './database.js';
import {
  isCorruptionError,
  isDiskError,
  type LostRange,
  PROGRESS_KEY,
  SalvageJob,
} from './database-salvage.js';
import { MIGRATIONS } from './migrations.js';

export { isCorruptionError };

/** Where a corrupt `timeline.db` goes: `timeline.corrupt-2026-11-28T12-30-05Z.db` beside it (never over another). */
export function corruptName(path: string, now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const stem = basename(path).replace(/\.db$/, '');
  for (let n = 0; ; n++) {
    const candidate = join(dirname(path), `${stem}.corrupt-${stamp}${n ? `-${n}` : ''}.db`);
    if (!existsSync(candidate) && !existsSync(`${candidate}-wal`)) return candidate;
  }
}

export interface Recovered {
  /** Where the damaged database now is (its -wal beside it, if it had one). */
  movedTo: string;
  /** What was wrong: SQLite's error, or quick_check's first finding. */
  reason: string;
  /** One line for a person: where it is, what was saved from it and how to get the rest out. */
  advice: string;
}

export interface OpenedTimeline {
  db: Db;
  recovered: Recovered | null;
}

/**
 * Opens the timeline database; a corrupt one (garbage bytes, or `PRAGMA quick_check` failing) is moved aside
 * under a dated name, never deleted or overwritten, and a fresh database is started in its place. Other
 * failures (permissions, a full or read-only disk, a newer schema) are thrown: they are not corruption, and
 * moving the file would not help.
 */
export function openTimelineDatabase(
  path: string,
  options: { Driver?: DatabaseConstructor; now?: number } = {},
): OpenedTimeline {
  const driver = options.Driver ? { Driver: options.Driver } : {};
  const open = (): Db => openDatabase(path, driver);
  let reason: string | null = null;
  try {
    // Checked before it is opened for writing: a migration must not write into a damaged file (the moved copy
    // is kept as it was), and its failure would hide what is wrong.
    if (existsSync(path) && statSync(path).size > 0) {
      const check = openDatabase(path, { ...driver, readonly: true, anySchema: true });
      let found: unknown;
      try {
        found = check.pragma('quick_check', { simple: true });
        // A damaged header can carry any schema version: one far past what any build writes (or below zero)
        // is damage, not a newer exo-sentinel (which stops the start instead).
        const version = check.pragma('user_version', { simple: true }) as number;
        if (found === 'ok' && (version < 0 || version > MIGRATIONS.length + 1000))
          reason = `the header's schema version is ${version}, which no exo-sentinel writes`;
      } catch (e) {
        if (!isCorruptionError(e)) throw e;
        found = (e as Error).message;
      } finally {
        check.close();
      }
      // quick_check lists one finding per line: one line for a person, the first findings.
      if (found !== 'ok' && reason === null)
        reason = `quick_check: ${String(found)
          .replace(/\s*\n\s*/g, '; ')
          .slice(0, 300)}`;
    }
    if (reason === null) return { db: open(), recovered: null };
  } catch (e) {
    if (reason === null && !isCorruptionError(e)) throw e;
    reason ??= (e as Error).message;
  }
  const movedTo = corruptName(path, options.now ?? Date.now());
  renameSync(path, movedTo);
  // The WAL holds the last committed transactions: it goes along, under the name SQLite will look for.
  for (const suffix of ['-wal', '-shm'])
    if (existsSync(`${path}${suffix}`)) renameSync(`${path}${suffix}`, `${movedTo}${suffix}`);
  const db = open();
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(SALVAGE_KEY, movedTo);
  return {
    db,
    recovered: {
      movedTo,
      reason,
      advice: `the timeline database was corrupt (${reason}); it was moved to ${movedTo} and a new one started, into which the rows that can still be read are being copied (a storage.salvaged event will say what was saved and what was lost). To get what is left out of it: sqlite3 ${JSON.stringify(movedTo)} .recover | sqlite3 recovered.db`,
    },
  };
}

/** The meta key naming a damaged database whose rows are still to be copied into this one. */
const SALVAGE_KEY = 'salvage_from';
/** The most a start waits for the tables copied before anything is written (reports, processes). */
const FIRST_BUDGET_MS = 10_000;
/** Free space left beside a copy for the ticks written meanwhile. */
const SALVAGE_MARGIN = 64 * 2 ** 20;

/** A damaged database's rows being copied into this one, a slice at a time. */
export interface PendingSalvage {
  path: string;
  /** The database the rows go into. */
  into: Db;
  /** Null when the damaged file cannot be opened at all (`error` says why). */
  job: SalvageJob | null;
  from: Db | null;
  error: string | null;
  /** The error is the disk's (not enough free space): the copy stays owed and is tried again later. */
  retry: boolean;
}

/**
 * The copy this database still owes (after a corrupt database was moved aside, also when a restart came
 * before it ended: it starts again and copies nothing twice), or null. The damaged file is opened read-only.
 * Call it before anything else writes to `db`: it keeps the ids the copied rows need.
 */
export function pendingSalvage(db: Db, Driver?: DatabaseConstructor): PendingSalvage | null {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(SALVAGE_KEY) as
    | { value: string }
    | undefined;
  if (!row) return null;
  const path = row.value;
  try {
    // The copy needs about the damaged file's size again: on a disk without it, the ticks would lose.
    const need = statSync(path).size + SALVAGE_MARGIN;
    const fs = statfsSync(dirname(path));
    const free = fs.bavail * fs.bsize;
    if (free < need)
      return {
        path,
        into: db,
        job: null,
        from: null,
        error: `${formatBytes(free)} free on its disk, ${formatBytes(need)} needed to copy it`,
        retry: true,
      };
    const from = openDatabase(path, { readonly: true, anySchema: true, ...(Driver ? { Driver } : {}) });
    const job = new SalvageJob(from, db);
    // Ids first, before the daemon writes a row (a few hundred rows: well under a second).
    job.copyFirst(FIRST_BUDGET_MS);
    return { path, into: db, job, from, error: null, retry: false };
  } catch (e) {
    return { path, into: db, job: null, from: null, error: (e as Error).message, retry: isDiskError(e) };
  }
}

/** The copy is over (or cannot be done): the damaged file is closed and no longer owed. */
export function endSalvage(pending: PendingSalvage): void {
  try {
    closeSalvage(pending);
  } finally {
    pending.into.prepare('DELETE FROM meta WHERE key IN (?, ?)').run(SALVAGE_KEY, PROGRESS_KEY);
  }
}

/** Stops the copy where it is and closes the damaged file (a stop: the next start resumes it). */
export function closeSalvage(pending: PendingSalvage): void {
  pending.job?.stop();
  pending.from?.close();
}

const iso = (ms: unknown): string | null =>
  typeof ms === 'number' && ms > 0 && ms < 8.64e15 ? new Date(ms).toISOString() : null;

/** Tables keyed by their time (ms); the others are keyed by an id, with the row's time in `ts`. */
const TIME_KEYED = new Set(['samples', 'samples_minute', 'process_samples', 'process_samples_minute']);

/**
 * Where a stretch of lost rows was, in time when it can be told: "between <time> and <time>", or "within
 * <time>" when it lies inside one second (some processes' rows of that second).
 */
function stretch(db: Db, table: string, r: LostRange): string {
  let from: string | null;
  let to: string | null;
  if (TIME_KEYED.has(table)) {
    from = iso(r.after);
    to = iso(r.before);
  } else {
    // The rows on either side were copied: their times bound the lost ones.
    const tsOf = (id: number | null): string | null => {
      if (id === null) return null;
      try {
        const row = db.prepare(`SELECT ts FROM "${table}" WHERE rowid = ?`).get(id) as
          | { ts?: unknown }
          | undefined;
        return iso(row?.ts);
      } catch {
        return null;
      }
    };
    from = tsOf(r.after);
    to = tsOf(r.before);
    if (!from && !to)
      return `${r.after === null ? 'from its start' : `after id ${r.after}`} ${r.before === null ? 'to its end' : `until id ${r.before}`}`;
  }
  if (from !== null && from === to) return `within ${from}`;
  return `between ${from ?? 'its start'} and ${to ?? 'its end'}`;
}

/** What a finished copy saved and lost, for the storage.salvaged event and the log. */
export function salvageMessage(pending: PendingSalvage): string {
  const db = pending.into;
  const s = pending.job?.salvage;
  if (!s || s.error)
    return `no rows could be copied out of the damaged timeline ${pending.path}: ${s?.error ?? pending.error}`;
  const lost = s.tables
    .filter((t) => t.lostRanges > 0)
    .map(
      (t) =>
        `${t.table} ${t.lost
          .slice(0, 3)
          .map((r) => stretch(db, t.table, r))
          .join(', ')}${t.lostRanges > 3 ? ` and ${t.lostRanges - 3} more stretch(es)` : ''}`,
    );
  const refused = s.tables.filter((t) => t.refused > 0).map((t) => `${t.refused} in ${t.table}`);
  return `${s.copied} row(s) copied out of the damaged timeline ${pending.path} into the new one; ${
    lost.length ? `rows on damaged pages are lost: ${lost.join('; ')}` : 'every page in it was read'
  }${refused.length ? `; rows with values the timeline cannot hold were left out: ${refused.join(', ')}` : ''}`;
}
