import type { Db } from '../store/database.js';

export interface AuditRecord {
  id?: number;
  time: number;
  /** notify, guard-mode, unload, hold-start, hold-end */
  action: string;
  level: string;
  reason: string;
  /** done, failed: …, dry-run, skipped: … */
  result: string;
  dryRun: boolean;
  detail?: Record<string, unknown>;
}

type Row = Record<string, string | number | null>;

/** The audit trail: what was done, why, when, and with what result. */
export class AuditStore {
  constructor(private readonly db: Db) {}

  record(a: AuditRecord): number {
    const info = this.db
      .prepare(
        'INSERT INTO actions (ts, action, level, reason, result, dry_run, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        a.time,
        a.action,
        a.level,
        a.reason,
        a.result,
        a.dryRun ? 1 : 0,
        a.detail ? JSON.stringify(a.detail) : null,
      );
    return Number(info.lastInsertRowid);
  }

  /**
   * When an action was last attempted for real (done or failed; not a dry run, not a skipped one), optionally
   * at one level: the cool-downs start from it again after a restart. Null: never.
   */
  lastDone(action: string, level?: string): number | null {
    const where = "action = ? AND dry_run = 0 AND result NOT LIKE 'skipped%'";
    const row = (
      level === undefined
        ? this.db.prepare(`SELECT ts FROM actions WHERE ${where} ORDER BY id DESC LIMIT 1`).get(action)
        : this.db
            .prepare(`SELECT ts FROM actions WHERE ${where} AND level = ? ORDER BY id DESC LIMIT 1`)
            .get(action, level)
    ) as { ts: number } | undefined;
    return row ? row.ts : null;
  }

  /** Oldest first, at most `limit`. */
  list(from = 0, to = Number.MAX_SAFE_INTEGER, limit = 1000): AuditRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM actions WHERE ts >= ? AND ts <= ? ORDER BY id LIMIT ?')
      .all(from, to, limit) as Row[];
    return rows.map(toRecord);
  }

  /**
   * Newest first (by id, the order they were done), at most `limit`, older than the `before` cursor; `next`
   * is the cursor for the rest (null: none).
   */
  page(q: { from: number; to: number; before?: number | undefined; limit: number }): {
    actions: AuditRecord[];
    next: number | null;
  } {
    const rows = this.db
      .prepare('SELECT * FROM actions WHERE id < ? AND +ts >= ? AND +ts <= ? ORDER BY id DESC LIMIT ?')
      .all(q.before ?? Number.MAX_SAFE_INTEGER, q.from, q.to, q.limit + 1) as Row[];
    const more = rows.length > q.limit;
    if (more) rows.pop();
    return { actions: rows.map(toRecord), next: more ? (rows[rows.length - 1]!['id'] as number) : null };
  }
}

function toRecord(r: Row): AuditRecord {
  return {
    id: r['id'] as number,
    time: r['ts'] as number,
    action: r['action'] as string,
    level: r['level'] as string,
    reason: r['reason'] as string,
    result: r['result'] as string,
    dryRun: r['dry_run'] === 1,
    ...(r['detail'] ? { detail: JSON.parse(r['detail'] as string) as Record<string, unknown> } : {}),
  };
}
