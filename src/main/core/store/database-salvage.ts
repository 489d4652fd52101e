import type { Db } from './database.js';

/**
 * SQLite's answer for a file that is not a database or whose pages are damaged (an unreadable sector under a
 * page, SQLITE_IOERR_CORRUPTFS, or a header naming a file format SQLite does not have, included).
 */
export function isCorruptionError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_IOERR_CORRUPTFS')
    return true;
  return code === 'SQLITE_ERROR' && /unsupported file format/.test(String((e as Error).message));
}

/** A full disk or an I/O error writing: the environment's fault, not the damaged file's. */
export function isDiskError(e: unknown): boolean {
  const code = String((e as { code?: unknown }).code ?? '');
  return (
    code === 'SQLITE_FULL' ||
    code === 'ENOSPC' ||
    (code.startsWith('SQLITE_IOERR') && code !== 'SQLITE_IOERR_CORRUPTFS')
  );
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
  /** Rows read but refused by the new schema (a value of a type a column cannot hold): not copied. */
  refused: number;
  /** Every row was read (no damaged page met). */
  complete: boolean;
}

export interface Salvage {
  /** Rows copied into the new database, over all tables. */
  copied: number;
  tables: TableSalvage[];
  /** Why nothing could be read at all (the schema itself damaged, a newer schema), else null. */
  error: string | null;
}

const CHUNK = 500;
/** Where a table's ids start in the new database when the damaged one's highest cannot be read. */
const UNKNOWN_ID_GAP = 1_000_000_000;
const BATCH = 500;
const MAX_RANGES = 20;
/**
 * Seeks spent finding readable rows past damaged pages, per table (each is one B-tree descent, microseconds;
 * about 80 per damaged stretch): a bound for a file damaged beyond sense, not for a damaged one.
 */
const MAX_PROBES = 1_000_000;
/**
 * The order tables are copied in. First what the new database would otherwise hand out again: `reports` and
 * `processes` take the next free id (SQLite's max + 1), so they are copied before the daemon writes its first
 * row (`copyFirst`). Then what a person asks about after a panic (its events, the seconds and minutes before
 * it), the bulky per-process readings last, so what is needed first is back first.
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

/** How far a copy got, kept in the new database with the rows it covers (a restart resumes there). */
interface Progress {
  /** The table being copied. */
  table: string;
  /** Its rows from this value of the key's first column on are still to be read (null: from its start). */
  from: number | null;
}

/** The meta key of the progress record. */
export const PROGRESS_KEY = 'salvage_progress';

/**
 * Copies every row it can read from a damaged timeline database into a new one, table by table, a slice at a
 * time (`step`), so a daemon keeps ticking and serving while it runs. Each table is read as one scan in B-tree
 * order (a damaged key out of order neither stops it nor sends it back); where a page cannot be read, the scan
 * ends there and the first readable key past it is found by seeking on the key's first column (doubling,
 * then halving the distance), always past where the last scan started, so it ends. Only rows on damaged pages
 * are lost, and where they were is told. Rows go in once (a row already there is skipped), BATCH per transaction, each with a
 * progress record: the new database is never half-written, and a restart resumes where the copy was.
 */
export class SalvageJob {
  readonly salvage: Salvage = { copied: 0, tables: [], error: null };
  private readonly steps: Generator<void, void, void>;
  private pending: {
    rows: Row[];
    write: (rows: Row[], progress: Progress) => number;
    into: TableSalvage;
    /** Where a restart would resume, as of the rows read so far. */
    progress: () => Progress;
  } | null = null;
  private finished = false;
  /** The table being copied (null before the first). */
  private current: string | null = null;
  private readonly resume: Progress | null;

  constructor(
    private readonly from: Db,
    private readonly into: Db,
  ) {
    const saved = into.prepare('SELECT value FROM meta WHERE key = ?').get(PROGRESS_KEY) as
      | { value: string }
      | undefined;
    this.resume = saved ? parseProgress(saved.value) : null;
    this.steps = this.run();
  }

  get done(): boolean {
    return this.finished;
  }

  /**
   * Before anything else is written to the new database: its AUTOINCREMENT tables (events, actions) hand out
   * ids above every id of the damaged one, and the tables whose ids are SQLite's max + 1 (reports, processes)
   * are copied now (for at most `budgetMs`), so a row written meanwhile never takes an id a copied row needs.
   */
  copyFirst(budgetMs: number, clock: () => number = Date.now): void {
    this.reserveIds();
    this.advance(budgetMs, clock, () => this.current === null || FIRST.has(this.current));
  }

  /** Copies for about `budgetMs`; true once every table has been read (or nothing could be). */
  step(budgetMs: number, clock: () => number = Date.now): boolean {
    this.advance(budgetMs, clock, () => true);
    return this.finished;
  }

  private advance(budgetMs: number, clock: () => number, more: () => boolean): void {
    const until = clock() + budgetMs;
    while (!this.finished && more() && clock() < until) if (this.steps.next().done) this.finished = true;
    this.flush();
  }

  /** Ends the copy where it is (a scan left open is closed): the damaged file can then be closed. */
  stop(): void {
    this.flush();
    this.steps.return();
    this.finished = true;
  }

  private reserveIds(): void {
    const { from, into } = this;
    const auto = into
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'")
      .all() as { name: string }[];
    for (const { name } of auto) {
      const read = (sql: string): number | null => {
        try {
          const n = asNumber((from.prepare(sql).get(name) as { n?: unknown } | undefined)?.n);
          // A damaged key can read as any number: one past what ids ever reach is not believed.
          return n !== null && n >= 0 && n < UNKNOWN_ID_GAP ? n : null;
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

  private flush(): void {
    const p = this.pending;
    if (!p?.rows.length) return;
    const written = p.write(p.rows, p.progress());
    p.into.copied += written;
    this.salvage.copied += written;
    p.rows = [];
  }

  private *run(): Generator<void, void, void> {
    const { from, into, salvage } = this;
    let tables: string[];
    try {
      const theirVersion = from.pragma('user_version', { simple: true }) as number;
      const ourVersion = into.pragma('user_version', { simple: true }) as number;
      // A version far past ours is a damaged header (the open said so), not a newer build: read it as ours.
      if (theirVersion > ourVersion && theirVersion <= ourVersion + 1000) {
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
    // After a restart: the tables before the one it was in are done, that one goes on from where it was.
    const at = this.resume ? tables.indexOf(this.resume.table) : -1;
    for (const [i, table] of tables.entries()) {
      if (i < at) continue;
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
          refused: 0,
          complete: false,
        });
        continue;
      }
      if (!p) continue;
      this.current = table;
      yield* this.copyTable(p, i === at ? (this.resume?.from ?? null) : null);
      this.flush();
      yield;
    }
  }

  private *copyTable(p: Plan, start: number | null): Generator<void, void, void> {
    const { from, into } = this;
    const nk = p.key.length;
    const keyAs = p.key.map((k, i) => `${k === 'rowid' ? 'rowid' : q(k)} AS __k${i}`).join(', ');
    const cols = p.columns.map(q).join(', ');
    const order = p.key.map((k) => (k === 'rowid' ? 'rowid' : q(k))).join(', ');
    const first = p.key[0] === 'rowid' ? 'rowid' : q(p.key[0]!);
    type Stmt = {
      all(...params: unknown[]): unknown[];
      iterate(...params: unknown[]): IterableIterator<unknown>;
      raw(on: boolean): Stmt;
    };
    const stmts = new Map<string, Stmt>();
    const stmt = (where: string, limit: number | null): Stmt => {
      const id = `${where}:${limit}`;
      let s = stmts.get(id);
      if (!s) {
        s = from.prepare(
          `SELECT ${keyAs}, ${cols} FROM ${q(p.table)} ${where} ORDER BY ${order}${limit === null ? '' : ` LIMIT ${limit}`}`,
        ) as unknown as Stmt;
        s.raw(true);
        stmts.set(id, s);
      }
      return s;
    };
    const fromFirst = `WHERE ${first} >= ?`;
    // ON CONFLICT DO NOTHING, not OR IGNORE: a row already there (read twice) is skipped quietly, while a row
    // breaking NOT NULL or CHECK fails and is counted as refused (OR IGNORE would drop it without a word).
    const insert = into.prepare(
      `INSERT INTO ${q(p.table)} (${cols}) VALUES (${p.columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,
    );
    const saveProgress = into.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    const result: TableSalvage = {
      table: p.table,
      copied: 0,
      lost: [],
      lostRanges: 0,
      refused: 0,
      complete: false,
    };
    this.salvage.tables.push(result);
    const pending = {
      rows: [] as Row[],
      write: into.transaction((rows: Row[], progress: Progress): number => {
        // Rows read twice (a scan resumed a row back, a restart) are ignored: only rows written are counted.
        let written = 0;
        for (const r of rows) {
          try {
            written += insert.run(r.slice(nk)).changes;
          } catch (e) {
            // One row the schema cannot take (a damaged value of the wrong type) is that row, not the copy.
            const code = String((e as { code?: unknown }).code ?? '');
            if (!code.startsWith('SQLITE_CONSTRAINT') && code !== 'SQLITE_MISMATCH') throw e;
            result.refused++;
          }
        }
        saveProgress.run(PROGRESS_KEY, JSON.stringify(progress));
        return written;
      }),
      into: result,
      progress: (): Progress => ({ table: p.table, from: position() ?? start }),
    };
    this.pending = pending;
    const lose = (range: LostRange) => {
      result.lostRanges++;
      if (result.lost.length < MAX_RANGES) result.lost.push(range);
    };
    let floor = start;
    // Where the scan is: the median of the last three keys read, so that one key damaged in place (read as far
    // too big or too small) neither throws the next seek past readable rows nor sends it back.
    const recent: number[] = [];
    /** The key of the last row read (what a lost stretch is said to come after). */
    let lastKey: number | null = null;
    /** A composite key's second column in that row. */
    let lastSecond: number | null = null;
    const position = (): number | null =>
      recent.length ? [...recent].sort((a, b) => a - b)[Math.floor((recent.length - 1) / 2)]! : null;
    let probes = 0;
    const probe = (read: () => Row[], keyAt: Map<number, unknown> | null, x: number): Probe => {
      probes++;
      try {
        const one = read();
        if (one.length && keyAt) keyAt.set(x, one[0]![0]);
        return one.length ? 'row' : 'empty';
      } catch (e) {
        if (!isCorruptionError(e)) throw e;
        return 'fail';
      }
    };
    let lostRange: LostRange | null = null;
    for (;;) {
      // One scan from `floor` in B-tree order, as far as the pages read.
      let readHere = 0;
      try {
        const rows = (
          floor === null ? stmt('', null).iterate() : stmt(fromFirst, null).iterate(floor)
        ) as IterableIterator<Row>;
        for (const row of rows) {
          const k = asNumber(row[0]);
          if (lostRange && lostRange.before === null && k !== null) lostRange.before = k;
          if (k !== null) {
            lastKey = k;
            lastSecond = nk === 2 ? asNumber(row[1]) : null;
            recent.push(k);
            if (recent.length > 3) recent.shift();
          }
          pending.rows.push(row);
          readHere++;
          if (pending.rows.length >= BATCH) this.flush();
          if (readHere % CHUNK === 0) yield;
        }
        result.complete = result.lostRanges === 0;
        return;
      } catch (e) {
        if (!isCorruptionError(e)) throw e;
      }
      // A damaged page: seek past it, above everything read and above where this scan started (so it ends).
      const keyAt = new Map<number, unknown>();
      const at = position();
      const base = Math.max(at ?? -1, floor ?? -1);
      if (probes >= MAX_PROBES) {
        lose({ after: lastKey, before: null });
        return;
      }
      const found = seekPast(
        base,
        (x) => probe(() => stmt(fromFirst, 1).all(x) as Row[], keyAt, x),
        () => probes >= MAX_PROBES,
      );
      const before = found === null ? null : asNumber(keyAt.get(found));
      // A scan that ended again within the rows the seek put it back on (the position lags a row) met the same
      // damage: the stretch grows, it is not a new one.
      if (lostRange && readHere <= 2) lostRange.before = before;
      else {
        lostRange = { after: lastKey, before };
        lose(lostRange);
      }
      if (found === null) return;
      if (nk === 2) {
        // Rows whose first key column is the last value inside the damage (found - 1: keys are integers; one
        // time, one row per process) may sit partly on the damaged page and partly after it: the rest are
        // sought on the second column and taken. When the scan stopped within that value, the search starts
        // from the last row it read: from the value's start, a probe would find that value's first rows (read
        // before the damage) and the rows after the damage would be taken from there, through the damage.
        const second = q(p.key[1]!);
        const same = (limit: number, y: number): Row[] =>
          stmt(`WHERE ${first} = ? AND ${second} >= ?`, limit).all(found - 1, y) as Row[];
        const from2 = seekPast(
          lastKey === found - 1 && lastSecond !== null ? lastSecond : -1,
          (y) => probe(() => same(1, y), null, y),
          () => probes >= MAX_PROBES,
        );
        if (from2 !== null) {
          try {
            const rest = same(CHUNK, from2);
            for (const r of rest) pending.rows.push(r);
            if (rest.length) lostRange.before = found - 1;
          } catch (e) {
            if (!isCorruptionError(e)) throw e;
          }
        }
      }
      floor = found;
      yield;
    }
  }
}

function parseProgress(text: string): Progress | null {
  try {
    const v = JSON.parse(text) as { table?: unknown; from?: unknown };
    if (typeof v.table !== 'string') return null;
    return { table: v.table, from: typeof v.from === 'number' && Number.isFinite(v.from) ? v.from : null };
  } catch {
    return null;
  }
}

const asNumber = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null;

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
