import type { Db } from './database.js';
import { SAMPLE_COLUMNS } from './migrations.js';

export interface RetentionPolicy {
  /** Raw 1 s samples are kept this long (default 7 days). */
  rawMs: number;
  /** Per-minute min/avg/max rows, events and the pid map are kept this long (default 90 days). */
  minuteMs: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { rawMs: 7 * 86_400_000, minuteMs: 90 * 86_400_000 };

const MINUTE = 60_000;

export interface RetentionResult {
  minutesRolledUp: number;
  rawDeleted: number;
  minuteDeleted: number;
  eventsDeleted: number;
}

/**
 * Rolls every complete minute of raw samples into `samples_minute` (idempotent: a minute is rebuilt from
 * whatever raw rows it has), then deletes raw rows past the raw window and everything past the long one.
 * Minutes are rolled up as they complete, so long-range queries read the small table even for recent data.
 */
export function applyRetention(
  db: Db,
  now: number,
  policy: RetentionPolicy = DEFAULT_RETENTION,
): RetentionResult {
  const currentMinute = Math.floor(now / MINUTE) * MINUTE;
  const lastRolled = (
    db.prepare("SELECT value FROM meta WHERE key = 'rolled_up_to'").get() as { value: string } | undefined
  )?.value;
  const from = lastRolled ? Number(lastRolled) : 0;
  const aggregates = SAMPLE_COLUMNS.map((c) => `min(${c}), avg(${c}), max(${c})`).join(', ');
  const targets = SAMPLE_COLUMNS.map((c) => `${c}_min, ${c}_avg, ${c}_max`).join(', ');
  return db.transaction((): RetentionResult => {
    const rolled = db
      .prepare(
        `INSERT OR REPLACE INTO samples_minute (ts, n, ${targets})
         SELECT (ts / ${MINUTE}) * ${MINUTE} AS m, count(*), ${aggregates}
         FROM samples WHERE ts >= ? AND ts < ? GROUP BY m`,
      )
      .run(from, currentMinute);
    db.prepare(
      `INSERT OR REPLACE INTO process_samples_minute
         (ts, pid, start_time, role, n, rss_max, phys_footprint_avg, phys_footprint_max, cpu_percent_avg)
       SELECT (ts / ${MINUTE}) * ${MINUTE} AS m, pid, max(start_time), max(role), count(*), max(rss),
              avg(phys_footprint), max(phys_footprint), avg(cpu_percent)
       FROM process_samples WHERE ts >= ? AND ts < ? GROUP BY m, pid`,
    ).run(from, currentMinute);
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('rolled_up_to', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(String(currentMinute));
    const rawCut = now - policy.rawMs;
    const longCut = now - policy.minuteMs;
    const rawDeleted = db.prepare('DELETE FROM samples WHERE ts < ?').run(rawCut).changes;
    db.prepare('DELETE FROM process_samples WHERE ts < ?').run(rawCut);
    const minuteDeleted = db.prepare('DELETE FROM samples_minute WHERE ts < ?').run(longCut).changes;
    db.prepare('DELETE FROM process_samples_minute WHERE ts < ?').run(longCut);
    const eventsDeleted = db.prepare('DELETE FROM events WHERE ts < ?').run(longCut).changes;
    db.prepare('DELETE FROM processes WHERE last_seen < ?').run(longCut);
    return { minutesRolledUp: rolled.changes, rawDeleted, minuteDeleted, eventsDeleted };
  })();
}
