import { accessSync, constants, existsSync, mkdirSync, readlinkSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TimelineEvent } from '../../../shared/events.js';
import type { EventCollector } from '../event-collector.js';
import type { Logger } from '../logger.js';
import type { TickResult } from '../sampler.js';
import { type DatabaseConstructor, type Db, openDatabase } from '../store/database.js';
import {
  closeSalvage,
  endSalvage,
  openTimelineDatabase,
  type PendingSalvage,
  pendingSalvage,
  type Recovered,
  salvageMessage,
} from '../store/database-recovery.js';
import { isDiskError } from '../store/database-salvage.js';
import { boundedArgv } from '../store/event-bounds.js';
import { applyRetention, rollUpCompleteMinutes, rollUpMinutes } from '../store/retention.js';
import { type PendingTick, TickWriter } from '../store/tick-writer.js';
import { TimelineStore } from '../store/timeline-store.js';

/** How long the daemon holds ticks in memory while the timeline cannot be written. */
const BUFFER_SECONDS = 600;
/** How often a copy out of a damaged timeline paused for the disk is tried again. */
const SALVAGE_RETRY_MS = 600_000;

/** How often a daemon whose database could not be opened tries it again (one open attempt: cheap). */
const REATTACH_MS = 10_000;
/** How far retention's cut may lag the clock before an event says so (a pass catches up 2 h). */
const RETENTION_LAG_MS = 2 * 3_600_000;
/** How often the database's path is checked to still name the open file (one stat). */
const PRESENCE_MS = 10_000;

/** The identity of a file: device and inode (null when the path names nothing). */
function identity(path: string): { dev: number; ino: number } | null {
  try {
    const s = statSync(path);
    return { dev: s.dev, ino: s.ino };
  } catch {
    return null;
  }
}

/** A write-ahead log shorter than its header holds no frame: nothing in it can be replayed. */
const WAL_HEADER_BYTES = 32;

/** A file's size (0 when the path names nothing). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The write-ahead log and its shared-memory index beside a database, with their identities now. */
const logIdentities = (path: string): Array<{ path: string; id: { dev: number; ino: number } | null }> =>
  [`${path}-wal`, `${path}-shm`].map((p) => ({ path: p, id: identity(p) }));

/**
 * The timeline database, or — when it cannot be opened for writing (read-only or full disk, permissions) — an
 * in-memory one so that sampling, the guard and the API keep running; `detached` is then why.
 */
function openTimeline(
  path: string,
  Driver: DatabaseConstructor | undefined,
): { db: Db; recovered: Recovered | null; detached: unknown } {
  try {
    // A read-only directory is found before SQLite opens anything: a connection it opened read-only would be
    // reused (SQLite shares files per process) by the one that later tries to write there.
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true });
      accessSync(dirname(path), constants.W_OK);
      if (existsSync(path)) accessSync(path, constants.W_OK);
    }
    const opened = openTimelineDatabase(path, Driver ? { Driver } : {});
    try {
      // SQLite falls back to a read-only connection on a read-only disk: take the write lock to find out.
      opened.db.exec('BEGIN IMMEDIATE');
      opened.db.exec('ROLLBACK');
    } catch (e) {
      // Busy is another writer for a moment (a CLI command), not an unwritable disk.
      if (!String((e as { code?: unknown }).code).startsWith('SQLITE_BUSY')) {
        opened.db.close();
        throw e;
      }
    }
    return { ...opened, detached: null };
  } catch (e) {
    // Errors without a code (a schema newer than this build) need a person, not a fallback.
    if (typeof (e as { code?: unknown }).code !== 'string') throw e;
    return { db: openDatabase(':memory:', Driver ? { Driver } : {}), recovered: null, detached: e };
  }
}

export interface TimelineStorageDeps {
  path: string;
  intervalSeconds: number;
  events: EventCollector;
  logger: Logger;
  Driver?: DatabaseConstructor | undefined;
  /**
   * Whether this process holds the data directory's lock. Only the holder may move a damaged database aside
   * or copy rows out of one: a second daemon starting at the same moment (the app and the login agent) opens
   * nothing on disk, and stops at the lock.
   */
  owner?: boolean;
}

/**
 * The daemon's database and how ticks reach it: one transaction per tick, held in memory while the disk
 * cannot take them (full, read-only, gone), written back once it can; a daemon that started without its
 * database opens it when it appears.
 */
export class TimelineStorage {
  readonly db: Db;
  readonly store: TimelineStore;
  readonly writer: TickWriter;
  private readonly recovered: Recovered | null;
  /** The real database, once it opened after a start without it (in-process shells only). */
  private attachedDb: Db | null = null;
  private lastReattach = 0;
  /** A damaged database's rows still being copied into this one (after a corrupt one was moved aside). */
  private salvage: PendingSalvage | null = null;
  /** The minute (epoch minutes) whose start the roll-up last ran at. */
  private rolledMinute: number | null = null;
  /** The last retention pass cut from behind the wall clock (its event is given once per stretch). */
  private retentionBehind = false;
  /** When the copy was paused for a full or failing disk (null: not paused). */
  private salvagePausedAt: number | null = null;
  /** The open database file's identity (null: in memory), and when its path was last checked against it. */
  private opened: { dev: number; ino: number } | null;
  /** The write-ahead log and shared-memory index beside it, as opened (their identities; null: none then). */
  private openedLogs: Array<{ path: string; id: { dev: number; ino: number } | null }> = [];
  private lookedAt = 0;
  /** The database's path no longer names the open file (its directory was removed, or it was replaced). */
  private gone = false;
  /** Only its write-ahead log went, and every row is in the database file: nothing to write back. */
  private logGone = false;

  constructor(private readonly deps: TimelineStorageDeps) {
    const opened =
      deps.owner === false
        ? {
            db: openDatabase(':memory:', deps.Driver ? { Driver: deps.Driver } : {}),
            recovered: null,
            detached: null,
          }
        : openTimeline(deps.path, deps.Driver);
    this.db = opened.db;
    this.recovered = opened.recovered;
    if (!opened.detached) {
      try {
        this.salvage = pendingSalvage(this.db, deps.Driver);
      } catch (e) {
        deps.logger.error(
          { err: e },
          `the rows of a damaged timeline cannot be copied: ${(e as Error).message}`,
        );
      }
    }
    this.opened = opened.detached || deps.owner === false ? null : identity(deps.path);
    this.openedLogs = this.opened ? logIdentities(deps.path) : [];
    this.store = new TimelineStore(this.db);
    this.writer = new TickWriter(
      this.db,
      this.store,
      deps.path,
      Math.max(10, Math.round(BUFFER_SECONDS / deps.intervalSeconds)),
      opened.detached,
    );
  }

  /** Start-up findings become events and log lines: a moved-aside corrupt database, no writable one. */
  recordAtStart(now: number, lockPath: string, pidfileProblem: string | null): void {
    const { events, logger } = this.deps;
    if (this.recovered) {
      logger.error({ recovered: this.recovered }, this.recovered.advice);
      events.push('storage.corrupt', 'error', this.recovered.advice, { ...this.recovered });
    }
    const detached = this.writer.detachedFailure(now);
    if (detached) {
      logger.error(
        `${detached}: sampling, the guard and the API run; ticks are held in memory until it can be written`,
      );
      events.push('storage.failing', 'error', `the timeline cannot be opened for writing: ${detached}`, {
        path: this.writer.health.path,
      });
    }
    if (pidfileProblem) {
      const note = `the pidfile ${lockPath} cannot be written (${pidfileProblem}): a second daemon would not be stopped`;
      this.writer.health.note('pidfile', note);
      logger.warn(note);
      events.push('storage.pidfile', 'warning', note, { path: lockPath, problem: pidfileProblem });
    }
  }

  /**
   * Started without a writable database: every 10 s try it again; once it opens, the buffered ticks go into it
   * and `onBack` is called when given (the headless shell restarts on it). Never throws.
   */
  tryReattach(mono: number, now: number, onBack: (() => void) | null): void {
    if (mono - this.lastReattach < REATTACH_MS) return;
    this.lastReattach = mono;
    let db: Db | null = null;
    try {
      const opened = openTimelineDatabase(
        this.writer.health.path,
        this.deps.Driver ? { Driver: this.deps.Driver } : {},
      );
      db = opened.db;
      if (opened.recovered) {
        this.deps.logger.error({ recovered: opened.recovered }, opened.recovered.advice);
        this.deps.events.push('storage.corrupt', 'error', opened.recovered.advice, { ...opened.recovered });
      }
      // A damaged database moved aside now (or earlier): its ids are kept before the held ticks go in; the
      // copy itself runs after the restart, or here a slice per tick.
      const owed = pendingSalvage(db, this.deps.Driver);
      const store = new TimelineStore(db);
      const n = this.writer.flushInto(db, store);
      this.deps.logger.warn(
        `${this.writer.health.path} is writable again: ${n} buffered tick(s) written to it`,
      );
      if (onBack) {
        if (owed) closeSalvage(owed);
        db.close();
        db = null;
        onBack();
        return;
      }
      // In-process (no restart): ticks go straight to it from now on.
      this.writer.attach(db, store, now);
      this.attachedDb = db;
      this.opened = identity(this.writer.health.path);
      this.openedLogs = logIdentities(this.writer.health.path);
      if (owed) this.salvage = owed;
      db = null;
    } catch (e) {
      this.deps.logger.debug({ err: e }, 'the timeline database is still not writable');
    } finally {
      db?.close();
    }
  }

  /**
   * Writes the tick (after any buffered ones). A failed write keeps it in memory; the first failure and the
   * recovery are events of their own (written with the tick after recovery) and log lines.
   */
  writeTick(result: TickResult, events: TimelineEvent[], now: number, persist: () => void): boolean {
    const tick: PendingTick = {
      time: now,
      sample: result.sample,
      events,
      // Command lines as stored (the tick may wait in memory while the disk is full); copied only when cut.
      watched: result.watched.map((w) => {
        const argv = boundedArgv(w.entry.argv);
        return argv === w.entry.argv ? w : { role: w.role, entry: { ...w.entry, argv } };
      }),
      exits: result.changes
        .filter((c) => c.kind === 'exited')
        .map((c) => ({ pid: c.entry.pid, startTime: c.entry.startTime })),
    };
    const out = this.writer.write(tick, now, persist);
    if (out.stored) {
      if (out.recoveredAfterMs !== null) {
        const message = `the timeline is writable again after ${Math.round(out.recoveredAfterMs / 1000)} s; ${out.flushed} buffered tick(s) written${this.writer.buffer.dropped ? `, ${this.writer.buffer.dropped} dropped while the buffer was full` : ''}`;
        this.deps.logger.warn(message);
        this.deps.events.push('storage.recovered', 'info', message, {
          flushed: out.flushed,
          dropped: this.writer.buffer.dropped,
          failedMs: out.recoveredAfterMs,
        });
      }
      return true;
    }
    if (out.newFailure) {
      this.deps.logger.error(
        `${out.newFailure}: ticks are held in memory (up to ${this.writer.buffer.capacity}) until it can be written`,
      );
      this.deps.events.push('storage.failing', 'error', `the timeline cannot be written: ${out.newFailure}`, {
        path: this.writer.health.path,
      });
    }
    return false;
  }

  /**
   * Copies rows out of a damaged timeline for about `budgetMs` (a slice per tick, so sampling, the guard and
   * the API carry on); at the end a storage.salvaged event says what was saved and where rows were lost.
   * Never throws: a copy that fails is ended and said so, the damaged file stays for sqlite3 .recover.
   */
  salvageStep(budgetMs: number, now: number): void {
    if (!this.salvage && this.salvagePausedAt !== null && now - this.salvagePausedAt >= SALVAGE_RETRY_MS) {
      // Paused for the disk: tried again (from where it was) every SALVAGE_RETRY_MS.
      this.salvagePausedAt = null;
      try {
        this.salvage = pendingSalvage(this.attachedDb ?? this.db, this.deps.Driver);
      } catch (e) {
        this.deps.logger.error({ err: e }, `the copy out of a damaged timeline: ${(e as Error).message}`);
      }
    }
    const pending = this.salvage;
    if (!pending) return;
    let failure: { message: string; disk: boolean } | null =
      pending.error !== null && pending.retry ? { message: pending.error, disk: true } : null;
    try {
      if (!failure && pending.job && !pending.job.step(budgetMs)) return;
      // The retention rolled minutes up before these raw rows were back: the minutes without a roll-up get one
      // (those rolled up before the damage, from all their rows, are kept).
      if (!failure && pending.job?.salvage.copied)
        rollUpMinutes(pending.into, 0, Math.floor(now / 60_000) * 60_000, 'fill');
    } catch (e) {
      failure = { message: (e as Error).message, disk: isDiskError(e) };
    }
    this.salvage = null;
    const data = {
      path: pending.path,
      copied: pending.job?.salvage.copied ?? 0,
      tables: pending.job?.salvage.tables ?? [],
      error: failure?.message ?? pending.error ?? pending.job?.salvage.error ?? null,
    };
    if (failure?.disk) {
      // A full or failing disk is no reason to give the copy up: it stays owed (with where it was) and is
      // tried again; the ticks come first.
      try {
        closeSalvage(pending);
      } catch (e) {
        this.deps.logger.error(
          { err: e },
          `pausing the copy out of ${pending.path}: ${(e as Error).message}`,
        );
      }
      this.salvagePausedAt = now;
      const message = `copying rows out of the damaged timeline ${pending.path} is paused: ${failure.message}; ${data.copied} row(s) copied so far stay, and it is tried again every ${SALVAGE_RETRY_MS / 60_000} minutes and at the next start`;
      this.deps.logger.warn(data, message);
      this.deps.events.push('storage.salvage-paused', 'warning', message, data);
      return;
    }
    const message =
      failure !== null
        ? `the rows of the damaged timeline ${pending.path} could not all be copied (${failure.message}); the ${data.copied} row(s) copied stay, the rest is only in that file (sqlite3 .recover)`
        : salvageMessage(pending);
    const lost =
      failure !== null ||
      (pending.job?.salvage.tables.some((t) => t.lostRanges > 0 || t.refused > 0) ?? true);
    try {
      endSalvage(pending);
    } catch (e) {
      this.deps.logger.error({ err: e }, `ending the copy out of ${pending.path}: ${(e as Error).message}`);
    }
    if (lost) this.deps.logger.warn(data, message);
    else this.deps.logger.info(data, message);
    this.deps.events.push('storage.salvaged', lost ? 'warning' : 'info', message, data);
  }

  /**
   * Rolls up the minute that has just ended (and any before it not yet rolled up), once per minute, when
   * every tick of it is in the database (none held in memory by a failing disk); never throws. Views longer
   * than the raw window read the roll-ups, which lagged up to the 10-minute retention pass before.
   */
  rollUp(now: number): void {
    const minute = Math.floor(now / 60_000);
    if (minute === this.rolledMinute || this.writer.isDetached || this.writer.buffer.size > 0) return;
    try {
      const db = this.live;
      db.transaction(() => rollUpCompleteMinutes(db, now))();
      this.rolledMinute = minute;
    } catch (e) {
      this.deps.events.failed('roll-up', (e as Error).message);
    }
  }

  /**
   * Drops rows older than the retention (raw samples, per-minute rows, events), cut from `now` or, while a
   * step of the wall clock is caught up, from at most `maxAdvanceMs` past the last pass; never throws.
   */
  retain(now: number, days: { rawDays: number; minuteDays: number }, maxAdvanceMs?: number): void {
    // Not while ticks wait in memory: the roll-up in the pass would skip their minutes for good (it moves the
    // pointer past them); the next pass, 10 minutes on, runs once they are written.
    if (this.writer.isDetached || this.writer.buffer.size > 0) return;
    try {
      const res = applyRetention(
        this.live,
        now,
        { rawMs: days.rawDays * 86_400_000, minuteMs: days.minuteDays * 86_400_000 },
        maxAdvanceMs,
      );
      const behind = now - res.cutAt;
      // Said once per stretch, and only past what one pass catches up (every start lags by the time down).
      if (behind > RETENTION_LAG_MS && !this.retentionBehind)
        this.deps.events.push(
          'storage.retention-behind',
          'info',
          `retention cuts from ${new Date(res.cutAt).toISOString()}, ${Math.round(behind / 60_000)} min behind the wall clock, which moved faster than time passed (set forward, or the machine slept): it catches up by at most 2 h per 10 minutes, so a clock set forward for a moment deletes nothing it should not (a machine that slept also lags until caught up)`,
          { cutAt: res.cutAt, behindMs: behind },
        );
      this.retentionBehind = behind > RETENTION_LAG_MS;
      if (res.rawDeleted + res.minuteDeleted + res.eventsDeleted > 0)
        this.deps.logger.debug(res, 'retention applied');
    } catch (e) {
      this.deps.events.failed('retention', (e as Error).message);
    }
  }

  /** The pidfile that could not be written at start was written at last: status stops saying so. */
  pidfileWritten(): void {
    this.writer.health.note('pidfile', null);
  }

  /**
   * Whether the database's path still names the open file, checked every PRESENCE_MS: a data directory
   * removed while the daemon runs (a cleanup script, `rm -rf`) left it writing into an unlinked file for ever,
   * its status fine, every later tick lost at the stop, and its lock gone (a second daemon started beside it).
   * True once, when it is found gone: the event is given, and the stop writes the timeline back to the path
   * (`closeAfter`); the headless shell stops for a restart on it.
   */
  removedNow(mono: number): boolean {
    if (this.gone || this.opened === null || mono - this.lookedAt < PRESENCE_MS) return false;
    this.lookedAt = mono;
    const named = this.stillNamed();
    if (named === true) return this.logRemovedNow();
    this.gone = true;
    const message = `${this.deps.path} ${named === 'replaced' ? 'was replaced by another file' : 'was removed (or its directory)'} while the daemon wrote to it: the timeline it holds is written back there when the daemon stops, which it does now for a restart on it`;
    this.writer.health.note('removed', message);
    this.deps.logger.error(message);
    this.deps.events.push('storage.removed', 'error', message, {
      path: this.deps.path,
      replaced: named === 'replaced',
    });
    return true;
  }

  /**
   * The write-ahead log (or its index) removed or replaced while the database's own path still names it: the
   * daemon went on committing into the unlinked log, its status fine, and a kill, a power cut or a panic then
   * lost every row not yet checkpointed into the database file (in the first minutes of a run, all of them,
   * the schema too). Every row is checkpointed into the database file at once, and the daemon stops for a
   * restart that opens a new log. True once, when found.
   */
  private logRemovedNow(): boolean {
    const changed = this.openedLogs.filter(({ path, id }) => {
      if (id === null) return false;
      const now = identity(path);
      return now === null || now.dev !== id.dev || now.ino !== id.ino;
    });
    const log = changed[0];
    if (!log) return false;
    this.gone = true;
    const saved = this.checkpointAll();
    this.logGone = saved.ok;
    // Another log at the log's name (a copy put back, say) would be replayed over the checkpointed database
    // at the restart: it is moved aside, named, not deleted. An empty one is SQLite's own, made by a reader
    // that opened the database since (`exo-sentinel status`), and the index (`-shm`) is only ever rebuilt from
    // the log: neither is another file.
    const asides: string[] = [];
    for (const { path } of changed) {
      if (!path.endsWith('-wal') || sizeOf(path) < WAL_HEADER_BYTES) continue;
      const aside = `${path}.replaced-${Date.now()}`;
      try {
        renameSync(path, aside);
        asides.push(aside);
      } catch (e) {
        asides.push(`${path} (could not be moved aside: ${(e as Error).message})`);
      }
    }
    const replaced = asides.length > 0;
    const message = `${log.path} was ${replaced ? 'replaced by another file' : 'removed'} while the daemon wrote to it: ${saved.text}${replaced ? `; the other file is kept as ${asides.join(', ')}` : ''}, and the daemon stops now for a restart with a new log`;
    this.writer.health.note('removed', message);
    this.deps.logger.error(message);
    this.deps.events.push('storage.removed', 'error', message, { path: log.path, replaced });
    return true;
  }

  /**
   * Every committed row copied from the log into the database file. A reader holding a snapshot (the CLI, the
   * API) makes SQLite copy only part (`busy`): then it is not claimed, and the stop writes a whole copy back
   * beside the database from the live connection, which still reads its unlinked log.
   */
  private checkpointAll(): { ok: boolean; text: string } {
    try {
      const [r] = this.live.pragma('wal_checkpoint(TRUNCATE)') as Array<{
        busy: number;
        log: number;
        checkpointed: number;
      }>;
      if (r && r.busy === 0 && r.checkpointed === r.log)
        return { ok: true, text: `every row was checkpointed into ${this.deps.path} at once` };
      return {
        ok: false,
        text: `a reader kept part of the log from ${this.deps.path} (${r?.checkpointed ?? '?'} of ${r?.log ?? '?'} pages copied); a whole copy is written beside it when the daemon stops`,
      };
    } catch (e) {
      return {
        ok: false,
        text: `checkpointing the rows into ${this.deps.path} failed (${(e as Error).message}); a whole copy is written beside it when the daemon stops`,
      };
    }
  }

  /** Whether the database's path still names the open file: true, or how it does not. */
  private stillNamed(): true | 'removed' | 'replaced' {
    if (this.opened === null) return true;
    const now = identity(this.deps.path);
    if (!now) return 'removed';
    return now.dev === this.opened.dev && now.ino === this.opened.ino ? true : 'replaced';
  }

  /**
   * A database whose path was removed is written back there from the open connection (its directory made
   * again, 0700; the target of a data directory that is a link to a removed one too), or beside it when
   * another file took the name. Where that cannot be written (a full disk), into the temporary directory,
   * said on stderr as well as in the log (whose directory may be gone): nothing it held is lost.
   */
  private writeBack(): void {
    const path = this.deps.path;
    const dir = dirname(path);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch {
      try {
        mkdirSync(resolve(dirname(dir), readlinkSync(dir)), { recursive: true, mode: 0o700 });
      } catch {
        // Not a link, or its target cannot be made: the copy below fails and goes to the fallback.
      }
    }
    const to = existsSync(path) ? path.replace(/\.db$/, `.restored-${Date.now()}.db`) : path;
    try {
      this.live.prepare('VACUUM INTO ?').run(to);
      this.deps.logger.warn(`the timeline was written back to ${to}`);
    } catch (e) {
      const fallback = join(tmpdir(), `exo-sentinel-timeline-${process.pid}-${Date.now()}.db`);
      this.live.prepare('VACUUM INTO ?').run(fallback);
      const message = `the timeline could not be written back to ${to} (${(e as Error).message}): it is in ${fallback}; move it to ${path} with the daemon stopped`;
      this.deps.logger.error(message);
      process.stderr.write(`exo-sentinel: ${message}\n`);
    }
  }

  /**
   * The database ticks go to: the one opened at start, or the real one attached after a start without it
   * (in-process shells), which the roll-up, retention and the stop record must reach too.
   */
  private get live(): Db {
    return this.attachedDb ?? this.db;
  }

  /** The last write of a stop: buffered ticks, the stop record, pending events; then the database closes. */
  closeAfter(record: TimelineEvent): void {
    try {
      // Ticks still held in memory go first; a disk still full keeps them (and the stop record) out.
      if (!this.writer.isDetached) this.writer.flush();
      const store = this.attachedDb ? new TimelineStore(this.attachedDb) : this.store;
      store.writeEvent(record);
      for (const e of this.deps.events.drain()) store.writeEvent(e);
      this.live.pragma('wal_checkpoint(TRUNCATE)');
      // Removed less than a look (10 s) before the stop: written back all the same.
      if (!this.gone && this.stillNamed() !== true) this.gone = true;
      if (this.gone && !(this.logGone && this.stillNamed() === true)) this.writeBack();
    } catch (e) {
      const lost = this.writer.buffer.size;
      this.deps.logger.error(
        { err: e },
        `stopping: the timeline could not be written (${(e as Error).message}); ${lost} buffered tick(s) lost`,
      );
    } finally {
      if (this.salvage) closeSalvage(this.salvage);
      this.db.close();
      this.attachedDb?.close();
    }
  }
}
