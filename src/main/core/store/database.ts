import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/** The page cache of each connection, in KiB. */
const CACHE_KIB = 2000;

/** The better-sqlite3-shaped constructor (injectable: tests and the app pass theirs). */
export type DatabaseConstructor = new (path: string, options?: Database.Options) => Db;

export interface OpenOptions {
  readonly?: boolean;
  /** Read-only: open whatever schema the file has (copying rows out of a damaged one), not only this build's. */
  anySchema?: boolean;
  Driver?: DatabaseConstructor;
}

/** better-sqlite3 13, a Node-API build: the same binary in the project's Node and in Electron's. */
function nodeDriver(): DatabaseConstructor {
  return createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
}

/**
 * Opens (creating if needed) the timeline database in WAL mode and brings its schema up to date.
 * synchronous=FULL: in WAL mode each commit is fsynced, so a kernel panic — the event this tool exists
 * for — loses at most the transaction in flight. At 1 Hz that costs well under a millisecond per tick.
 *
 * checkpoint_fullfsync=ON: on macOS fsync() hands the data to the drive but does not make the drive write
 * its cache (only fcntl F_FULLFSYNC does), so writes can reach the flash out of order. A WAL commit is safe
 * against that (frames carry checksums: a commit whose pages did not land is dropped whole on the next open),
 * but a checkpoint copies pages into the database file and then lets the WAL be overwritten; if those pages
 * were still in the drive's cache at a panic, the database itself is damaged. With this flag the
 * checkpoint's syncs are full flushes (one per checkpoint, every few minutes at 1 Hz), not every commit's.
 * SQLite ignores it where F_FULLFSYNC does not exist (Linux's fsync already flushes the drive).
 */
export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const Driver = options.Driver ?? nodeDriver();
  if (!options.readonly && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Driver(path, { readonly: options.readonly ?? false, timeout: 5000 });
  try {
    setUp(db, path, options);
  } catch (e) {
    // A file that is not a database (or a schema this build cannot read) fails here: no handle is left open.
    db.close();
    throw e;
  }
  return db;
}

function setUp(db: Db, path: string, options: OpenOptions): void {
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection (SQLITE_DEFAULT_CACHE_SIZE=-16000), and
  // a cache only grows: a day of history read once (the dashboard, a roll-up) kept ~16 MiB more resident for
  // good, per connection. SQLite's own default, 2 MB: the OS caches the file anyway.
  db.pragma(`cache_size = -${CACHE_KIB}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('checkpoint_fullfsync = ON');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return;
  }
  db.pragma('query_only = ON');
  if (options.anySchema) return;
  // A reader cannot migrate: a file without the timeline's tables (empty: a daemon stopped before its first
  // write) or with an older schema would fail later on "no such table/column"; it is said here instead.
  const version = schemaVersion(db);
  if (version < MIGRATIONS.length) throw new StaleSchemaError(path, version, MIGRATIONS.length);
}

/** A timeline opened read-only whose schema is behind this build's (0: no timeline in it yet). */
export class StaleSchemaError extends Error {
  readonly code = 'EXO_SENTINEL_SCHEMA';
  constructor(
    readonly path: string,
    readonly version: number,
    readonly current: number,
  ) {
    super(
      version === 0
        ? `${path} holds no timeline yet (no daemon has written to it); start it with: exo-sentinel daemon`
        : `${path} was written by an older exo-sentinel (schema version ${version}, this one reads ${current}); restart the daemon, which brings it up to date, and try again`,
    );
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function migrate(db: Db): number {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the database schema is version ${current}, newer than this exo-sentinel knows (${MIGRATIONS.length}); upgrade exo-sentinel`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return schemaVersion(db);
}
