import type { EventSeverity, TimelineEvent } from '../../../shared/events.js';
import { num } from '../../../shared/narrow.js';
import {
  type CeilingSource,
  isCeilingSource,
  type ProcessReading,
  type ProcessRole,
  type Sample,
} from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';
import type { Db } from './database.js';
import { boundedArgv, boundedData, boundedMessage, cutText } from './event-bounds.js';
import { SAMPLE_COLUMNS, type SampleColumn } from './migrations.js';
import {
  insertSql,
  PROCESS_ROW,
  type Row,
  rowToProcessReading,
  rowToSample,
  rowValues,
  SAMPLE_ROW,
} from './sample-row.js';

export interface StoredProcess {
  pid: number;
  startTime: number | null;
  role: ProcessRole;
  ppid: number | null;
  argv: string[];
  executable: string | null;
  firstSeen: number;
  lastSeen: number;
  exitedAt: number | null;
}

export interface MinuteRow {
  time: number;
  count: number;
  values: Partial<Record<SampleColumn, { min: number | null; avg: number | null; max: number | null }>>;
  /** The highest risk level of the minute (null before schema 4 or when no tick had one). */
  riskLevelMax: number | null;
  /** EXO reachable on every tick of the minute (false if any tick was not); null if never asked. */
  exoReachable: boolean | null;
  exoInFlight: { avg: number | null; max: number | null };
  /** The GPU's recovery counter at its highest in the minute (null before schema 5 or when not read). */
  gpuRecoveryCountMax: number | null;
  /** Where the Metal ceiling came from at the minute's last tick (null before schema 7 or when unknown). */
  ceilingSource: CeilingSource | null;
}

/** One page of samples or minutes, oldest first; `next` is the `from` of the following page (null: no more). */
export interface RangePage<T> {
  rows: T[];
  next: number | null;
}

/** One page of events, newest first; `next` is the `before` id of the following page (null: no more). */
export interface EventPage {
  events: TimelineEvent[];
  next: number | null;
}

export interface EventQuery {
  from: number;
  to: number;
  /** A kind prefix, e.g. `guard.request` or `panic.`. */
  kind?: string | undefined;
  /** Only events with an id below this (the cursor from the previous page). */
  before?: number | undefined;
  /** Only events with an id above this (a window's lower end, for a scan in bounded steps). */
  after?: number | undefined;
  limit: number;
}

const rowToEvent = (r: Row): TimelineEvent => ({
  id: r['id'] as number,
  time: r['ts'] as number,
  kind: r['kind'] as string,
  severity: r['severity'] as EventSeverity,
  message: r['message'] as string,
  ...(r['data'] ? { data: JSON.parse(r['data'] as string) as Record<string, unknown> } : {}),
});

/** The smallest string above every string starting with `prefix` (an index range instead of LIKE). */
const prefixEnd = (prefix: string): string => `${prefix}\uffff`;

/** How many milliseconds past its own a tick may be stored at when the clock was set back onto stored ones. */
const SAME_MS_TRIES = 16;

/**
 * The timeline: samples, process snapshots, the pid map and events. One writer (the daemon); readers
 * (CLI, API) open their own connections. Each tick is one transaction.
 */
export class TimelineStore {
  private readonly insertSample;
  private readonly insertProcessSample;
  private readonly insertEvent;
  private readonly upsertProcess;
  private readonly markExited;
  private readonly selectMeta;
  private readonly upsertMeta;

  constructor(readonly db: Db) {
    this.insertSample = db.prepare(insertSql('samples', SAMPLE_ROW, 'ts'));
    this.insertProcessSample = db.prepare(insertSql('process_samples', PROCESS_ROW, 'ts, pid'));
    this.insertEvent = db.prepare(
      'INSERT INTO events (ts, kind, severity, message, data) VALUES (?, ?, ?, ?, ?)',
    );
    this.upsertProcess = db.prepare(
      `INSERT INTO processes (pid, start_time, role, ppid, argv, executable, first_seen, last_seen)
       VALUES (@pid, @startTime, @role, @ppid, @argv, @executable, @now, @now)
       ON CONFLICT (pid, start_time) DO UPDATE SET role = excluded.role, ppid = excluded.ppid,
         last_seen = excluded.last_seen, exited_at = NULL`,
    );
    this.markExited = db.prepare(
      'UPDATE processes SET exited_at = ?, last_seen = ? WHERE pid = ? AND start_time IS ? AND exited_at IS NULL',
    );
    // Meta is read on every tick (the post-panic hold, a pinned guard mode): prepared once.
    this.selectMeta = db.prepare('SELECT value FROM meta WHERE key = ?');
    this.upsertMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  /** Writes one tick: the sample, its process readings and any events, atomically. */
  writeTick(sample: Sample, events: TimelineEvent[] = []): void {
    this.db.transaction(() => {
      // A tick on the millisecond of a stored one (the clock set back: ticks fire a few ms after each second)
      // leaves that one whole, processes and all, and is stored at the next free millisecond.
      let ts: number | null = null;
      for (let k = 0; k < SAME_MS_TRIES && ts === null; k++) {
        const row = k === 0 ? sample : { ...sample, time: sample.time + k };
        if (this.insertSample.run(rowValues(SAMPLE_ROW, row)).changes > 0) ts = row.time;
      }
      if (ts !== null)
        for (const p of sample.processes) this.insertProcessSample.run(rowValues(PROCESS_ROW, { ...p, ts }));
      for (const e of events) this.writeEventRow(e);
    })();
  }

  private writeEventRow(e: TimelineEvent): number {
    const info = this.insertEvent.run(
      e.time,
      e.kind,
      e.severity,
      boundedMessage(e.message),
      boundedData(e.data),
    );
    return Number(info.lastInsertRowid);
  }

  writeEvent(e: TimelineEvent): number {
    return this.writeEventRow(e);
  }

  /** Records a watched process as seen now (pid → role, argv, start time, executable): the map a panic report needs. */
  recordProcess(entry: ProcessEntry, role: ProcessRole, now: number): void {
    this.upsertProcess.run({
      pid: entry.pid,
      startTime: entry.startTime,
      role,
      ppid: entry.ppid,
      argv: JSON.stringify(boundedArgv(entry.argv)),
      executable: entry.executable === null ? null : cutText(entry.executable, 1024),
      now,
    });
  }

  recordExit(pid: number, startTime: number | null, now: number): void {
    this.markExited.run(now, now, pid, startTime);
  }

  latestSample(): Sample | null {
    const r = this.db.prepare('SELECT * FROM samples ORDER BY ts DESC LIMIT 1').get() as Row | undefined;
    if (!r) return null;
    return rowToSample(r, this.processReadingsAt(r['ts'] as number));
  }

  /** The time of the last sample at or before `atOrBefore` (not before `notBefore`): one primary-key probe. */
  lastSampleTime(atOrBefore: number, notBefore = 0): number | null {
    const r = this.db
      .prepare('SELECT ts FROM samples WHERE ts <= ? AND ts >= ? ORDER BY ts DESC LIMIT 1')
      .get(atOrBefore, notBefore) as { ts: number } | undefined;
    return r?.ts ?? null;
  }

  processReadingsAt(ts: number): ProcessReading[] {
    const rows = this.db.prepare('SELECT * FROM process_samples WHERE ts = ? ORDER BY pid').all(ts) as Row[];
    return rows.map(rowToProcessReading);
  }

  samples(from: number, to: number, withProcesses = false): Sample[] {
    const rows = this.db
      .prepare('SELECT * FROM samples WHERE ts >= ? AND ts <= ? ORDER BY ts')
      .all(from, to) as Row[];
    if (!withProcesses) return rows.map((r) => rowToSample(r));
    const procs = this.db
      .prepare('SELECT * FROM process_samples WHERE ts >= ? AND ts <= ? ORDER BY ts, pid')
      .all(from, to) as Row[];
    const byTs = new Map<number, ProcessReading[]>();
    for (const p of procs) {
      const list = byTs.get(p['ts'] as number) ?? [];
      list.push(rowToProcessReading(p));
      byTs.set(p['ts'] as number, list);
    }
    return rows.map((r) => rowToSample(r, byTs.get(r['ts'] as number) ?? []));
  }

  /**
   * At most `limit` samples from `from` (oldest first), with their process readings: a bounded read for the
   * API, whatever the range. Two indexed range reads; nothing beyond the page is loaded.
   */
  samplePage(from: number, to: number, limit: number, withProcesses = true): RangePage<Sample> {
    const rows = this.db
      .prepare('SELECT * FROM samples WHERE ts >= ? AND ts <= ? ORDER BY ts LIMIT ?')
      .all(from, to, limit + 1) as Row[];
    const next = rows.length > limit ? (rows.pop()!['ts'] as number) : null;
    if (!withProcesses || rows.length === 0) return { rows: rows.map((r) => rowToSample(r)), next };
    const first = rows[0]!['ts'] as number;
    const last = rows[rows.length - 1]!['ts'] as number;
    const byTs = new Map<number, ProcessReading[]>();
    for (const p of this.db
      .prepare('SELECT * FROM process_samples WHERE ts >= ? AND ts <= ? ORDER BY ts, pid')
      .iterate(first, last) as IterableIterator<Row>) {
      const ts = p['ts'] as number;
      const list = byTs.get(ts);
      if (list) list.push(rowToProcessReading(p));
      else byTs.set(ts, [rowToProcessReading(p)]);
    }
    return { rows: rows.map((r) => rowToSample(r, byTs.get(r['ts'] as number) ?? [])), next };
  }

  minuteSamples(from: number, to: number): MinuteRow[] {
    const rows = this.db
      .prepare('SELECT * FROM samples_minute WHERE ts >= ? AND ts <= ? ORDER BY ts')
      .all(from, to) as Row[];
    return rows.map(rowToMinute);
  }

  /** At most `limit` per-minute rows from `from`, oldest first. */
  minutePage(from: number, to: number, limit: number): RangePage<MinuteRow> {
    const rows = this.db
      .prepare('SELECT * FROM samples_minute WHERE ts >= ? AND ts <= ? ORDER BY ts LIMIT ?')
      .all(from, to, limit + 1) as Row[];
    const next = rows.length > limit ? (rows.pop()!['ts'] as number) : null;
    return { rows: rows.map(rowToMinute), next };
  }

  sampleCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
  }

  events(from: number, to: number, kind?: string, limit = 10_000): TimelineEvent[] {
    const rows = (
      kind
        ? this.db
            .prepare('SELECT * FROM events WHERE ts >= ? AND ts <= ? AND kind LIKE ? ORDER BY id LIMIT ?')
            .all(from, to, `${kind}%`, limit)
        : this.db
            .prepare('SELECT * FROM events WHERE ts >= ? AND ts <= ? ORDER BY id LIMIT ?')
            .all(from, to, limit)
    ) as Row[];
    return rows.map(rowToEvent);
  }

  /**
   * Events newest first (by id, the order they were recorded), at most `limit`, older than the `before`
   * cursor. Walks the table backwards from the cursor and stops at the page's end.
   */
  eventPage(q: EventQuery): EventPage {
    const where = ['+ts >= ?', '+ts <= ?'];
    const args: Array<number | string> = [q.from, q.to];
    if (q.before !== undefined) {
      where.push('id < ?');
      args.push(q.before);
    }
    if (q.after !== undefined) {
      where.push('id > ?');
      args.push(q.after);
    }
    if (q.kind) {
      where.push('+kind >= ?', '+kind < ?');
      args.push(q.kind, prefixEnd(q.kind));
    }
    const rows = this.db
      .prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`)
      .all(...args, q.limit + 1) as Row[];
    const more = rows.length > q.limit;
    if (more) rows.pop();
    return {
      events: rows.map(rowToEvent),
      next: more ? (rows[rows.length - 1]!['id'] as number) : null,
    };
  }

  /** The lowest and highest event ids (null: no events): the ends of a backwards scan. */
  eventIdRange(): { min: number; max: number } | null {
    const r = this.db
      // One aggregate per SELECT, so each is a single b-tree step, not a scan.
      .prepare('SELECT (SELECT min(id) FROM events) AS lo, (SELECT max(id) FROM events) AS hi')
      .get() as {
      lo: number | null;
      hi: number | null;
    };
    return r.lo === null || r.hi === null ? null : { min: r.lo, max: r.hi };
  }

  /** The pid map: which process held a pid at a time (a panic names only `pid N: exo`). */
  processesByPid(pid: number): StoredProcess[] {
    const rows = this.db
      .prepare('SELECT * FROM processes WHERE pid = ? ORDER BY last_seen DESC')
      .all(pid) as Row[];
    return rows.map(toStoredProcess);
  }

  /** Processes alive (not marked exited) as of the last write. */
  liveProcesses(): StoredProcess[] {
    const rows = this.db
      .prepare('SELECT * FROM processes WHERE exited_at IS NULL ORDER BY pid')
      .all() as Row[];
    return rows.map(toStoredProcess);
  }

  allProcesses(): StoredProcess[] {
    return (this.db.prepare('SELECT * FROM processes ORDER BY first_seen, pid').all() as Row[]).map(
      toStoredProcess,
    );
  }

  getMeta(key: string): string | null {
    const r = this.selectMeta.get(key) as { value: string } | undefined;
    return r?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.upsertMeta.run(key, value);
  }
}

function rowToMinute(r: Row): MinuteRow {
  const values: MinuteRow['values'] = {};
  for (const c of SAMPLE_COLUMNS) {
    values[c] = { min: num(r[`${c}_min`]), avg: num(r[`${c}_avg`]), max: num(r[`${c}_max`]) };
  }
  const reachable = num(r['exo_reachable_min']);
  return {
    time: r['ts'] as number,
    count: r['n'] as number,
    values,
    riskLevelMax: num(r['risk_level_max']),
    exoReachable: reachable === null ? null : reachable === 1,
    exoInFlight: { avg: num(r['exo_in_flight_avg']), max: num(r['exo_in_flight_max']) },
    gpuRecoveryCountMax: num(r['gpu_recovery_count_max']),
    ceilingSource: isCeilingSource(r['gpu_ceiling_source']) ? r['gpu_ceiling_source'] : null,
  };
}

function toStoredProcess(r: Row): StoredProcess {
  return {
    pid: r['pid'] as number,
    startTime: num(r['start_time']),
    role: r['role'] as ProcessRole,
    ppid: num(r['ppid']),
    argv: JSON.parse(r['argv'] as string) as string[],
    executable: (r['executable'] as string | null) ?? null,
    firstSeen: r['first_seen'] as number,
    lastSeen: r['last_seen'] as number,
    exitedAt: num(r['exited_at']),
  };
}
