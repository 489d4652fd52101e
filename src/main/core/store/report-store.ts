import type Database from 'better-sqlite3';
import type { Attribution, ReportCategory, ReportRecord, ReportStatus } from '../../../shared/reports.js';
import type { Db } from './database.js';

type Row = Record<string, string | number | null>;

export type NewReport = Omit<ReportRecord, 'id'> & { sha256: string | null };

function toRecord(r: Row): ReportRecord {
  return {
    id: r['id'] as number,
    path: r['path'] as string,
    name: r['name'] as string,
    dir: r['dir'] as string,
    size: r['size'] as number,
    mtime: r['mtime'] as number,
    status: r['status'] as ReportStatus,
    problem: (r['problem'] as string | null) ?? null,
    category: (r['category'] as ReportCategory | null) ?? null,
    bugType: (r['bug_type'] as string | null) ?? null,
    kind: (r['kind'] as string | null) ?? null,
    panicTime: (r['panic_time'] as number | null) ?? null,
    pid: (r['pid'] as number | null) ?? null,
    processName: (r['process_name'] as string | null) ?? null,
    attribution: r['attribution'] ? (JSON.parse(r['attribution'] as string) as Attribution) : null,
    info: r['info'] ? (JSON.parse(r['info'] as string) as Record<string, unknown>) : null,
    ingestedAt: r['ingested_at'] as number,
  };
}

/** The scan ledger and the ingested reports. A report is one row, ever: keyed by content, else by file. */
export class ReportStore {
  /** Statements prepared once each: a scan asks several per file, and preparing cost more than asking. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Db) {}

  private sql(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  /** Runs `fn` in one transaction (one commit, one fsync): a scan writes its rows a slice at a time. */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The status of the row for this exact file state (path, mtime, size), if any: a scan skips a known file unread. */
  fileStatus(path: string, mtime: number, size: number): ReportStatus | null {
    const r = this.sql('SELECT status FROM reports WHERE path = ? AND mtime = ? AND size = ? LIMIT 1').get(
      path,
      mtime,
      size,
    ) as { status: ReportStatus } | undefined;
    return r?.status ?? null;
  }

  /** Whether a report with this content is in the ledger. */
  hasSha(sha256: string): boolean {
    return this.sql('SELECT 1 FROM reports WHERE sha256 = ?').get(sha256) !== undefined;
  }

  /** An earlier "present but unreadable" row for this path, to be completed once it can be read. */
  unreadableAt(path: string): ReportRecord | null {
    const r = this.sql(
      "SELECT * FROM reports WHERE path = ? AND status = 'unreadable' ORDER BY id DESC LIMIT 1",
    ).get(path) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  /** The newest row read from `path` (not an unreadable one): what the file held when it was last read. */
  readAt(path: string): ReportRecord | null {
    const r = this.sql(
      "SELECT * FROM reports WHERE path = ? AND status != 'unreadable' ORDER BY id DESC LIMIT 1",
    ).get(path) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  insert(rep: NewReport): number {
    const info = this.sql(
      `INSERT INTO reports (path, name, dir, size, mtime, sha256, status, problem, category, bug_type, kind, panic_time, pid,
           process_name, attribution, info, ingested_at)
         VALUES (@path, @name, @dir, @size, @mtime, @sha256, @status, @problem, @category, @bugType, @kind, @panicTime, @pid,
           @processName, @attribution, @info, @ingestedAt)`,
    ).run({
      ...rep,
      attribution: rep.attribution ? JSON.stringify(rep.attribution) : null,
      info: rep.info ? JSON.stringify(rep.info) : null,
    });
    return Number(info.lastInsertRowid);
  }

  /** Replaces an unreadable row with what the file now says (same id, so nothing refers to a dead row). */
  complete(id: number, rep: NewReport): void {
    this.sql(
      `UPDATE reports SET size = @size, mtime = @mtime, sha256 = @sha256, status = @status, problem = @problem,
           category = @category, bug_type = @bugType, kind = @kind, panic_time = @panicTime, pid = @pid,
           process_name = @processName, attribution = @attribution, info = @info, ingested_at = @ingestedAt
         WHERE id = @id`,
    ).run({
      ...rep,
      id,
      attribution: rep.attribution ? JSON.stringify(rep.attribution) : null,
      info: rep.info ? JSON.stringify(rep.info) : null,
    });
  }

  get(id: number): ReportRecord | null {
    const r = this.sql('SELECT * FROM reports WHERE id = ?').get(id) as Row | undefined;
    return r ? toRecord(r) : null;
  }

  list(filter: { category?: ReportCategory; status?: ReportStatus; limit?: number } = {}): ReportRecord[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (filter.category) {
      where.push('category = ?');
      args.push(filter.category);
    }
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    const sql = `SELECT * FROM reports ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY coalesce(panic_time, mtime) DESC, id DESC LIMIT ?`;
    return (this.sql(sql).all(...args, filter.limit ?? 1000) as Row[]).map(toRecord);
  }

  /**
   * Reports newest first (by panic time, else file time; then id), without `skipped` rows, at most `limit`,
   * after the `before` cursor (the id of the previous page's last row). `next` is the cursor for the page after.
   */
  page(q: { before?: number | undefined; limit: number }): { reports: ReportRecord[]; next: number | null } {
    const where = ["status != 'skipped'"];
    const args: number[] = [];
    if (q.before !== undefined) {
      const at = this.sql('SELECT coalesce(panic_time, mtime) AS t FROM reports WHERE id = ?').get(
        q.before,
      ) as { t: number } | undefined;
      // A cursor whose row is gone (retention) still pages on: by id alone.
      if (at) {
        where.push('(coalesce(panic_time, mtime) < ? OR (coalesce(panic_time, mtime) = ? AND id < ?))');
        args.push(at.t, at.t, q.before);
      } else {
        where.push('id < ?');
        args.push(q.before);
      }
    }
    const rows = this.sql(
      `SELECT * FROM reports WHERE ${where.join(' AND ')} ORDER BY coalesce(panic_time, mtime) DESC, id DESC LIMIT ?`,
    ).all(...args, q.limit + 1) as Row[];
    const more = rows.length > q.limit;
    if (more) rows.pop();
    return { reports: rows.map(toRecord), next: more ? (rows[rows.length - 1]!['id'] as number) : null };
  }

  /**
   * Readable kernel panics by kind (`unknown` for none) with a panic time (else file time) since a moment,
   * counted by SQLite: the kind of the latest panic first. The whole ledger, not a page of it.
   */
  panicsByKind(since = Number.MIN_SAFE_INTEGER): Array<{ kind: string; n: number }> {
    return this.sql(
      `SELECT coalesce(kind, 'unknown') AS kind, count(*) AS n FROM reports
       WHERE category = 'panic' AND status = 'ingested' AND coalesce(panic_time, mtime) >= ?
       GROUP BY coalesce(kind, 'unknown') ORDER BY max(coalesce(panic_time, mtime)) DESC, max(id) DESC`,
    ).all(since) as Array<{ kind: string; n: number }>;
  }

  latestPanic(): ReportRecord | null {
    return this.list({ category: 'panic', status: 'ingested', limit: 1 })[0] ?? null;
  }

  /** Panics of a kind, or of any of several kinds (by panic time, else file time), since a moment. */
  countPanics(kind: string | readonly string[], since = 0): number {
    const kinds = typeof kind === 'string' ? [kind] : kind;
    if (kinds.length === 0) return 0;
    // Asked every tick by the risk stage: one statement per number of kinds, prepared once (preparing cost
    // more than the query).
    let statement = this.countStatements.get(kinds.length);
    if (!statement) {
      statement = this.db.prepare(
        `SELECT count(*) AS n FROM reports WHERE category = 'panic' AND kind IN (${kinds.map(() => '?').join(', ')}) AND coalesce(panic_time, mtime) >= ?`,
      );
      this.countStatements.set(kinds.length, statement);
    }
    return (statement.get(...kinds, since) as { n: number }).n;
  }

  private readonly countStatements = new Map<number, Database.Statement<unknown[]>>();
}
