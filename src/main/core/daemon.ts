import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TimelineEvent } from '../../shared/events.js';
import type { ReportRecord } from '../../shared/reports.js';
import type { GuardMode } from '../../shared/risk.js';
import type { Sample } from '../../shared/sample.js';
import { ActionRunner } from './actions/action-runner.js';
import { AuditStore } from './actions/audit-store.js';
import { DesktopNotifier } from './actions/desktop-notifier.js';
import { pinGuardMode, readGuardOverride } from './actions/guard-override.js';
import {
  GUARD_PROFILES,
  type GuardProfile,
  PROTECT_NOTICE,
  profileMode,
  readGuardProfile,
  setGuardProfile,
  takeProtectNotice,
} from './actions/guard-profile.js';
import { HeadlessNotifier, type Notifier } from './actions/notifier.js';
import { acknowledgeHold, readHold } from './actions/post-panic-hold.js';
import {
  inferSleep,
  readWakeHold,
  sleepNotice,
  type WakeHold,
  wakeHoldActive,
  wakeHoldReason,
  wakeNotice,
  withWakeHold,
  writeWakeHold,
} from './actions/wake-hold.js';
import { loadOrCreateToken } from './api/api-config.js';
import { ApiServer, type StatusView } from './api/api-server.js';
import { Metrics } from './api/metrics.js';
import { collectCluster } from './cluster/cluster-view.js';
import type { ConfigResult } from './config/config-loader.js';
import { ConfigReloader, type ReloadOutcome, type ReloadTrigger } from './config/config-reload.js';
import type { Config } from './config/config-schema.js';
import { paths } from './config/data-dir.js';
import type { EventCollector } from './event-collector.js';
import { ExoApiClient } from './exo/exo-api-client.js';
import { exoHome, readExoPidfile } from './exo/exo-pidfile.js';
import type { ModeSource, WakeHoldView } from './guard/admission.js';
import { isLoopback } from './guard/guard-config.js';
import { GuardServer } from './guard/guard-server.js';
import { acquireLock, releaseLock, updateLock } from './instance-lock.js';
import type { Logger } from './logger.js';
import { isIogpuKind } from './panics/panic-classifier.js';
import { summarisePanics } from './panics/panic-summary.js';
import { defaultReportDirs, REPORTS_AND_PASTED_COPIES, ReportIngester } from './panics/report-ingester.js';
import { ReportWatcher } from './panics/report-watcher.js';
import type { MachineIdentity, PlatformProbe } from './probes/probe-types.js';
import { buildCrashReport } from './report/report-builder.js';
import { assessPlatform, modelEvidence } from './risk/platform-advisory.js';
import { RiskPipeline } from './risk/risk-pipeline.js';
import { Sampler, type TickResult } from './sampler.js';
import { SentinelService } from './service/sentinel-service.js';
import { type DatabaseConstructor, type Db, openDatabase } from './store/database.js';
import { openTimelineDatabase, type Recovered } from './store/database-recovery.js';
import { ReportStore } from './store/report-store.js';
import { applyRetention } from './store/retention.js';
import { type PendingTick, TickWriter } from './store/tick-writer.js';
import { TimelineStore } from './store/timeline-store.js';

export { VERSION } from './version.js';

import { VERSION } from './version.js';

export interface Clock {
  now(): number;
  /** A clock that never jumps (ms); gaps between ticks are measured on it. Default: performance.now(). */
  monotonic?(): number;
  setTimeout(fn: () => void, ms: number): { unref?: () => void } | number | NodeJS.Timeout;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface DaemonDeps {
  dataDir: string;
  config: Config;
  probe: PlatformProbe;
  events: EventCollector;
  logger: Logger;
  clock?: Clock;
  exoPidfile?: string;
  /** Report directories; default: the config's, else the platform's. */
  reportDirs?: string[];
  /** The shell's notifier; default: the headless one (log + optional command). */
  notifier?: Notifier;
  /** The configuration file (default: the data directory's); API writes go there. */
  configPath?: string;
  /** The SQLite driver (the Electron app passes its Node-API build of better-sqlite3). */
  Driver?: DatabaseConstructor;
}

export type StartResult = { ok: true } | { ok: false; error: string; alreadyRunning?: boolean };

/** How long the daemon holds ticks in memory while the timeline cannot be written. */
const BUFFER_SECONDS = 600;
/** How often a daemon whose database could not be opened tries it again (one open attempt: cheap). */
const REATTACH_MS = 10_000;

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

/**
 * The watchdog: one scheduler and one clock. Every `intervalSeconds` it samples and writes one
 * transaction; every `slowIntervalSeconds` the expensive probes run too; retention runs every 10 min.
 */
export class Daemon {
  readonly store: TimelineStore;
  readonly reports: ReportStore;
  readonly reportWatcher: ReportWatcher;
  readonly audit: AuditStore;
  readonly risk: RiskPipeline;
  readonly guard: GuardServer | null;
  readonly api: ApiServer | null;
  readonly metrics = new Metrics();
  /** What the shells (the API, the app, the CLI through the API) read and change. */
  readonly service: SentinelService;
  private readonly exoClient: ExoApiClient;
  private readonly startedAt: number;
  private readonly db: Db;
  private readonly sampler: Sampler;
  private readonly clock: Clock;
  private timer: unknown = null;
  private running = false;
  private inTick: Promise<void> | null = null;
  /** Stops the probe's pressure watcher (PSI trigger, dispatch source), while sampling runs. */
  private stopPressureWatch: (() => void) | null = null;
  private lastPressureTick = 0;
  private lastSlow = 0;
  private lastRetention = 0;
  private ticks = 0;
  private lastTickAt: number | null = null;
  private lastTickMono: number | null = null;
  private lastReattach = 0;
  private stopping: Promise<void> | null = null;
  /** The real database, once it opened after a start without it (in-process shells only). */
  private attachedDb: Db | null = null;
  private readonly writer: TickWriter;
  private readonly recovered: Recovered | null;
  /**
   * Called once a daemon that started without a writable database has written its buffered ticks into it
   * (the headless shell exits non-zero so launchd/systemd restart it on the real database).
   */
  onStorageBack: (() => void) | null = null;
  /** Receives what the API streams over SSE (`sample`, `event`, `level`, `panic`), for in-process shells. */
  onPublish: ((event: string, data: object) => void) | null = null;
  /** The headless daemon's desktop banners (null when a shell brings its own notifier). */
  desktop: DesktopNotifier | null = null;
  private lastResult: TickResult | null = null;
  private readonly lockPath: string;
  private readonly actionRunner: ActionRunner;
  /** Watches the configuration file once the shell asks for it (watchConfig). */
  private configReload: ConfigReloader | null = null;

  constructor(private readonly deps: DaemonDeps) {
    this.clock = deps.clock ?? systemClock;
    const opened = openTimeline(paths(deps.dataDir).database, deps.Driver);
    this.db = opened.db;
    this.recovered = opened.recovered;
    this.store = new TimelineStore(this.db);
    this.writer = new TickWriter(
      this.db,
      this.store,
      paths(deps.dataDir).database,
      Math.max(10, Math.round(BUFFER_SECONDS / deps.config.intervalSeconds)),
      opened.detached,
    );
    this.reports = new ReportStore(this.db);
    this.audit = new AuditStore(this.db);
    const exoClient = new ExoApiClient(deps.config.exo.url, deps.config.exo.timeoutMs);
    this.exoClient = exoClient;
    this.startedAt = this.clock.now();
    this.desktop = deps.notifier ? null : new DesktopNotifier({ mode: deps.config.notifications.desktop });
    const runner = new ActionRunner(
      deps.config.actions,
      this.store,
      this.audit,
      deps.notifier ??
        new HeadlessNotifier(deps.logger, deps.config.actions.notify.command, 10_000, this.desktop),
      exoClient,
      // One place decides the mode (hand pin, else hold, else level): the runner's level mode never skips a pin.
      () => this.applyGuardMode(),
    );
    this.actionRunner = runner;
    this.guard = deps.config.guard.enabled
      ? new GuardServer(
          deps.config.guard,
          deps.config.exo.url,
          (e) => deps.events.push(e.kind, e.severity, e.message, e.data, e.time),
          deps.config.exo.home ?? exoHome(),
          undefined,
          {
            refused: (reason) => this.metrics.guardRefusals.inc({ reason }),
            queueWait: (seconds) => this.metrics.guardQueueWait.observe(seconds),
          },
        )
      : null;
    if (this.guard) this.metrics.attachGuard(() => this.guard?.stats ?? null);
    const dashboard = fileURLToPath(new URL('../../renderer/', import.meta.url));
    this.service = this.buildService();
    this.api = deps.config.api.enabled
      ? new ApiServer({
          config: deps.config.api,
          token: this.apiToken(),
          metrics: this.metrics,
          service: this.service,
          dashboardDir: existsSync(`${dashboard}index.html`) ? dashboard : null,
        })
      : null;
    this.risk = new RiskPipeline(
      deps.config,
      this.store,
      this.reports,
      deps.events,
      runner,
      exoClient,
      deps.config.exo.home ?? exoHome(),
      this.clock.now(),
    );
    this.lockPath = paths(deps.dataDir).pidfile;
    const dirs = deps.reportDirs ?? deps.config.reports.dirs ?? defaultReportDirs();
    this.reportWatcher = new ReportWatcher(
      dirs,
      new ReportIngester(this.reports, this.store, () => this.clock.now()),
      {
        onReport: (r) => this.recordReport(r),
        onDirectoryProblem: (dir, problem) =>
          deps.events.push('report.directory-problem', 'warning', `report directory ${dir}: ${problem}`, {
            dir,
            problem,
          }),
      },
      deps.config.reports.rescanSeconds * 1000,
    );
    const patterns = deps.config.watch.mlxServerPatterns.map((p) => new RegExp(p));
    this.sampler = new Sampler(deps.probe, () => ({
      pidfilePid: readExoPidfile(deps.exoPidfile),
      mlxServerPatterns: patterns,
    }));
  }

  private buildService(): SentinelService {
    const ingesterFor = (): ReportIngester =>
      new ReportIngester(this.reports, this.store, () => this.clock.now());
    return new SentinelService({
      timeline: this.store,
      reports: this.reports,
      audit: this.audit,
      now: () => this.clock.now(),
      status: () => this.statusView(),
      config: () => this.deps.config,
      configPath: () => this.configPath,
      configReload: {
        state: () => this.configReload?.state ?? null,
        reload: (trigger) => this.reloadConfig(trigger),
      },
      guard: {
        pin: (mode, by) => this.setGuardOverride(mode, by),
        profile: () => this.guardProfileView(),
        chooseProfile: (profile, by) => this.chooseGuardProfile(profile, by),
      },
      advisory: () => this.advisory(),
      cluster: () =>
        collectCluster(
          this.statusView(),
          this.deps.config.cluster,
          this.exoClient,
          this.risk.monitor.snapshot.nodeId,
        ),
      scan: (dirs) => {
        if (!dirs) return this.reportWatcher.scanAll();
        // Directories named by hand may hold copies pasted from issues.
        const results = dirs.map((d) => ingesterFor().scanDirectory(d, REPORTS_AND_PASTED_COPIES));
        for (const r of results) for (const rec of r.added) this.recordReport(rec);
        return results;
      },
    });
  }

  /** The API token; when the data directory cannot be written, one for this run only (said in the log). */
  private apiToken(): string {
    try {
      return loadOrCreateToken(paths(this.deps.dataDir).apiToken);
    } catch (e) {
      this.deps.logger.warn(
        `the API token cannot be stored (${(e as Error).message}): this run uses one that is not saved`,
      );
      return randomBytes(24).toString('base64url');
    }
  }

  get tickCount(): number {
    return this.ticks;
  }

  /** The configuration file: `--config`, else the platform's place (followed when an old file is moved). */
  get configPath(): string {
    return this.deps.configPath ?? paths(this.deps.dataDir).config;
  }

  /** The configuration in use (after reloads; restart-only keys hold the values it started with). */
  get config(): Config {
    return this.deps.config;
  }

  get latest(): Sample | null {
    return this.lastResult?.sample ?? null;
  }

  /** Takes the data directory's lock and records the start (and an unclean previous stop, if any). */
  async begin(): Promise<StartResult> {
    const now = this.clock.now();
    const lock = acquireLock(this.lockPath, now);
    if (!lock.ok) {
      return {
        ok: false,
        alreadyRunning: true,
        error: `another exo-sentinel daemon (pid ${lock.holder.pid}) already uses ${this.deps.dataDir}`,
      };
    }
    const { events } = this.deps;
    this.recordStorageAtStart(lock.unrecorded);
    if (this.guard) {
      try {
        const a = await this.guard.start();
        events.push(
          'guard.started',
          'info',
          `guard listening on ${a.host}:${a.port} in front of ${this.deps.config.exo.url}`,
          { ...a, upstream: this.deps.config.exo.url },
        );
      } catch (e) {
        releaseLock(this.lockPath);
        const err = e as NodeJS.ErrnoException;
        return {
          ok: false,
          error: `the guard cannot start: ${err.code === 'EADDRINUSE' ? `${this.deps.config.guard.listen} is already in use (--guard-listen HOST:PORT, or --no-guard)` : err.message}`,
        };
      }
    }
    if (this.api) {
      try {
        const a = await this.api.start();
        events.push('api.started', 'info', `API and dashboard on http://${a.host}:${a.port}`, { ...a });
        // The CLI's `status` asks a running daemon for what only it knows (storage health) at this address.
        updateLock(this.lockPath, { api: `http://${a.host}:${a.port}` });
      } catch (e) {
        await this.guard?.stop();
        await this.api?.stop();
        releaseLock(this.lockPath);
        const err = e as NodeJS.ErrnoException;
        return {
          ok: false,
          error: `the API cannot start: ${err.code === 'EADDRINUSE' ? `${this.deps.config.api.listen} is already in use (--api-listen HOST:PORT, or --no-api)` : err.message}`,
        };
      }
    }
    if (lock.stale) {
      const last = this.store.latestSample();
      events.push(
        'daemon.unclean-stop',
        'warning',
        `the previous daemon (pid ${lock.stale.pid}) stopped without shutting down; last sample ${
          last ? new Date(last.time).toISOString() : 'none'
        }`,
        { pid: lock.stale.pid, lastSampleAt: last?.time ?? null },
      );
    }
    let identity: MachineIdentity | null = null;
    try {
      identity = await this.deps.probe.identity();
    } catch (e) {
      events.failed('identity', (e as Error).message);
    }
    events.push('daemon.started', 'info', `exo-sentinel ${VERSION} started (pid ${process.pid})`, {
      version: VERSION,
      pid: process.pid,
      intervalSeconds: this.deps.config.intervalSeconds,
      slowIntervalSeconds: this.deps.config.slowIntervalSeconds,
      identity,
    });
    try {
      if (identity) this.store.setMeta('identity', JSON.stringify(identity));
    } catch (e) {
      this.deps.logger.warn(`the machine identity cannot be stored: ${(e as Error).message}`);
    }
    this.runRetention(now);
    // Reports written while the daemon was down (after a panic's reboot) are found here, exactly once.
    try {
      await this.reportWatcher.start();
    } catch (e) {
      events.failed('report-watcher', (e as Error).message);
    }
    return { ok: true };
  }

  /** Start-up storage findings become events and log lines: a moved-aside corrupt database, no writable one. */
  private recordStorageAtStart(pidfileProblem: string | null): void {
    const { events, logger } = this.deps;
    if (this.recovered) {
      logger.error({ recovered: this.recovered }, this.recovered.advice);
      events.push('storage.corrupt', 'error', this.recovered.advice, { ...this.recovered });
    }
    const detached = this.writer.detachedFailure(this.clock.now());
    if (detached) {
      logger.error(
        `${detached}: sampling, the guard and the API run; ticks are held in memory until it can be written`,
      );
      events.push('storage.failing', 'error', `the timeline cannot be opened for writing: ${detached}`, {
        path: this.writer.health.path,
      });
    }
    if (pidfileProblem) {
      const note = `the pidfile ${this.lockPath} cannot be written (${pidfileProblem}): a second daemon would not be stopped`;
      this.writer.health.note('pidfile', note);
      logger.warn(note);
      events.push('storage.pidfile', 'warning', note, { path: this.lockPath, problem: pidfileProblem });
    }
  }

  /** A storage note from outside the timeline (the log file); null clears it. */
  noteStorage(key: string, message: string | null): void {
    this.writer.health.note(key, message);
  }

  /** A new report in the ledger becomes a timeline event (written with the next tick). */
  private recordReport(r: ReportRecord): void {
    if (r.category === 'panic')
      this.metrics.setPanics(summarisePanics(this.reports, this.clock.now()).byKind);
    this.risk.onReport(r, this.clock.now());
    const { events } = this.deps;
    const at = r.panicTime ? new Date(r.panicTime).toISOString() : 'an unknown time';
    const who = r.attribution
      ? ` — ${r.attribution.explanation}`
      : r.pid !== null
        ? ` (pid ${r.pid}: ${r.processName})`
        : '';
    const data = {
      reportId: r.id,
      path: r.path,
      kind: r.kind,
      panicTime: r.panicTime,
      pid: r.pid,
      verdict: r.attribution?.verdict ?? null,
    };
    if (r.status === 'unreadable') {
      events.push('report.unreadable', 'warning', `${r.name} is present but unreadable: ${r.problem}`, data);
    } else if (r.status === 'ingested' && r.category === 'panic') {
      const severity = r.kind && isIogpuKind(r.kind as never) ? 'critical' : 'warning';
      events.push('panic.detected', severity, `kernel panic (${r.kind}) at ${at}${who}`, data);
    } else if (r.status === 'ingested' && r.category === 'jetsam') {
      const killed = ((r.info?.['killed'] as Array<{ name: string; reason: string }> | undefined) ?? []).map(
        (k) => `${k.name} (${k.reason})`,
      );
      events.push(
        'jetsam.detected',
        'warning',
        `JetsamEvent at ${at}: largest ${String(r.info?.['largestProcess'] ?? '?')}${killed.length ? `; killed ${killed.join(', ')}` : ''}`,
        data,
      );
    } else if (r.status === 'ingested' && r.category === 'crash') {
      events.push(
        'crash.detected',
        'warning',
        `${r.processName ?? '?'} (pid ${r.pid ?? '?'}) crashed (${r.kind}) at ${at}${who}`,
        data,
      );
    }
    this.deps.logger.warn(
      { report: data, status: r.status },
      `report ${r.name}: ${r.status} ${r.category ?? ''} ${r.kind ?? ''}`,
    );
  }

  private runRetention(now: number): void {
    const r = this.deps.config.retention;
    try {
      const res = applyRetention(this.db, now, {
        rawMs: r.rawDays * 86_400_000,
        minuteMs: r.minuteDays * 86_400_000,
      });
      this.lastRetention = now;
      if (res.rawDeleted + res.minuteDeleted + res.eventsDeleted > 0)
        this.deps.logger.debug(res, 'retention applied');
    } catch (e) {
      this.deps.events.failed('retention', (e as Error).message);
    }
  }

  /**
   * No tick for much longer than the interval, measured on the monotonic clock (a wall-clock change is not a
   * gap): the process was suspended or stalled. The wall clock moving much more than the monotonic one is
   * noted apart — a clock change, or system sleep (the monotonic clock stops while the machine sleeps) —
   * without counting as a wake; the shells' power events report real sleep and wake.
   */
  private noteGap(now: number): void {
    const mono = this.clock.monotonic?.() ?? performance.now();
    const limit = Math.max(30_000, 10 * this.deps.config.intervalSeconds * 1000);
    if (this.lastTickMono !== null && this.lastTickAt !== null) {
      const gap = mono - this.lastTickMono;
      const wallGap = now - this.lastTickAt;
      if (gap > limit) {
        this.deps.events.push(
          'power.wake',
          'info',
          `no tick for ${Math.round(gap / 1000)} s: the daemon was suspended or stalled`,
          { gapMs: Math.round(gap), inferred: true },
        );
        this.risk.observe('power.wake', now);
      } else if (
        inferSleep(
          { wall: this.lastTickAt, mono: this.lastTickMono },
          { wall: now, mono },
          this.deps.config.intervalSeconds * 1000,
        )
      ) {
        // Headless has no power events: a wall clock far ahead of the monotonic one is a sleep (wake-hold.ts).
        this.deps.events.push(
          'power.wake',
          'info',
          `the wall clock moved ${Math.round(wallGap / 1000)} s between ticks ${Math.round(gap / 1000)} s apart on the monotonic clock: the machine slept (or the clock was set forward)`,
          { wallGapMs: wallGap, gapMs: Math.round(gap), sleptMs: Math.round(wallGap - gap), inferred: true },
        );
        this.risk.observe('power.wake', now);
        this.startWakeHold(wakeNotice(null, now, this.wakeHoldSeconds, 'clock-gap', this.lastTickAt));
      } else if (Math.abs(wallGap - gap) > limit) {
        this.deps.events.push(
          'clock.jump',
          'info',
          `the wall clock moved ${Math.round(wallGap / 1000)} s between ticks ${Math.round(gap / 1000)} s apart: the clock was changed or the machine slept`,
          { wallGapMs: wallGap, gapMs: Math.round(gap) },
        );
      }
    }
    this.lastTickAt = now;
    this.lastTickMono = mono;
  }

  /**
   * Started without a writable database: every 10 s try it again; once it opens, the buffered ticks go into it
   * and `onStorageBack` (the headless shell restarts on it). Never throws.
   */
  private tryReattach(): void {
    const mono = this.clock.monotonic?.() ?? performance.now();
    if (mono - this.lastReattach < REATTACH_MS) return;
    this.lastReattach = mono;
    let db: Db | null = null;
    try {
      db = openTimelineDatabase(
        this.writer.health.path,
        this.deps.Driver ? { Driver: this.deps.Driver } : {},
      ).db;
      const store = new TimelineStore(db);
      const n = this.writer.flushInto(db, store);
      this.deps.logger.warn(
        `${this.writer.health.path} is writable again: ${n} buffered tick(s) written to it`,
      );
      if (this.onStorageBack) {
        db.close();
        db = null;
        this.onStorageBack();
        return;
      }
      // In-process (no restart): ticks go straight to it from now on.
      this.writer.attach(db, store, this.clock.now());
      this.attachedDb = db;
      db = null;
    } catch (e) {
      this.deps.logger.debug({ err: e }, 'the timeline database is still not writable');
    } finally {
      db?.close();
    }
  }

  /** One tick: sample, then write sample + process map + events in one transaction. */
  async tickOnce(): Promise<TickResult | null> {
    const now = this.clock.now();
    this.noteGap(now);
    if (this.writer.isDetached) this.tryReattach();
    const slow = this.ticks === 0 || now - this.lastSlow >= this.deps.config.slowIntervalSeconds * 1000 - 50;
    if (slow) this.lastSlow = now;
    let result: TickResult;
    try {
      result = await this.sampler.tick(now, slow);
    } catch (e) {
      this.deps.events.failed('sampler', (e as Error).stack ?? String(e));
      return null;
    }
    const { events } = this.deps;
    for (const c of result.changes) {
      const e = c.entry;
      const what = `${c.role} pid ${e.pid}`;
      if (c.kind === 'started')
        events.push('process.started', 'info', `${what} appeared: ${e.argv.join(' ').slice(0, 200)}`, {
          pid: e.pid,
          role: c.role,
          startTime: e.startTime,
          argv: e.argv,
          executable: e.executable,
        });
      else if (c.kind === 'exited')
        events.push(
          'process.exited',
          c.role === 'exo-runner' || c.role === 'exo-main' ? 'warning' : 'info',
          `${what} exited`,
          { pid: e.pid, role: c.role, startTime: e.startTime },
        );
      else
        events.push('process.role-changed', 'info', `pid ${e.pid} is now ${c.role} (was ${c.previous})`, {
          pid: e.pid,
          role: c.role,
          previous: c.previous,
        });
    }
    try {
      this.risk.step(now, result.sample);
    } catch (e) {
      this.deps.events.failed('risk', (e as Error).stack ?? String(e));
    }
    // The guard learns the level before the write: a full disk must not leave it a tick behind.
    try {
      this.guard?.update({
        level: this.risk.state.level,
        ...this.guardModeDecision(),
        hold: readHold(this.store),
        exo: this.risk.monitor.snapshot,
        sample: result.sample,
      });
    } catch (e) {
      this.deps.events.failed('guard-update', (e as Error).message);
    }
    const stored = this.writeTick(result, events.drain(), now);
    try {
      this.afterTick(result, stored.events, slow, now, stored.stored);
    } catch (e) {
      this.deps.logger.error({ err: e }, 'publishing the tick failed');
    }
    this.ticks++;
    this.lastResult = result;
    if (now - this.lastRetention >= 600_000) this.runRetention(now);
    return result;
  }

  /**
   * Writes the tick (after any buffered ones). A failed write keeps it in memory; the first failure and the
   * recovery are events of their own (written with the tick after recovery) and log lines.
   */
  private writeTick(
    result: TickResult,
    events: TimelineEvent[],
    now: number,
  ): { stored: boolean; events: TimelineEvent[] } {
    const tick: PendingTick = {
      time: now,
      sample: result.sample,
      events,
      watched: result.watched,
      exits: result.changes
        .filter((c) => c.kind === 'exited')
        .map((c) => ({ pid: c.entry.pid, startTime: c.entry.startTime })),
    };
    const out = this.writer.write(tick, now, () => this.risk.persist());
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
      return { stored: true, events };
    }
    if (out.newFailure) {
      this.deps.logger.error(
        `${out.newFailure}: ticks are held in memory (up to ${this.writer.buffer.capacity}) until it can be written`,
      );
      this.deps.events.push('storage.failing', 'error', `the timeline cannot be written: ${out.newFailure}`, {
        path: this.writer.health.path,
      });
    }
    return { stored: false, events };
  }

  /** Metrics and the API's live stream, after the tick is on disk (or buffered: then marked so). */
  private afterTick(
    result: TickResult,
    written: TimelineEvent[],
    slow: boolean,
    now: number,
    stored: boolean,
  ): void {
    this.metrics.update(result.sample, this.risk.state, this.risk.monitor.snapshot);
    this.metrics.tickSeconds.observe(result.durationMs / 1000);
    if (slow) this.metrics.setPanics(summarisePanics(this.reports, now).byKind);
    for (const e of written) {
      if (e.kind === 'probe.failed')
        this.metrics.probeFailures.inc({ probe: String(e.data?.['probe'] ?? 'unknown') });
      if (e.kind === 'guard.request')
        this.metrics.guardRequests.inc({
          decision: String(e.data?.['decision']),
          status: String(e.data?.['status']),
        });
      // Refusals past the first of each second are counted in one aggregated event.
      if (e.kind === 'guard.refusals')
        this.metrics.guardRequests.inc(
          { decision: 'refuse', status: String(e.data?.['status']) },
          Number(e.data?.['count'] ?? 0),
        );
    }
    const mark = stored ? {} : { buffered: true };
    this.publish('sample', {
      sample: result.sample,
      level: this.risk.state.level,
      reasons: this.risk.state.reasons,
      ...mark,
    });
    for (const e of written) {
      this.publish('event', { ...e, ...mark });
      if (e.kind === 'risk.level')
        this.publish('level', { level: e.data?.['to'], reasons: e.data?.['reasons'] });
      if (e.kind === 'panic.detected') this.publish('panic', e.data ?? {});
    }
  }

  /** One live message to every listener: the API's SSE clients and the app's dashboard window. */
  private publish(event: string, data: object): void {
    this.api?.broadcast(event, data);
    this.onPublish?.(event, data);
  }

  /** The platform advisory for this machine and the loaded models' public reports. */
  advisory(): { platform: ReturnType<typeof assessPlatform>; models: ReturnType<typeof modelEvidence> } {
    const stored = this.store.getMeta('identity');
    const id = stored ? (JSON.parse(stored) as MachineIdentity) : null;
    const platform = assessPlatform({
      platform: id?.platform ?? process.platform,
      chip: id?.chip ?? null,
      memoryBytes: id?.memoryBytes ?? null,
      osVersion: id?.osVersion ?? null,
      osBuild: id?.osBuild ?? null,
      iogpuFamilyVersion: id?.iogpuFamilyVersion ?? null,
    });
    const models = [
      ...new Set(
        this.risk.monitor.snapshot.instances.map((i) => i.modelId).filter((m): m is string => m !== null),
      ),
    ];
    return { platform, models: models.flatMap((m) => modelEvidence(m)) };
  }

  /** The daemon's live view, as `/api/v1/status` serves it. */
  statusView(): StatusView {
    const sample = this.lastResult?.sample ?? this.store.latestSample();
    const identity = this.store.getMeta('identity');
    const now = this.clock.now();
    return {
      time: now,
      identity: identity ? JSON.parse(identity) : null,
      sample,
      risk: this.risk.state,
      guardMode: this.guardMode,
      guardOverride: readGuardOverride(this.store),
      guardProfile: readGuardProfile(this.store, this.deps.config.actions.guardProfile),
      guardModeSource: this.guardModeDecision().modeSource,
      wakeHold: this.wakeHoldView(now),
      hold: readHold(this.store),
      exo: this.risk.monitor.snapshot,
      guard: this.guard?.address
        ? { ...this.guard.address, ...this.guard.stats, upstream: this.deps.config.exo.url }
        : null,
      daemon: {
        pid: process.pid,
        version: VERSION,
        startedAt: this.startedAt,
        ticks: this.ticks,
        dataDir: this.deps.dataDir,
        platform: process.platform,
      },
      probes: this.deps.probe.describe?.() ?? null,
      panics: summarisePanics(this.reports, now),
      storage: this.writer.status(),
      config: this.configReload?.state ?? null,
    };
  }

  /**
   * Reloads the configuration file when it changes and when asked (SIGHUP, the API): `load` reads it as at
   * start (with the command line's overrides). What can change live applies at once; the rest is listed as
   * needing a restart (log, a `config.reloaded` event, the status and the API).
   */
  watchConfig(load: (path: string) => ConfigResult): void {
    this.configReload?.stop();
    this.configReload = new ConfigReloader({
      locate: () => this.configPath,
      load,
      started: this.deps.config,
      apply: (next) => this.applyConfig(next),
      report: (o) => this.reportReload(o),
      now: () => this.clock.now(),
    });
    this.configReload.start();
  }

  /** Reads the configuration file now (null when the shell did not ask for reloads). */
  reloadConfig(trigger: ReloadTrigger): ReloadOutcome | null {
    return this.configReload?.reload(trigger) ?? null;
  }

  /** Applies a validated configuration whose restart-only keys hold the running values. */
  private applyConfig(next: Config): string[] {
    const g = this.guard?.address;
    if (g && !isLoopback(g.host) && !next.guard.token)
      return [
        `"guard.token": the guard listens on ${g.host}:${g.port}, beyond loopback, so its token cannot be removed while it runs`,
      ];
    this.deps.config = next;
    this.risk.reconfigure(next);
    this.actionRunner.setConfig(next.actions);
    this.guard?.reconfigure(next.guard);
    this.desktop?.setMode(next.notifications.desktop);
    this.deps.logger.level = next.logLevel;
    this.applyGuardMode();
    return [];
  }

  private reportReload(o: ReloadOutcome): void {
    const { events, logger } = this.deps;
    const path = this.configReload?.state.path ?? 'the configuration';
    if (!o.ok) {
      const message = `${path} was not applied (${o.trigger}), the previous configuration stays: ${o.errors.join('; ')}`;
      logger.error({ errors: o.errors, trigger: o.trigger }, message);
      events.push('config.invalid', 'error', message, { path, trigger: o.trigger, errors: o.errors }, o.at);
      return;
    }
    const parts = [
      o.applied.length ? `applied ${o.applied.join(', ')}` : 'nothing to apply',
      ...(o.restartRequired.length ? [`needs a restart for ${o.restartRequired.join(', ')}`] : []),
    ];
    const message = `configuration reloaded from ${path} (${o.trigger}): ${parts.join('; ')}`;
    logger[o.restartRequired.length ? 'warn' : 'info'](
      { applied: o.applied, restartRequired: o.restartRequired, trigger: o.trigger },
      message,
    );
    events.push(
      'config.reloaded',
      o.restartRequired.length ? 'warning' : 'info',
      message,
      { path, trigger: o.trigger, applied: o.applied, restartRequired: o.restartRequired },
      o.at,
    );
  }

  /**
   * The guard's admission mode: the hand-picked one if any (read each tick, so `exo-sentinel guard` reaches a
   * running daemon), else what the risk level calls for.
   */
  get guardMode(): GuardMode {
    return this.guardModeDecision().mode;
  }

  /** Whether the advisory calls this platform affected (the identity is read at start; asked once). */
  private platformAffected: boolean | null = null;

  /**
   * The mode and who chose it: a hand pin, else the guard profile (protect serialises while EXO's wired limit
   * is active on an affected platform; observe never holds back), else the post-panic hold (when it is
   * stricter), else the level.
   */
  guardModeDecision(): { mode: GuardMode; modeSource: ModeSource; wakeHold: WakeHoldView | null } {
    const pin = readGuardOverride(this.store);
    if (pin) return { mode: pin, modeSource: 'pin', wakeHold: null };
    const now = this.clock.now();
    const profile = readGuardProfile(this.store, this.deps.config.actions.guardProfile);
    const held = withWakeHold(this.levelProfileDecision(profile), this.currentWakeHold(), now, profile);
    const active = held.modeSource === 'wake-hold';
    if (this.wakeHoldWasActive && !wakeHoldActive(this.currentWakeHold(), now))
      this.deps.events.push(
        'guard.wake-hold-ended',
        'info',
        'the sleep/wake hold ended: new generation requests are admitted again',
        {},
      );
    this.wakeHoldWasActive = active;
    const v = active ? this.wakeHoldView(now) : null;
    // The guard counts Retry-After down on Date.now(); the hold ends on the daemon's clock.
    const until = v === null || v.until === null ? null : v.until - now + Date.now();
    return { ...held, wakeHold: v ? { reason: v.reason, until } : null };
  }

  /** The mode the profile and the level (and the post-panic hold) call for. */
  private levelProfileDecision(profile: ReturnType<typeof readGuardProfile>): {
    mode: GuardMode;
    modeSource: ModeSource;
  } {
    const mode = this.risk.guardMode;
    const byLevel = this.deps.config.actions.guardModes[this.risk.state.level];
    const actions = this.deps.config.actions;
    this.platformAffected ??= this.advisory().platform.affected === true;
    const p = profileMode(profile, mode, {
      affected: actions.guardProfilePlatforms === 'any' || this.platformAffected,
      wiredLimitActive: this.risk.wiredLimitActive,
    });
    if (p.byProfile) {
      if (profile === 'protect' && takeProtectNotice(this.store))
        this.deps.events.push('guard.profile-notice', 'warning', PROTECT_NOTICE, { profile });
      return { mode: p.mode, modeSource: 'profile' };
    }
    return { mode, modeSource: readHold(this.store) && mode !== byLevel ? 'hold' : 'level' };
  }

  /** Applies the decided mode to the guard at once (not at the next tick, not behind a notification). */
  private applyGuardMode(): void {
    this.guard?.update(this.guardModeDecision());
  }

  /** The guard profile in effect (chosen by hand, else configured) and the configured one. */
  guardProfileView(): { profile: GuardProfile; configured: GuardProfile; profiles: readonly GuardProfile[] } {
    const configured = this.deps.config.actions.guardProfile;
    return { profile: readGuardProfile(this.store, configured), configured, profiles: GUARD_PROFILES };
  }

  /**
   * Chooses the guard profile through the same call as `exo-sentinel guard profile` (kept in the store,
   * audited, a `guard.profile` event); applied to the guard at once. For the API and the menu bar.
   */
  chooseGuardProfile(
    profile: GuardProfile,
    by: string,
  ): { profile: GuardProfile; configured: GuardProfile; changed: boolean; guardMode: GuardMode } {
    const configured = this.deps.config.actions.guardProfile;
    const changed = setGuardProfile(this.store, this.audit, profile, configured, this.clock.now(), by);
    if (changed) this.applyGuardMode();
    return {
      profile: readGuardProfile(this.store, configured),
      configured,
      changed,
      guardMode: this.guardMode,
    };
  }

  /** Pins the guard to a mode (null: back to following the level); applied at once. Returns the result. */
  setGuardOverride(
    mode: GuardMode | null,
    by: string,
  ): { guardMode: GuardMode; guardOverride: GuardMode | null } {
    if (pinGuardMode(this.store, this.audit, mode, this.risk.guardMode, this.clock.now(), by))
      this.applyGuardMode();
    return { guardMode: this.guardMode, guardOverride: mode };
  }

  /** Starts the loop; ticks are aligned to the interval and never overlap (a slow tick skips the next). */
  start(): void {
    this.running = true;
    const interval = this.deps.config.intervalSeconds * 1000;
    const schedule = (): void => {
      if (!this.running) return;
      const now = this.clock.now();
      const delay = interval - (now % interval);
      this.timer = this.clock.setTimeout(() => {
        if (!this.running) return;
        try {
          if (!this.inTick) {
            this.inTick = this.tickOnce()
              .then(
                () => undefined,
                (e: unknown) => this.contain('tick', e),
              )
              .finally(() => {
                this.inTick = null;
              });
          }
        } catch (e) {
          this.contain('scheduler', e);
        } finally {
          schedule();
        }
      }, delay);
    };
    schedule();
    this.watchPressure();
  }

  /**
   * A pressure change from the platform's event source is recorded and sampled at once, not on the next
   * aligned tick (at most one extra tick per 250 ms; the kernel fires a PSI trigger at most once a window).
   */
  private watchPressure(): void {
    if (this.stopPressureWatch || !this.deps.probe.watchPressure) return;
    const stop = this.deps.probe.watchPressure((change) => {
      if (!this.running) return;
      this.deps.events.push(
        'memory.pressure-event',
        'info',
        `memory pressure changed (${change.source}${change.level ? `, level ${change.level}` : ''}): sampled at once`,
        { source: change.source, level: change.level },
      );
      const now = this.clock.now();
      if (this.inTick || now - this.lastPressureTick < 250) return;
      this.lastPressureTick = now;
      this.inTick = this.tickOnce()
        .then(
          () => undefined,
          (e: unknown) => this.contain('tick', e),
        )
        .finally(() => {
          this.inTick = null;
        });
    });
    if (typeof stop === 'string')
      this.deps.events.unavailable(
        'memory.pressureEvents',
        `no pressure events, polled each tick instead: ${stop}`,
      );
    else this.stopPressureWatch = stop;
  }

  private unwatchPressure(): void {
    this.stopPressureWatch?.();
    this.stopPressureWatch = null;
  }

  /** Pauses sampling (the machine is going to sleep); the timeline notes it. */
  pause(reason: string): void {
    this.running = false;
    this.unwatchPressure();
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.deps.events.push('power.sleep', 'info', `sampling paused: ${reason}`, { reason });
    // The sleep/wake hold starts with the sleep notice and is timed by the wake (wake-hold.ts).
    this.startWakeHold(sleepNotice(this.clock.now()));
  }

  /** Resumes after a pause (wake); the wake also counts for the sleep/wake risk signal. */
  resume(reason: string): void {
    const now = this.clock.now();
    this.deps.events.push('power.wake', 'info', `sampling resumed: ${reason}`, { reason });
    this.risk.observe('power.wake', now);
    this.startWakeHold(wakeNotice(this.currentWakeHold(), now, this.wakeHoldSeconds, 'power-event'));
    this.lastTickAt = null;
    if (!this.running) this.start();
  }

  private get wakeHoldSeconds(): number {
    return this.deps.config.guard.wakeHoldSeconds;
  }

  /** The sleep/wake hold, read from the store once (a hold left asleep by a stopped daemon counts from now). */
  private wakeHold: WakeHold | null | undefined = undefined;
  private wakeHoldWasActive = false;

  private currentWakeHold(): WakeHold | null {
    if (this.wakeHold === undefined) {
      let h: WakeHold | null = null;
      try {
        h = readWakeHold(this.store);
      } catch {
        h = null;
      }
      // Running again means awake: a sleep notice with no wake (the process ended asleep) is a wake now.
      if (h && h.until === null) h = wakeNotice(h, this.clock.now(), this.wakeHoldSeconds, h.via);
      this.wakeHold = h;
    }
    return this.wakeHold;
  }

  /** Starts (or times) the sleep/wake hold: persisted, in the timeline, applied to the guard at once. */
  private startWakeHold(h: WakeHold): void {
    if (this.wakeHoldSeconds <= 0) return;
    this.wakeHold = h;
    try {
      writeWakeHold(this.store, h);
    } catch (e) {
      this.deps.logger.warn({ err: e }, `the sleep/wake hold could not be stored: ${(e as Error).message}`);
    }
    this.deps.events.push('guard.wake-hold', 'info', wakeHoldReason(h, this.wakeHoldSeconds), { ...h });
    try {
      this.applyGuardMode();
    } catch (e) {
      this.contain('wake-hold', e);
    }
  }

  /** The hold as the status, the API and the guard show it; null when it does not hold. */
  wakeHoldView(now: number = this.clock.now()): (WakeHoldView & WakeHold) | null {
    const h = this.currentWakeHold();
    if (!h || !wakeHoldActive(h, now)) return null;
    return { ...h, reason: wakeHoldReason(h, this.wakeHoldSeconds) };
  }

  /** A fault caught at an entry point: an event and a log line; the daemon carries on. */
  contain(where: string, e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    try {
      this.deps.logger.error({ err: e, where }, `fault in ${where}: ${message}`);
      this.deps.events.push('daemon.fault', 'error', `fault in ${where}: ${message}`, {
        where,
        error: message,
        stack: e instanceof Error ? e.stack : null,
      });
    } catch {
      // Reporting a fault must not raise another.
    }
  }

  /**
   * Records a fault at once (not with the next tick): for faults the process is about to exit on. Best effort;
   * returns whether it reached the disk.
   */
  recordFaultNow(where: string, e: unknown): boolean {
    const message = e instanceof Error ? e.message : String(e);
    try {
      this.store.writeEvent({
        time: this.clock.now(),
        kind: 'daemon.fault',
        severity: 'critical',
        message: `unhandled fault (${where}): ${message}`,
        data: { where, error: message, stack: e instanceof Error ? e.stack : null },
      });
      return true;
    } catch {
      return false;
    }
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
    this.running = false;
    this.unwatchPressure();
    this.configReload?.stop();
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    // Each part stops on its own: one that fails must not keep the database open.
    const parts: Array<[string, () => Promise<unknown> | undefined]> = [
      ['report watcher', () => this.reportWatcher.stop()],
      ['risk', () => this.risk.settle()],
      ['guard', () => this.guard?.stop()],
      ['api', () => this.api?.stop()],
      ['tick', () => this.inTick ?? undefined],
    ];
    for (const [what, step] of parts) {
      try {
        await step();
      } catch (e) {
        this.deps.logger.warn({ err: e }, `stopping the ${what} failed: ${(e as Error).message}`);
      }
    }
    try {
      // Ticks still held in memory go first; a disk still full keeps them (and the stop record) out.
      if (!this.writer.isDetached) this.writer.flush();
      this.store.writeEvent({
        time: this.clock.now(),
        kind: 'daemon.stopped',
        severity: 'info',
        message: `exo-sentinel stopped (${reason}) after ${this.ticks} ticks`,
        data: { reason, ticks: this.ticks },
      });
      for (const e of this.deps.events.drain()) this.store.writeEvent(e);
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (e) {
      const lost = this.writer.buffer.size;
      this.deps.logger.error(
        { err: e },
        `stopping: the timeline could not be written (${(e as Error).message}); ${lost} buffered tick(s) lost`,
      );
    } finally {
      this.db.close();
      this.attachedDb?.close();
      releaseLock(this.lockPath);
    }
  }
}
