import type { Db } from './database.js';
import { SAMPLE_COLUMNS } from './migrations.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** How long rows of one kind are kept. `prefix` matches the start of an event kind or an audit action. */
export interface KeepRule {
  prefix: string;
  /** Kept this long; a `long` rule is never shorter than the minute window. */
  ms: number;
  long?: boolean;
}

export interface RetentionPolicy {
  /** Raw 1 s samples and process readings are kept this long (default 48 h). */
  rawMs: number;
  /** Per-minute roll-ups, the pid map and events without a rule are kept this long (default 30 days). */
  minuteMs: number;
  /** Events by kind, first matching prefix wins (default EVENT_RULES). */
  events?: readonly KeepRule[];
  /** Audit rows (the actions table) by action, first matching prefix wins; others: the minute window. */
  audit?: readonly KeepRule[];
}

/**
 * Events by kind. One `guard.request` per proxied request is the bulk of the table on a busy node and is
 * only read for the last day (dashboard, metrics); panics, holds and report findings are the history a
 * person asks about months later.
 */
export const EVENT_RULES: readonly KeepRule[] = [
  { prefix: 'guard.request', ms: 7 * DAY },
  { prefix: 'probe.', ms: 7 * DAY },
  { prefix: 'exo.kv-', ms: 14 * DAY },
  { prefix: 'exo.prefill-', ms: 14 * DAY },
  { prefix: 'exo.runner-status', ms: 14 * DAY },
  { prefix: 'panic.', ms: 365 * DAY, long: true },
  { prefix: 'hold.', ms: 365 * DAY, long: true },
  { prefix: 'report.', ms: 365 * DAY, long: true },
  { prefix: 'jetsam', ms: 365 * DAY, long: true },
  { prefix: 'guard.override', ms: 365 * DAY, long: true },
  { prefix: 'action.', ms: 365 * DAY, long: true },
];

/** Audit rows: holds and unloads are kept a year; notifications and guard-mode changes the minute window. */
export const AUDIT_RULES: readonly KeepRule[] = [
  { prefix: 'hold-', ms: 365 * DAY, long: true },
  { prefix: 'unload', ms: 365 * DAY, long: true },
];

export const DEFAULT_RETENTION: RetentionPolicy = {
  rawMs: 2 * DAY,
  minuteMs: 30 * DAY,
  events: EVENT_RULES,
  audit: AUDIT_RULES,
};

export interface RetentionResult {
  minutesRolledUp: number;
  rawDeleted: number;
  minuteDeleted: number;
  eventsDeleted: number;
  auditDeleted: number;
  /** The time the windows were cut from (`now`, or earlier while a step of the clock is caught up). */
  cutAt: number;
}

/** GLOB (case-sensitive, can use the (kind, ts) index); a prefix with glob characters matches itself. */
const globPrefix = (prefix: string): string => `${prefix.replace(/[*?[\]]/g, (c) => `[${c}]`)}*`;

/**
 * Deletes rows of `table` older than their kind's window: each rule's prefix by its own cut, every other
 * kind by `defaultCut`. Returns the rows deleted.
 */
function pruneByKind(
  db: Db,
  table: 'events' | 'actions',
  column: 'kind' | 'action',
  rules: readonly KeepRule[],
  now: number,
  minuteMs: number,
): number {
  let deleted = 0;
  for (const r of rules) {
    const keep = r.long ? Math.max(r.ms, minuteMs) : r.ms;
    deleted += db
      .prepare(`DELETE FROM ${table} WHERE ${column} GLOB ? AND ts < ?`)
      .run(globPrefix(r.prefix), now - keep).changes;
  }
  const notRuled = rules.map(() => `${column} GLOB ?`).join(' OR ');
  deleted += db
    .prepare(`DELETE FROM ${table} WHERE ts < ?${rules.length ? ` AND NOT (${notRuled})` : ''}`)
    .run(now - minuteMs, ...rules.map((r) => globPrefix(r.prefix))).changes;
  return deleted;
}

/**
 * Rolls the raw samples (and process readings) of the minutes in [from, to) into `samples_minute` (and
 * `process_samples_minute`); returns the minutes written. `replace` rebuilds a minute from whatever raw rows
 * it has; `fill` writes only minutes that have no roll-up yet (rows copied out of a damaged timeline: a
 * minute rolled up before the damage, from all its rows, is better than one rebuilt from what survived).
 */
export function rollUpMinutes(db: Db, from: number, to: number, mode: 'replace' | 'fill'): number {
  const verb = mode === 'replace' ? 'INSERT OR REPLACE' : 'INSERT OR IGNORE';
  const targets = SAMPLE_COLUMNS.map((c) => `${c}_min, ${c}_avg, ${c}_max`).join(', ');
  const rolled = db
    .prepare(
      `${verb} INTO samples_minute (ts, n, ${targets},
         risk_level_max, exo_reachable_min, exo_in_flight_avg, exo_in_flight_max, gpu_recovery_count_max,
         gpu_ceiling_source)
       SELECT m, n, ${targets},
         risk_level_max, exo_reachable_min, exo_in_flight_avg, exo_in_flight_max, gpu_recovery_count_max,
         (SELECT s.gpu_ceiling_source FROM samples s WHERE s.ts = last_ts) FROM (
           SELECT (ts / ${MINUTE}) * ${MINUTE} AS m, count(*) AS n,
             ${SAMPLE_COLUMNS.map((c) => `min(${c}) AS ${c}_min, avg(${c}) AS ${c}_avg, max(${c}) AS ${c}_max`).join(', ')},
             max(risk_level) AS risk_level_max, min(exo_reachable) AS exo_reachable_min,
             avg(exo_in_flight) AS exo_in_flight_avg, max(exo_in_flight) AS exo_in_flight_max,
             max(gpu_recovery_count) AS gpu_recovery_count_max, max(ts) AS last_ts
           FROM samples WHERE ts >= ? AND ts < ? GROUP BY m)`,
    )
    .run(from, to).changes;
  db.prepare(
    `${verb} INTO process_samples_minute
       (ts, pid, start_time, role, n, rss_max, phys_footprint_avg, phys_footprint_max, cpu_percent_avg)
     SELECT (ts / ${MINUTE}) * ${MINUTE} AS m, pid, max(start_time), max(role), count(*), max(rss),
            avg(phys_footprint), max(phys_footprint), avg(cpu_percent)
     FROM process_samples WHERE ts >= ? AND ts < ? GROUP BY m, pid`,
  ).run(from, to);
  return rolled;
}

const metaNumber = (db: Db, key: string): number | null => {
  const v = (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)
    ?.value;
  const n = v === undefined ? Number.NaN : Number(v);
  return Number.isFinite(n) ? n : null;
};

const setMeta = (db: Db, key: string, value: number): void => {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, String(value));
};

/**
 * Rolls the minutes completed since the last roll-up (`rolled_up_to` in `meta`) up to `now`'s minute, and
 * moves the pointer there; returns the minutes written. The daemon calls it as each minute ends and with
 * each retention pass.
 */
export function rollUpCompleteMinutes(db: Db, now: number): number {
  const currentMinute = Math.floor(now / MINUTE) * MINUTE;
  let from = metaNumber(db, 'rolled_up_to') ?? 0;
  if (from > currentMinute) {
    // Rolled up to a time the clock has since been set back from: the minutes after the last one rolled up
    // before now are rolled up (left at the future time, they never were: a hole in the per-minute history).
    const last = (
      db.prepare('SELECT max(ts) AS ts FROM samples_minute WHERE ts < ?').get(currentMinute) as {
        ts: number | null;
      }
    ).ts;
    from = last === null ? 0 : last + MINUTE;
  }
  const rolled = from < currentMinute ? rollUpMinutes(db, from, currentMinute, 'replace') : 0;
  setMeta(db, 'rolled_up_to', currentMinute);
  return rolled;
}

/**
 * Rolls every complete minute of raw samples into `samples_minute` (idempotent: a minute is rebuilt from
 * whatever raw rows it has), then deletes raw rows past the raw window, roll-ups and the pid map past the
 * minute window, events and audit rows past their kind's window. Minutes are rolled up as they complete,
 * so long-range queries read the small table even for recent data.
 *
 * The wall clock can be set forward by days for a moment (a bad time server answer, a reset RTC, a person)
 * and back again: a pass in that moment deleted every raw sample stored. With `maxAdvanceMs`, the time the
 * windows are cut from moves at most that far past the last pass's (kept in `meta` as `retention_cut_at`),
 * never past `now`: a clock set right again leaves the cut where it was, and a real step forward (or a
 * machine that slept) is caught up over the next passes. A clock set back cuts from the earlier time, without
 * moving the stored cut back.
 */
export function applyRetention(
  db: Db,
  now: number,
  policy: RetentionPolicy = DEFAULT_RETENTION,
  maxAdvanceMs?: number,
): RetentionResult {
  const lastCut = metaNumber(db, 'retention_cut_at') ?? metaNumber(db, 'rolled_up_to');
  const cutAt =
    maxAdvanceMs === undefined || lastCut === null || now <= lastCut
      ? now
      : Math.min(now, lastCut + Math.max(0, maxAdvanceMs));
  return db.transaction((): RetentionResult => {
    const rolled = rollUpCompleteMinutes(db, now);
    // Never stored backwards: a clock set back (an RTC reset to 2001 at boot) cuts from its time for that pass
    // only, and a clock set right again is not then held to 2 h a pass from 2001 (26 years of nothing deleted).
    setMeta(db, 'retention_cut_at', Math.max(cutAt, lastCut ?? cutAt));
    const rawCut = cutAt - policy.rawMs;
    const longCut = cutAt - policy.minuteMs;
    const rawDeleted = db.prepare('DELETE FROM samples WHERE ts < ?').run(rawCut).changes;
    db.prepare('DELETE FROM process_samples WHERE ts < ?').run(rawCut);
    const minuteDeleted = db.prepare('DELETE FROM samples_minute WHERE ts < ?').run(longCut).changes;
    db.prepare('DELETE FROM process_samples_minute WHERE ts < ?').run(longCut);
    db.prepare('DELETE FROM processes WHERE last_seen < ?').run(longCut);
    const eventsDeleted = pruneByKind(
      db,
      'events',
      'kind',
      policy.events ?? EVENT_RULES,
      cutAt,
      policy.minuteMs,
    );
    const auditDeleted = pruneByKind(
      db,
      'actions',
      'action',
      policy.audit ?? AUDIT_RULES,
      cutAt,
      policy.minuteMs,
    );
    return { minutesRolledUp: rolled, rawDeleted, minuteDeleted, eventsDeleted, auditDeleted, cutAt };
  })();
}
