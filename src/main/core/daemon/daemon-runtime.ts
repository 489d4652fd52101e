import { readHold } from '../actions/post-panic-hold.js';
import { sleepNotice, wakeNotice } from '../actions/wake-hold.js';
import type { ApiServer } from '../api/api-server.js';
import type { Config } from '../config/config-schema.js';
import type { EventCollector } from '../event-collector.js';
import type { GuardServer } from '../guard/guard-server.js';
import {
  type AcquireResult,
  acquireLock,
  checkLock,
  type LockInfo,
  readLock,
  releaseLock,
  updateLock,
} from '../instance-lock.js';
import type { Logger } from '../logger.js';
import type { ReportWatcher } from '../panics/report-watcher.js';
import type { PlatformProbe } from '../probes/probe-types.js';
import type { RiskPipeline } from '../risk/risk-pipeline.js';
import type { Sampler, TickResult } from '../sampler.js';
import { type Clock, monotonicNow } from './clock.js';
import type { ConfigApplication } from './config-application.js';
import { recordStart, startListeners } from './daemon-start.js';
import type { GuardDecision } from './guard-decision.js';
import { TickGaps } from './tick-gaps.js';
import { publishTick, type TickPublisherDeps } from './tick-publisher.js';
import { TickScheduler } from './tick-scheduler.js';
import { DeferredWatch, recordProcessEvents, recordWatchLimit } from './timeline-events.js';
import type { TimelineStorage } from './timeline-storage.js';

export type StartResult = { ok: true } | { ok: false; error: string; alreadyRunning?: boolean };

/**
 * The time each tick gives to copying rows out of a damaged timeline: about 40,000 rows, so a 2-day timeline
 * (one million rows) is back in under a minute while the event loop is never held longer than this.
 */
const SALVAGE_SLICE_MS = 100;

/** How often a running daemon looks at its pidfile, ms of the monotonic clock. */
const LOCK_LOOK_MS = 10_000;
/** How often retention runs, ms of the monotonic clock. */
const RETENTION_EVERY_MS = 600_000;
/**
 * How much faster than the monotonic clock retention's cut may move: 2 h per 10-minute pass, none at start. A
 * machine that slept 8 h (the monotonic clock stops) catches up in under 50 minutes awake; a clock set 3 days
 * forward for a moment moves it 2 h at most.
 */
const RETENTION_CATCH_UP = 12;

/** A promise and its resolve, and whether it was resolved. */
function settledOnce(): { promise: Promise<void>; resolve: () => void; settled: boolean } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve, settled: false };
}

/** The built parts the runtime drives (daemon.ts builds and wires them). */
export interface RuntimeParts {
  dataDir: string;
  config: () => Config;
  probe: PlatformProbe;
  events: EventCollector;
  logger: Logger;
  clock: Clock;
  lockPath: string;
  /** The lock as taken when the daemon was built (before its database was opened). */
  lock?: AcquireResult;
  storage: TimelineStorage;
  sampler: Sampler;
  risk: RiskPipeline;
  decision: GuardDecision;
  guard: GuardServer | null;
  api: ApiServer | null;
  reportWatcher: ReportWatcher;
  configs: ConfigApplication;
  publisher: TickPublisherDeps;
  /** The headless shell restarts once a database that was not writable at start can be written again. */
  onStorageBack: () => (() => void) | null;
  /** The database's path no longer names the open file: the headless shell stops for a restart. */
  onStorageGone: () => (() => void) | null;
  /** Another daemon took this data directory's lock (its pidfile was removed): the shell stops this one. */
  onLockLost: () => (() => void) | null;
  contain: (where: string, e: unknown) => void;
}

/**
 * The daemon's life: start (lock, listeners, the start record, a first scan of the report directories that
 * the ticks do not wait for), one tick at a time (sample, judge, tell the guard, write, publish), sleep and
 * wake, and the stop.
 */
export class DaemonRuntime {
  private readonly scheduler: TickScheduler;
  private readonly gaps: TickGaps;
  /** The pidfile record this daemon wrote and keeps (lookLock; null: none, or lost), and when it last looked. */
  private ownLock: LockInfo | null = null;
  private lastLockLook = 0;
  /** The last look could not write the pidfile (said once until it can). */
  private lockUnwritable = false;
  private lockFoundAtStart: LockInfo | null = null;
  /** The monotonic time of the last slow tick. */
  private lastSlow = 0;
  /** The monotonic time of the last retention pass (null: none since start). */
  private lastRetention: number | null = null;
  private tickCount = 0;
  /** More processes matched than are watched at the last tick. */
  private watchLimited = false;
  private readonly deferredWatch = new DeferredWatch();
  private lastResult: TickResult | null = null;
  private stopping: Promise<void> | null = null;
  private readonly firstScanDone = settledOnce();

  constructor(private readonly p: RuntimeParts) {
    const intervalMs = (): number => p.config().intervalSeconds * 1000;
    this.scheduler = new TickScheduler({
      clock: p.clock,
      intervalMs,
      tick: () => this.tickOnce(),
      contain: p.contain,
      probe: p.probe,
      events: p.events,
    });
    this.gaps = new TickGaps({
      events: p.events,
      intervalMs,
      onWake: (now) => p.risk.observe('power.wake', now),
      onInferredSleep: (now, since) =>
        p.decision.startWakeHold(wakeNotice(null, now, p.decision.wakeHoldSeconds, 'clock-gap', since)),
    });
  }

  get ticks(): number {
    return this.tickCount;
  }

  get latest(): TickResult['sample'] | null {
    return this.lastResult?.sample ?? null;
  }

  /** Takes the data directory's lock and records the start (and an unclean previous stop, if any). */
  async begin(): Promise<StartResult> {
    const { clock, lockPath, events, logger, probe, storage } = this.p;
    const now = clock.now();
    const lock = this.p.lock ?? acquireLock(lockPath, now);
    if (!lock.ok) {
      return {
        ok: false,
        alreadyRunning: true,
        error: `another exo-sentinel daemon (pid ${lock.holder.pid}) already uses ${this.p.dataDir}`,
      };
    }
    const config = this.p.config();
    storage.recordAtStart(now, lockPath, lock.unrecorded);
    const failed = await startListeners({ guard: this.p.guard, api: this.p.api, config, events, lockPath });
    if (failed) {
      releaseLock(lockPath);
      return { ok: false, error: failed };
    }
    await recordStart({ store: storage.store, probe, events, logger, config, stale: lock.stale });
    // The interval it samples at (flags included): what `status` judges a silent daemon by.
    if (lock.unrecorded === null) updateLock(lockPath, { intervalSeconds: config.intervalSeconds });
    const written = lock.unrecorded === null ? readLock(lockPath) : null;
    // Not written (a full or read-only disk at start): the record it would have written, its API address
    // included, is kept, and the look every 10 s writes it once it can. Before, it never was: `status` and
    // `uninstall` saw no daemon for its whole life, and a second one started beside it on the same timeline.
    const api = this.p.api?.address;
    const intended =
      lock.unrecorded !== null && lock.record
        ? {
            ...lock.record,
            intervalSeconds: config.intervalSeconds,
            ...(api ? { api: `http://${api.host}:${api.port}` } : {}),
          }
        : null;
    this.ownLock = written?.pid === process.pid ? written : intended;
    this.lockUnwritable = intended !== null;
    // What the pidfile held then is a stale record (a live holder would have kept this daemon from starting),
    // even one naming this daemon's own pid (a container, where the daemon is always the same pid): the look
    // writes over it instead of taking it for another daemon's and stopping.
    this.lockFoundAtStart = intended !== null ? readLock(lockPath) : null;
    this.retain(now);
    this.startReports(now);
    return { ok: true };
  }

  /**
   * Reports written while the daemon was down (after a panic's reboot) are found by the watcher's first
   * scan, exactly once. The ticks do not wait for it (a directory an outsider filled takes seconds, and a
   * watchdog samples from its first second): until it ends the judgement says that panics from before the
   * start may not be counted yet, and a panic it finds, or its end, is judged at once (reportFound,
   * firstScanEnded).
   */
  private startReports(now: number): void {
    this.p.risk.reportsScanning(now);
    this.p.reportWatcher.start().catch((e: unknown) => {
      this.p.events.failed('report-watcher', (e as Error).message);
      this.firstScanEnded();
    });
  }

  /** The first scan of the watched report directories ended (or failed): judged again at once. */
  firstScanEnded(): void {
    if (this.firstScanDone.settled) return;
    this.firstScanDone.settled = true;
    this.p.risk.reportsScanning(null);
    this.firstScanDone.resolve();
    this.scheduler.soon();
  }

  /** Resolves once the first scan of the report directories has ended. */
  reportsScanned(): Promise<void> {
    return this.firstScanDone.promise;
  }

  /** A panic report in the ledger: judged at once (the hold it starts, the 72 h count), not at the next tick. */
  reportFound(): void {
    this.scheduler.soon();
  }

  /**
   * A retention pass, every RETENTION_EVERY_MS of the monotonic clock (a wall clock set forward or back does
   * not make it run, nor stop it). Its cut may move RETENTION_CATCH_UP times as far as the monotonic clock
   * since the last pass (retention.ts: a wall clock set days forward for a moment deleted every raw sample).
   */
  private retain(now: number): void {
    const mono = monotonicNow(this.p.clock);
    // The pass at start moves the cut nothing: how long the daemon was down is not known, and starts with the
    // clock ahead each moved it 2 h (25 restarts in 7 s at +3 days deleted every raw sample).
    const since = this.lastRetention === null ? 0 : mono - this.lastRetention;
    this.lastRetention = mono;
    this.p.storage.retain(now, this.p.config().retention, since * RETENTION_CATCH_UP);
  }

  /** One tick: sample, judge, tell the guard, then write sample + process map + events in one transaction. */
  async tickOnce(): Promise<TickResult | null> {
    const { clock, storage, events, risk } = this.p;
    const now = clock.now();
    const mono = monotonicNow(clock);
    this.gaps.note(now, mono);
    if (storage.writer.isDetached) storage.tryReattach(mono, now, this.p.onStorageBack());
    else if (storage.removedNow(mono)) this.p.onStorageGone()?.();
    this.lookLock(mono);
    // On the monotonic clock: a wall clock set back an hour froze the slow probes (GPU, the process list and
    // footprints on macOS) for that hour, their last readings stored as fresh.
    const slow =
      this.tickCount === 0 || mono - this.lastSlow >= this.p.config().slowIntervalSeconds * 1000 - 50;
    if (slow) this.lastSlow = mono;
    let result: TickResult;
    try {
      result = await this.p.sampler.tick(now, slow);
    } catch (e) {
      events.failed('sampler', (e as Error).stack ?? String(e));
      return null;
    }
    recordProcessEvents(result.changes, events);
    this.watchLimited = recordWatchLimit(result.leftOut, this.watchLimited, events);
    this.deferredWatch.note(result.deferred, performance.now(), events);
    try {
      risk.step(now, result.sample);
    } catch (e) {
      events.failed('risk', (e as Error).stack ?? String(e));
    }
    this.tellGuard(result);
    const written = events.drain();
    const stored = storage.writeTick(result, written, now, () => risk.persist());
    if (!stored) risk.persistLost();
    else storage.rollUp(now);
    try {
      publishTick(this.p.publisher, result, written, { now, slow, stored });
    } catch (e) {
      this.p.logger.error({ err: e }, 'publishing the tick failed');
    }
    this.tickCount++;
    this.lastResult = result;
    if (this.lastRetention === null || mono - this.lastRetention >= RETENTION_EVERY_MS) this.retain(now);
    // Rows of a damaged timeline being copied into the new one: a slice per tick.
    storage.salvageStep(SALVAGE_SLICE_MS, now);
    return result;
  }

  /**
   * Every LOCK_LOOK_MS: the pidfile still names this daemon, else it is written again (removed while it ran,
   * a second daemon would start beside it), or, when another live daemon took it meanwhile, this one stops so
   * that one writer remains. Reading the file is all a look costs while it is ours.
   */
  private lookLock(mono: number): void {
    // A stopping daemon (its timeline found removed, say) leaves the pidfile to its stop.
    if (!this.ownLock || this.stopping || mono - this.lastLockLook < LOCK_LOOK_MS) return;
    this.lastLockLook = mono;
    const { lockPath, events, logger } = this.p;
    try {
      const seen = checkLock(lockPath, this.ownLock, undefined, this.lockFoundAtStart);
      if (seen.state === 'held') {
        // Its API address is added after start: what is written again is the record as it is now.
        this.ownLock = seen.lock;
        this.lockUnwritable = false;
        return;
      }
      if (seen.state === 'rewritten') {
        const note = this.lockUnwritable
          ? `the pidfile ${lockPath} could be written at last: a second daemon is stopped from now on`
          : `the pidfile ${lockPath} was removed (or overwritten) while the daemon ran: written again, so no second daemon starts beside it`;
        if (this.lockUnwritable) this.p.storage.pidfileWritten();
        this.lockUnwritable = false;
        this.lockFoundAtStart = null;
        logger.warn(note);
        events.push('storage.pidfile', 'warning', note, { path: lockPath });
      } else if (seen.state === 'unwritable') {
        if (!this.lockUnwritable) {
          const note = `the pidfile ${lockPath} cannot be written (${seen.problem}): a second daemon would not be stopped`;
          logger.warn(note);
          events.push('storage.pidfile', 'warning', note, { path: lockPath, problem: seen.problem });
        }
        this.lockUnwritable = true;
        return;
      } else if (seen.state === 'taken') {
        const note = `another daemon (pid ${seen.holder.pid}) took ${lockPath} after it was removed while this one ran: this one stops, so that one writer remains`;
        logger.error(note);
        events.push('storage.pidfile', 'error', note, { path: lockPath, holder: seen.holder.pid });
        this.ownLock = null;
        this.p.onLockLost()?.();
      }
    } catch (e) {
      logger.debug({ err: e }, 'looking at the pidfile failed');
    }
  }

  /** The guard learns the level before the write: a full disk must not leave it a tick behind. */
  private tellGuard(result: TickResult): void {
    const { guard, risk, decision, storage } = this.p;
    try {
      guard?.update({
        level: risk.state.level,
        ...decision.decide(),
        hold: readHold(storage.store),
        exo: risk.monitor.snapshot,
        sample: result.sample,
      });
    } catch (e) {
      this.p.events.failed('guard-update', (e as Error).message);
    }
  }

  /** Starts the loop; ticks are aligned to the interval and never overlap (a slow tick skips the next). */
  start(): void {
    this.scheduler.start();
  }

  /** Pauses sampling (the machine is going to sleep); the timeline notes it. */
  pause(reason: string): void {
    this.scheduler.stop();
    this.p.events.push('power.sleep', 'info', `sampling paused: ${reason}`, { reason });
    // The sleep/wake hold starts with the sleep notice and is timed by the wake (wake-hold.ts).
    this.p.decision.startWakeHold(sleepNotice(this.p.clock.now()));
  }

  /** Resumes after a pause (wake); the wake also counts for the sleep/wake risk signal. */
  resume(reason: string): void {
    const { clock, events, risk, decision: d } = this.p;
    const now = clock.now();
    events.push('power.wake', 'info', `sampling resumed: ${reason}`, { reason });
    risk.observe('power.wake', now);
    d.startWakeHold(wakeNotice(d.currentWakeHold(), now, d.wakeHoldSeconds, 'power-event'));
    this.gaps.reset();
    if (!this.scheduler.isRunning) this.start();
  }

  /**
   * Stops the loop, waits for the tick in flight, records the stop and closes the database. Idempotent: a
   * second call (power shutdown, then quit) gets the same promise.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.stopOnce(reason);
    return this.stopping;
  }

  private async stopOnce(reason: string): Promise<void> {
    this.scheduler.stop();
    this.p.configs.stop();
    // Each part stops on its own: one that fails must not keep the database open. The tick in flight ends
    // before the risk's actions are waited for (its judgement may queue one more, which writes the audit).
    const parts: Array<[string, () => Promise<unknown> | undefined]> = [
      ['report watcher', () => this.p.reportWatcher.stop()],
      ['tick', () => this.scheduler.inFlight ?? undefined],
      ['risk', () => this.p.risk.settle()],
      ['guard', () => this.p.guard?.stop()],
      ['api', () => this.p.api?.stop()],
    ];
    for (const [what, step] of parts) {
      try {
        await step();
      } catch (e) {
        this.p.logger.warn({ err: e }, `stopping the ${what} failed: ${(e as Error).message}`);
      }
    }
    try {
      this.p.storage.closeAfter({
        time: this.p.clock.now(),
        kind: 'daemon.stopped',
        severity: 'info',
        message: `exo-sentinel stopped (${reason}) after ${this.tickCount} ticks`,
        data: { reason, ticks: this.tickCount },
      });
    } finally {
      releaseLock(this.p.lockPath);
    }
  }
}
