import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type Db, openDatabase } from '../../src/main/core/store/database.js';

/**
 * A timeline on disk with the real schema: `seconds` of 1 s samples, `processes` each (five unless told), an
 * event per 10 s.
 */
export interface BuiltTimeline {
  path: string;
  /** Keys of each table in key order (ts for the time-keyed tables, ids for events). */
  keys: Record<'samples' | 'process_samples' | 'events', number[][]>;
  /** Leaf pages of each table in key order, with the index of their first row in `keys` and their row count. */
  leaves: Record<string, Leaf[]>;
  pageSize: number;
}

export interface Leaf {
  page: number;
  firstRow: number;
  rows: number;
  /**
   * WITHOUT ROWID tables (index B-trees) keep rows in interior pages too: the index in `keys` of the interior
   * row that comes right after this leaf, if any. A reader reaches it only by stepping off this leaf's last
   * row (a seek for it descends into this leaf), so it is lost with the leaf.
   */
  separatorAfter: number | null;
}

export const T0 = 1_795_000_000_000;

/**
 * Builds a timeline at `dir/timeline.db` from `t0`. With `walSeconds`, that many more seconds are committed to
 * the WAL only and the files are copied while the writer is still open, as a kernel panic leaves them.
 */
export function buildTimeline(
  dir: string,
  seconds: number,
  walSeconds = 0,
  t0 = T0,
  processes = 5,
): BuiltTimeline {
  mkdirSync(dir, { recursive: true });
  const live = join(dir, walSeconds ? 'live.db' : 'timeline.db');
  const db = openDatabase(live);
  const fill = (from: number, to: number) => {
    const s = db.prepare('INSERT INTO samples (ts, mem_total, mem_free, risk_level) VALUES (?, ?, ?, 0)');
    const p = db.prepare("INSERT INTO process_samples (ts, pid, role, rss) VALUES (?, ?, 'runner', ?)");
    const e = db.prepare(
      "INSERT INTO events (ts, kind, severity, message) VALUES (?, 'test.tick', 'info', ?)",
    );
    db.transaction(() => {
      for (let i = from; i < to; i++) {
        const ts = t0 + i * 1000;
        s.run(ts, 128 * 2 ** 30, 64 * 2 ** 30 - i);
        for (let pid = 100; pid < 100 + processes; pid++) p.run(ts, pid, 2 ** 30 + i);
        if (i % 10 === 0) e.run(ts, `second ${i}`);
      }
    })();
  };
  fill(0, seconds);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const layout = readLayout(db);
  if (walSeconds) {
    fill(seconds, seconds + walSeconds);
    const all = readLayout(db);
    // The damaged file as a panic leaves it: the database and its WAL, the writer never closed.
    for (const suffix of ['', '-wal'])
      if (existsSync(`${live}${suffix}`)) copyFileSync(`${live}${suffix}`, join(dir, `timeline.db${suffix}`));
    db.close();
    return {
      path: join(dir, 'timeline.db'),
      keys: all.keys,
      leaves: layout.leaves,
      pageSize: layout.pageSize,
    };
  }
  db.close();
  return { path: live, ...layout };
}

function readLayout(db: Db): Omit<BuiltTimeline, 'path'> {
  const keys = {
    samples: db.prepare('SELECT ts FROM samples ORDER BY ts').raw().all() as number[][],
    process_samples: db
      .prepare('SELECT ts, pid FROM process_samples ORDER BY ts, pid')
      .raw()
      .all() as number[][],
    events: db.prepare('SELECT id FROM events ORDER BY id').raw().all() as number[][],
  };
  // The rows each leaf holds, in key order: a walk of each B-tree from dbstat's pages. A WITHOUT ROWID table
  // is an index B-tree: its interior cells are rows too, one between each pair of children.
  const pages = db
    .prepare(
      "SELECT name, path, pageno, pagetype, ncell FROM dbstat WHERE pagetype IN ('internal', 'leaf') ORDER BY name, path",
    )
    .all() as { name: string; path: string; pageno: number; pagetype: string; ncell: number }[];
  const withoutRowid = new Set(
    (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%'")
        .all() as {
        name: string;
      }[]
    ).map((r) => r.name),
  );
  const leaves: BuiltTimeline['leaves'] = {};
  for (const name of new Set(pages.map((p) => p.name))) {
    const byPath = new Map(pages.filter((p) => p.name === name).map((p) => [p.path, p]));
    const list: Leaf[] = [];
    let row = 0;
    const walk = (path: string): void => {
      const page = byPath.get(path);
      if (!page) return;
      if (page.pagetype === 'leaf') {
        list.push({ page: page.pageno, firstRow: row, rows: page.ncell, separatorAfter: null });
        row += page.ncell;
        return;
      }
      for (let i = 0; i <= page.ncell; i++) {
        walk(`${path}${i.toString(16).padStart(3, '0')}/`);
        if (i < page.ncell && withoutRowid.has(name)) {
          const before = list[list.length - 1];
          if (before) before.separatorAfter = row;
          row++;
        }
      }
    };
    walk('/');
    leaves[name] = list;
  }
  return { keys, leaves, pageSize: db.pragma('page_size', { simple: true }) as number };
}

/** Overwrites whole pages (numbered from 1, as SQLite does) with a byte pattern no B-tree page starts with. */
export function damagePages(path: string, pageSize: number, pages: number[]): void {
  const fd = openSync(path, 'r+');
  try {
    for (const page of pages) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}

/** The keys left once the rows of `leaves` (and the interior rows only reached through them) are gone. */
export function keysWithout(keys: number[][], leaves: Leaf[]): number[][] {
  const lost = new Set<number>();
  for (const l of leaves) {
    for (let i = l.firstRow; i < l.firstRow + l.rows; i++) lost.add(i);
    if (l.separatorAfter !== null) lost.add(l.separatorAfter);
  }
  return keys.filter((_, i) => !lost.has(i));
}

/**
 * Changes one row's key in place, as a flipped bit or a torn write does: the first byte of the rowid varint of
 * cell `cell` on a rowid table's leaf gets `delta` added (its top 7-bit group: the key jumps by a power of 128).
 */
export function damageKey(
  path: string,
  pageSize: number,
  leafPage: number,
  cell: number,
  delta: 1 | -1,
): void {
  const fd = openSync(path, 'r+');
  try {
    const page = Buffer.alloc(pageSize);
    readSync(fd, page, 0, pageSize, (leafPage - 1) * pageSize);
    // A table leaf's header is 8 bytes, then the cell pointers; a cell is its payload size, then its rowid.
    let at = page.readUInt16BE(8 + 2 * cell);
    while ((page[at] ?? 0) & 0x80) at++;
    at++;
    page[at] = (page[at]! + delta) & 0xff;
    writeSync(fd, page, 0, pageSize, (leafPage - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}
