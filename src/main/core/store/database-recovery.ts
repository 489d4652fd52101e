import { existsSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type DatabaseConstructor, type Db, openDatabase } from './database.js';

/** SQLite's answer for a file that is not a database or whose pages are damaged. */
export function isCorruptionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

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
  /** One line for a person: where it is and how to get data out of it. */
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
  const open = (): Db => openDatabase(path, options.Driver ? { Driver: options.Driver } : {});
  let reason: string | null = null;
  try {
    const db = open();
    let check: unknown;
    try {
      check = db.pragma('quick_check', { simple: true });
    } catch (e) {
      if (!isCorruptionError(e)) {
        db.close();
        throw e;
      }
      check = (e as Error).message;
    }
    if (check === 'ok') return { db, recovered: null };
    reason = `quick_check: ${String(check).slice(0, 300)}`;
    db.close();
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
  return {
    db,
    recovered: {
      movedTo,
      reason,
      advice: `the timeline database was corrupt (${reason}); it was moved to ${movedTo} and a new one started. To get its data back: sqlite3 ${JSON.stringify(movedTo)} .recover | sqlite3 recovered.db`,
    },
  };
}
