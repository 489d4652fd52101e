import type { Db } from './database.js';

/** SQLite's answer for a file that is not a database or whose pages are damaged. */
export function isCorruptionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

/** A stretch of a table's first key column (a time in ms, or an id) whose rows sat on unreadable pages. */
export interface LostRange {
  /** The last key read before the damage (exclusive), or null when the table's start was unreadable. */
  after: number | null;
  /** The first key read after it (exclusive), or null when nothing after it could be read. */
  before: number | null;
}

export interface TableSalvage {
  table: string;
  copied: number;
  /** Where rows were lost (at most MAX_RANGES are listed; `lostRanges` counts them all). */
  lost: LostRange[];
  lostRanges: number;
  /** Every row was read (no damaged page met, nothing left for lack of time). */
  complete: boolean;
}

export interface Salvage {
  /** Rows copied into the new database, over all tables. */
  copied: number;
  tables: TableSalvage[];
  /** The time ran out before every table was read; the rest is only in the damaged file. */
  timedOut: boolean;
  /** Why nothing could be read at all (the schema itself damaged, a newer schema), else null. */
  error: string | null;
}

export interface SalvageOptions {
  /** Give up (timedOut) after this long; the copy stays consistent, only incomplete. Default 20 s. */
  budgetMs?: number;
  clock?: () => number;
}

const CHUNK = 500;
/** Where a table's ids start in the new database when the damaged one's highest cannot be read. */
const UNKNOWN_ID_GAP = 1_000_000_000;
const BATCH = 5_000;
const MAX_RANGES = 20;
/** Seeks spent finding readable rows past damaged pages, per table (each costs one B-tree descent). */
const MAX_PROBES = 4000;
/**
 * The order tables are copied in. First what the new database would otherwise hand out again: `reports` and
 * `processes` take the next free id (SQLite's max + 1), so they are copied before the daemon writes its first
 * row (`copyFirst`). Then what a person asks about after a panic (its events, the seconds and minutes before
 * it), the bulky per-process readings last, so a time limit costs the least.
 */
const ORDER = [
  'meta',
  'reports',
  'processes',
  'events',
  'actions',
  'samples',
  'samples_minute',
  'process_samples_minute',
  'process_samples',
];
/** Copied whole at once, before anything else is written to the new database. */
const FIRST = new Set(['meta', 'reports', 'processes']);

/** A row as read: the key's values first, then the columns copied. */
type Row = unknown[];
/** Where a read resumes: after a whole key, or after a value of the first key column (past damage). */
type Cursor = { key: unknown[] } | { first: number } | null;

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

interface Plan {
  table: string;
  /** The key's columns in order: `rowid` for rowid tables, the primary key of a WITHOUT ROWID table. */
  key: string[];
  columns: string[];
}

function plan(from: Db, into: Db, table: string): Plan | null {
  const src = from.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as
    | { sql: string }
    | undefined;
  if (!src) return null;
  const info = (db: Db) =>
    db.prepare(`PRAGMA table_info(${q(table)})`).all() as { name: string; pk: number }[];
  const theirs = info(from);
  const have = new Set(theirs.map((c) => c.name));
  const columns = info(into)
    .map((c) => c.name)
    .filter((n) => have.has(n));
  const key = /\bWITHOUT\s+ROWID\b/i.test(src.sql)
    ? theirs
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name)
    : ['rowid'];
  return columns.length && key.length ? { table, key, columns } : null;
}

/**
 * Copies every row it can read from a damaged timeline database into a new one, table by table in key order,
 * a slice at a time (`step`), so a daemon keeps ticking and serving while it runs. Where a page cannot be
 * read, the rows before it are taken one by one and the first readable key after it is found by seeking
 * (doubling, then halving the distance on the key's first column): only the rows on damaged pages are lost,
 * and where they were is told. Rows are inserted OR IGNORE, thousands per transaction: the new database is
 * never half-written, and a copy started again (after a restart) copies nothing twice.
 */
export class SalvageJob {
  readonly salvage: Salvage = { copied: 0, tables: [], timedOut: false, error: null };
  private readonly steps: Generator<void, void, void>;
  private pending: { rows: Row[]; write: (rows: Row[]) => void; into: TableSalvage } | null = null;
  private finished = false;

  constructor(
    private readonly from: Db,
    private readonly into: Db,
  ) {
    this.steps = this.run();
  }

  get done(): boolean {
    return this.finished;
  }

  /**
   * Before anything else is written to the new database: its AUTOINCREMENT tables (events, actions) hand out
   * ids above every id of the damaged one, and the tables whose ids are SQLite's max + 1 (reports, processes)
   * are copied now, so a row written meanwhile never takes an id a copied row needs. Returns whether the copy
   * got past them within `budgetMs`.
   */
  copyFirst(budgetMs: number, clock: () => number = Date.now): boolean {
    this.reserveIds();
    const until = clock() + budgetMs;
    while (!this.finished && (this.current === null || FIRST.has(this.current)) && clock() < until)
      if (this.steps.next().done) this.finished = true;
    this.flush();
    return this.finished || (this.current !== null && !FIRST.has(this.current));
  }

  /** The table being copied (null before the first). */
  private current: string | null = null;

  private reserveIds(): void {
    const { from, into } = this;
    const auto = into
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")
      .all() as { name: string }[];
    for (const { name } of auto) {
      const read = (sql: string): number | null => {
        try {
          return asNumber((from.prepare(sql).get(name) as { n?: unknown } | undefined)?.n);
        } catch {
          return null;
        }
      };
      // The highest id in the table, else the sequence SQLite kept for it, else far above any plausible one.
      const theirs =
        read(`SELECT max(rowid) AS n FROM ${q(name)} WHERE ? IS NOT NULL`) ??
        read('SELECT seq AS n FROM sqlite_sequence WHERE name = ?') ??
        UNKNOWN_ID_GAP;
      const updated = into
        .prepare('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?')
        .run(theirs, name).changes;
      if (!updated) into.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(name, theirs);
    }
  }

  /** Copies for about `budgetMs`; true once every table has been read (or nothing could be). */
  step(budgetMs: number, clock: () => number = Date.now): boolean {
    const until = clock() + budgetMs;
    while (!this.finished && clock() < until) if (this.steps.next().done) this.finished = true;
    this.flush();
    return this.finished;
  }

  private flush(): void {
    const p = this.pending;
    if (!p?.rows.length) return;
    p.write(p.rows);
    p.into.copied += p.rows.length;
    this.salvage.copied += p.rows.length;
    p.rows = [];
  }

  private *run(): Generator<void, void, void> {
    const { from, into, salvage } = this;
    let tables: string[];
    try {
      const theirVersion = from.pragma('user_version', { simple: true }) as number;
      const ourVersion = into.pragma('user_version', { simple: true }) as number;
      if (theirVersion > ourVersion) {
        salvage.error = `its schema is version ${theirVersion}, newer than this exo-sentinel's (${ourVersion})`;
        return;
      }
      const names = (
        into
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
          .all() as { name: string }[]
      ).map((r) => r.name);
      tables = [...ORDER.filter((t) => names.includes(t)), ...names.filter((t) => !ORDER.includes(t))];
    } catch (e) {
      salvage.error = `its schema cannot be read: ${(e as Error).message}`;
      return;
    }
    for (const table of tables) {
      let p: Plan | null;
      try {
        p = plan(from, into, table);
      } catch (e) {
        if (!isCorruptionError(e)) throw e;
        salvage.tables.push({
          table,
          copied: 0,
          lost: [{ after: null, before: null }],
          lostRanges: 1,
          complete: false,
        });
        continue;
      }
      if (!p) continue;
      this.current = table;
      yield* this.copyTable(p);
      this.flush();
      yield;
    }
  }

  private *copyTable(p: Plan): Generator<void, void, void> {
    const { from, into } = this;
    const nk = p.key.length;
    const keyAs = p.key.map((k, i) => `${k === 'rowid' ? 'rowid' : q(k)} AS __k${i}`).join(', ');
    const cols = p.columns.map(q).join(', ');
    const order = p.key.map((k) => (k === 'rowid' ? 'rowid' : q(k))).join(', ');
    const first = p.key[0] === 'rowid' ? 'rowid' : q(p.key[0]!);
    type Stmt = { all(...params: unknown[]): unknown[]; raw(on: boolean): Stmt };
    const stmts = new Map<string, Stmt>();
    const stmt = (where: string, limit: number): Stmt => {
      const id = `${where}:${limit}`;
      let s = stmts.get(id);
      if (!s) {
        s = from.prepare(
          `SELECT ${keyAs}, ${cols} FROM ${q(p.table)} ${where} ORDER BY ${order} LIMIT ${limit}`,
        ) as unknown as Stmt;
        s.raw(true);
        stmts.set(id, s);
      }
      return s;
    };
    const byKey = `WHERE (${order}) > (${p.key.map(() => '?').join(', ')})`;
    const read = (cursor: Cursor, limit: number): Row[] =>
      (cursor === null
        ? stmt('', limit).all()
        : 'key' in cursor
          ? stmt(byKey, limit).all(...cursor.key)
          : stmt(`WHERE ${first} >= ?`, limit).all(cursor.first)) as Row[];
    const insert = into.prepare(
      `INSERT OR IGNORE INTO ${q(p.table)} (${cols}) VALUES (${p.columns.map(() => '?').join(', ')})`,
    );
    const result: TableSalvage = { table: p.table, copied: 0, lost: [], lostRanges: 0, complete: false };
    this.salvage.tables.push(result);
    this.pending = {
      rows: [],
      write: into.transaction((rows: Row[]) => {
        for (const r of rows) insert.run(r.slice(nk));
      }),
      into: result,
    };
    const pending = this.pending;
    // Thousands of rows per transaction: each commit is an fsync (synchronous=FULL).
    const take = (rows: Row[]) => {
      for (const r of rows) pending.rows.push(r);
      if (pending.rows.length >= BATCH) this.flush();
    };
    const lose = (range: LostRange) => {
      result.lostRanges++;
      if (result.lost.length < MAX_RANGES) result.lost.push(range);
    };
    const keyOf = (r: Row): unknown[] => r.slice(0, nk);
    let cursor: Cursor = null;
    let probes = 0;
    for (;;) {
      let rows: Row[];
      try {
        rows = read(cursor, CHUNK);
      } catch (e) {
        if (!isCorruptionError(e)) throw e;
        // The rows before the damaged page, one at a time.
        let ended = false;
        try {
          for (;;) {
            const one = read(cursor, 1);
            if (!one.length) {
              ended = true;
              break;
            }
            take(one);
            cursor = { key: keyOf(one[0]!) };
          }
        } catch (e2) {
          if (!isCorruptionError(e2)) throw e2;
        }
        if (ended) {
          result.complete = result.lostRanges === 0;
          return;
        }
        const last = cursor === null ? null : 'key' in cursor ? cursor.key[0] : cursor.first;
        const base = asNumber(last);
        if (base === null && last !== null) {
          // A key that is not a number (none of ours): nothing to seek past the damage with.
          lose({ after: null, before: null });
          return;
        }
        // Our keys (times in ms, ids) are positive: damage at a table's start is sought past from 0.
        const firstKeyAt = new Map<number, unknown>();
        const found = seekPast(
          base ?? -1,
          (x) => {
            probes++;
            try {
              const one = read({ first: x }, 1);
              if (one.length) firstKeyAt.set(x, one[0]![0]);
              return one.length ? 'row' : 'empty';
            } catch (e3) {
              if (!isCorruptionError(e3)) throw e3;
              return 'fail';
            }
          },
          () => probes >= MAX_PROBES,
        );
        const range: LostRange = {
          after: base,
          before: found === null ? null : asNumber(firstKeyAt.get(found)),
        };
        lose(range);
        if (found === null) return;
        cursor = { first: found };
        if (nk === 2) {
          // Rows whose first key column is the last value inside the damage (found - 1: keys are integers; one
          // time, one row per process) may sit partly on the damaged page and partly after it: the rest are
          // sought on the second column and taken.
          const second = q(p.key[1]!);
          const sameFirst = (limit: number, y: number): Row[] =>
            stmt(`WHERE ${first} = ? AND ${second} >= ?`, limit).all(found - 1, y) as Row[];
          const from2 = seekPast(
            -1,
            (y) => {
              probes++;
              try {
                return sameFirst(1, y).length ? 'row' : 'empty';
              } catch (e4) {
                if (!isCorruptionError(e4)) throw e4;
                return 'fail';
              }
            },
            () => probes >= MAX_PROBES,
          );
          if (from2 !== null) {
            try {
              const rest = sameFirst(CHUNK, from2);
              take(rest);
              if (rest.length) range.before = found - 1;
            } catch (e5) {
              if (!isCorruptionError(e5)) throw e5;
            }
          }
        }
        yield;
        continue;
      }
      if (rows.length) {
        take(rows);
        cursor = { key: keyOf(rows[rows.length - 1]!) };
      }
      if (rows.length < CHUNK) {
        result.complete = result.lostRanges === 0;
        return;
      }
      yield;
    }
  }
}

const asNumber = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;

/** The whole copy at once, within `budgetMs` (tests, tools); a daemon runs a SalvageJob a slice per tick. */
export function salvageRows(from: Db, into: Db, options: SalvageOptions = {}): Salvage {
  const job = new SalvageJob(from, into);
  if (!job.step(options.budgetMs ?? 20_000, options.clock)) job.salvage.timedOut = true;
  return job.salvage;
}

/** What a read of the rows after a point gave: a row, nothing (past the table's end), or a damaged page. */
export type Probe = 'row' | 'empty' | 'fail';

/**
 * The smallest `x` above `base` from which a read gives a row, for reads that fail while they start inside
 * the damage: the distance doubles until a read gives a row or runs past the table's end, then is halved
 * back. Null when no row past `base` can be read (or the probes allowed are spent).
 */
export function seekPast(base: number, probe: (x: number) => Probe, spent: () => boolean): number | null {
  const at = (x: number): Probe | null => (spent() ? null : probe(x));
  let lo = base;
  let hi: number | null = null;
  let best: number | null = null;
  for (let step = 1; base + step <= Number.MAX_SAFE_INTEGER; step *= 2) {
    const r = at(base + step);
    if (r === null) return null;
    if (r === 'fail') {
      lo = base + step;
      continue;
    }
    hi = base + step;
    if (r === 'row') best = hi;
    break;
  }
  if (hi === null) return null;
  return narrow(lo, hi, best, at);
}

/** Between lo (reads fail) and hi (a row, or nothing): the first point that reads a row, else `best`. */
function narrow(lo: number, hi: number, best: number | null, at: (x: number) => Probe | null): number | null {
  // Reads from lo fail; from hi they give a row (best) or nothing: the first point between that gives a row.
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const r = at(mid);
    if (r === null) break;
    if (r === 'fail') lo = mid;
    else {
      hi = mid;
      if (r === 'row') best = mid;
    }
  }
  return best;
}
