import type { LiveEvent, Publish } from '../../shared/live-events.js';
import type { ReportRecord } from '../../shared/reports.js';
import type { Sample } from '../../shared/sample.js';
import type { StatusView } from '../../shared/status-view.js';
import { ActionRunner } from './actions/action-runner.js';
import { AuditStore } from './actions/audit-store.js';
import { DesktopNotifier } from './actions/desktop-notifier.js';
import { HeadlessNotifier, type Notifier } from './actions/notifier.js';
import type { ApiServer } from './api/api-server.js';
import { Metrics } from './api/metrics.js';
import { collectCluster } from './cluster/cluster-view.js';
import type { ConfigResult } from './config/config-loader.js';
import type { ReloadOutcome, ReloadTrigger } from './config/config-reload.js';
import type { Config } from './config/config-schema.js';
import { paths } from './config/data-dir.js';
import { type Clock, systemClock } from './daemon/clock.js';
import { ConfigApplication } from './daemon/config-application.js';
import { DaemonRuntime, type StartResult } from './daemon/daemon-runtime.js';
import { buildAdvisory, buildStatusView } from './daemon/daemon-views.js';
import {
  buildApi,
  buildGuard,
  buildReportWatcher,
  containFault,
  writeFaultNow,
} from './daemon/daemon-wiring.js';
import { GuardDecision } from './daemon/guard-decision.js';
import { ReportNotices } from './daemon/report-notices.js';
import { TimelineStorage } from './daemon/timeline-storage.js';
import type { EventCollector } from './event-collector.js';
import { ExoApiClient } from './exo/exo-api-client.js';
import { ExoPidfileWatch, exoHome } from './exo/exo-pidfile.js';
import type { GuardServer } from './guard/guard-server.js';
import { type AcquireResult, acquireLock } from './instance-lock.js';
import type { Logger } from './logger.js';
import { panicCountsByKind } from './panics/panic-summary.js';
import { REPORTS_AND_PASTED_COPIES } from './panics/report-ingester.js';
import type { ReportWatcher } from './panics/report-watcher.js';
import type { PlatformProbe } from './probes/probe-types.js';
import { RiskPipeline } from './risk/risk-pipeline.js';
import { Sampler, type TickResult } from './sampler.js';
import { type Advisory, SentinelService } from './service/sentinel-service.js';
import type { DatabaseConstructor } from './store/database.js';
import { ReportStore } from './store/report-store.js';
import type { TimelineStore } from './store/timeline-store.js';
import { compilePattern } from './util/linear-regexp.js';

export { type Clock, systemClock } from './daemon/clock.js';
export type { StartResult } from './daemon/daemon-runtime.js';
export { StartRefused } from './daemon/daemon-wiring.js';
export { VERSION } from './version.js';

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

/**
 * The composition root: builds the daemon's parts and wires them — storage (daemon/timeline-storage),
 * sampler, risk, actions, the guard decision (daemon/guard-decision), the guard, the configuration reloads
 * (daemon/config-application), the service the shells use and the API in front of it — and hands them to
 * the runtime (daemon/daemon-runtime: start, ticks, sleep and wake, stop). Only the shells' roots import
 * it (.dependency-cruiser.cjs); everything they read or change goes through `service`.
 */
export class Daemon {
  /** What the shells (the API, the app, the CLI through the API) read and change. */
  readonly service: SentinelService;
  /** The guard and the API, for the shell's start line (their addresses); null when turned off. */
  readonly guard: GuardServer | null;
  readonly api: ApiServer | null;
  /** Called once a daemon that started without a writable database has written its buffered ticks into it. */
  onStorageBack: (() => void) | null = null;
  /** Called once when the timeline's file is found removed or replaced (the shell restarts on it). */
  onStorageGone: (() => void) | null = null;
  /** Called once when another daemon took this data directory's lock (its pidfile was removed). */
  onLockLost: (() => void) | null = null;
  /** Receives what the API streams over SSE (`sample`, `event`, `level`, `panic`), for in-process shells. */
  onPublish: ((message: LiveEvent) => void) | null = null;
  /** The headless daemon's desktop banners (null when a shell brings its own notifier). */
  desktop: DesktopNotifier | null = null;
  private readonly store: TimelineStore;
  private readonly reports: ReportStore;
  private readonly reportWatcher: ReportWatcher;
  private readonly reportNotices: ReportNotices;
  private readonly audit: AuditStore;
  private readonly risk: RiskPipeline;
  private readonly metrics = new Metrics();
  private readonly clock: Clock;
  private readonly storage: TimelineStorage;
  private readonly exoClient: ExoApiClient;
  private readonly startedAt: number;
  private readonly actionRunner: ActionRunner;
  private readonly decision: GuardDecision;
  private readonly configs: ConfigApplication;
  private readonly runtime: DaemonRuntime;
  private readonly lock: AcquireResult;

  constructor(private readonly deps: DaemonDeps) {
    this.clock = deps.clock ?? systemClock;
    this.startedAt = this.clock.now();
    const { events, logger, config } = deps;
    // The lock first: only its holder touches the database on disk (moving a damaged one aside, copying out of
    // it); a second daemon started at the same moment stops at begin() having changed nothing.
    this.lock = acquireLock(paths(deps.dataDir).pidfile, this.startedAt);
    this.storage = new TimelineStorage({
      path: paths(deps.dataDir).database,
      intervalSeconds: config.intervalSeconds,
      events,
      logger,
      Driver: deps.Driver,
      owner: this.lock.ok,
    });
    this.store = this.storage.store;
    this.reports = new ReportStore(this.storage.db);
    this.audit = new AuditStore(this.storage.db);
    this.exoClient = new ExoApiClient(config.exo.url, config.exo.timeoutMs);
    this.desktop = deps.notifier ? null : new DesktopNotifier({ mode: config.notifications.desktop });
    this.actionRunner = new ActionRunner(
      config.actions,
      this.store,
      this.audit,
      deps.notifier ?? new HeadlessNotifier(logger, config.actions.notify.command, 10_000, this.desktop),
      this.exoClient,
      // One place decides the mode (hand pin, else hold, else level): the runner's level mode never skips a pin.
      () => this.decision.apply(),
    );
    this.guard = buildGuard(config, events, this.metrics);
    this.risk = new RiskPipeline(
      config,
      this.store,
      this.reports,
      events,
      this.actionRunner,
      this.exoClient,
      config.exo.home ?? exoHome(),
      this.clock.now(),
      () => this.clock.now(),
    );
    this.decision = new GuardDecision({
      store: this.store,
      audit: this.audit,
      risk: this.risk,
      guard: this.guard,
      config: () => this.deps.config,
      events,
      logger,
      clock: this.clock,
      platformAffected: () => this.advisory().platform.affected === true,
      contain: (where, e) => this.contain(where, e),
    });
    this.configs = this.buildConfigApplication();
    this.service = this.buildService();
    this.api = buildApi(config, paths(deps.dataDir).apiToken, logger, events, this.metrics, this.service);
    this.reportWatcher = buildReportWatcher({
      dirs: deps.reportDirs,
      config,
      reports: this.reports,
      store: this.store,
      now: () => this.clock.now(),
      events,
      onReport: (r) => this.onReport(r),
      onScanEnd: (watched) => {
        this.reportNotices.flush();
        if (watched) this.runtime.firstScanEnded();
      },
    });
    this.reportNotices = new ReportNotices({ events, logger, scanning: () => this.reportWatcher.scanning });
    this.runtime = this.buildRuntime();
  }

  private buildRuntime(): DaemonRuntime {
    const { deps } = this;
    const patterns = deps.config.watch.mlxServerPatterns.map(compilePattern);
    const pidfile = new ExoPidfileWatch(deps.exoPidfile);
    return new DaemonRuntime({
      dataDir: deps.dataDir,
      config: () => deps.config,
      probe: deps.probe,
      events: deps.events,
      logger: deps.logger,
      clock: this.clock,
      lockPath: paths(deps.dataDir).pidfile,
      lock: this.lock,
      storage: this.storage,
      sampler: new Sampler(deps.probe, () => ({
        pidfilePid: pidfile.current(),
        mlxServerPatterns: patterns,
      })),
      risk: this.risk,
      decision: this.decision,
      guard: this.guard,
      api: this.api,
      reportWatcher: this.reportWatcher,
      configs: this.configs,
      publisher: { metrics: this.metrics, risk: this.risk, reports: this.reports, publish: this.publish },
      onStorageBack: () => this.onStorageBack,
      onStorageGone: () => this.onStorageGone,
      onLockLost: () => this.onLockLost,
      contain: (where, e) => this.contain(where, e),
    });
  }

  private buildConfigApplication(): ConfigApplication {
    return new ConfigApplication({
      locate: () => this.configPath,
      current: () => this.deps.config,
      guardAddress: () => this.guard?.address ?? null,
      applyLive: (next) => {
        this.deps.config = next;
        this.risk.reconfigure(next);
        for (const e of this.actionRunner.setConfig(next.actions))
          this.deps.events.push(e.kind, e.severity, e.message, e.data, e.time);
        this.guard?.reconfigure(next.guard);
        this.desktop?.setMode(next.notifications.desktop);
        this.deps.logger.level = next.logLevel;
        this.decision.apply();
      },
      events: this.deps.events,
      logger: this.deps.logger,
      now: () => this.clock.now(),
    });
  }

  private buildService(): SentinelService {
    return new SentinelService({
      timeline: this.store,
      reports: this.reports,
      audit: this.audit,
      now: () => this.clock.now(),
      status: () => this.statusView(),
      config: () => this.deps.config,
      configPath: () => this.configPath,
      configReload: { state: () => this.configs.state, reload: (trigger) => this.configs.reload(trigger) },
      guard: {
        pin: (mode, by) => this.decision.pin(mode, by),
        profile: () => this.decision.profileView(),
        chooseProfile: (profile, by) => this.decision.chooseProfile(profile, by),
      },
      advisory: () => this.advisory(),
      cluster: () =>
        collectCluster(
          this.statusView(),
          this.deps.config.cluster,
          this.exoClient,
          this.risk.monitor.snapshot.nodeId,
        ),
      // Directories named by hand may hold copies pasted from issues; they queue with the daemon's own scans.
      scan: (dirs) =>
        dirs ? this.reportWatcher.scanOther(dirs, REPORTS_AND_PASTED_COPIES) : this.reportWatcher.scanAll(),
    });
  }

  get tickCount(): number {
    return this.runtime.ticks;
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
    return this.runtime.latest;
  }

  /** Takes the data directory's lock and records the start (and an unclean previous stop, if any). */
  begin(): Promise<StartResult> {
    return this.runtime.begin();
  }

  /** Starts the loop; ticks are aligned to the interval and never overlap (a slow tick skips the next). */
  start(): void {
    this.runtime.start();
  }

  /** One tick now (benches and tests; the loop calls it on its own). */
  tickOnce(): Promise<TickResult | null> {
    return this.runtime.tickOnce();
  }

  /** Pauses sampling (the machine is going to sleep); the timeline notes it. */
  pause(reason: string): void {
    this.runtime.pause(reason);
  }

  /** Resumes after a pause (wake); the wake also counts for the sleep/wake risk signal. */
  resume(reason: string): void {
    this.runtime.resume(reason);
  }

  /** Stops the loop, waits for the tick in flight, records the stop and closes the database (once). */
  stop(reason: string): Promise<void> {
    this.stopping = true;
    // Skipped reports the directory watch saw and not yet summed up (a scan ending in the stop sums up its own).
    this.reportNotices.flush();
    return this.runtime.stop(reason);
  }

  /** A storage note from outside the timeline (the log file); null clears it. */
  noteStorage(key: string, message: string | null): void {
    this.storage.writer.health.note(key, message);
  }

  /** The panic metrics wait for the end of the slice of the scan that found a panic (see onReport). */
  private panicsPending = false;
  /** Set when stop begins: work queued before it (the panic count) must not reach a closed database. */
  private stopping = false;

  /**
   * A new row in the ledger: the panic metrics, the risk engine (judged again at once for a panic), and
   * what the log and the timeline say of it (bounded: report-notices.ts).
   */
  private onReport(r: ReportRecord): void {
    // Counted once per turn of the event loop (a scan's slice), not per report, and by SQLite: a directory
    // of 5000 panics read the whole ledger 5000 times (107 s with the event loop held). The tick runs after
    // the hold a recent panic starts (queued as a promise: before setImmediate).
    if (r.category === 'panic' && r.status === 'ingested' && !this.panicsPending) {
      this.panicsPending = true;
      setImmediate(() => {
        this.panicsPending = false;
        if (this.stopping) return;
        this.metrics.setPanics(panicCountsByKind(this.reports));
        this.runtime.reportFound();
      });
    }
    this.risk.onReport(r, this.clock.now());
    this.reportNotices.add(r);
  }

  /** Resolves once the first scan of the report directories has ended (the ticks do not wait for it). */
  reportsScanned(): Promise<void> {
    return this.runtime.reportsScanned();
  }

  /** One live message to every listener: the API's SSE clients and the app's dashboard window. */
  private readonly publish: Publish = (event, data) => {
    this.api?.broadcast(event, data);
    // TypeScript cannot tie the generic name to its data inside a union; `Publish` already checked the pair.
    this.onPublish?.({ event, data } as LiveEvent);
  };

  /** The platform advisory for this machine and the loaded models' public reports. */
  private advisory(): Advisory {
    return buildAdvisory(this.store, this.risk);
  }

  /** The daemon's live view, as `/api/v1/status` serves it. */
  private statusView(): StatusView {
    return buildStatusView(
      {
        store: this.store,
        reports: this.reports,
        risk: this.risk,
        guard: this.guard,
        decision: this.decision,
        probe: this.deps.probe,
        config: () => this.deps.config,
        dataDir: this.deps.dataDir,
        startedAt: this.startedAt,
        ticks: () => this.runtime.ticks,
        latest: () => this.runtime.latest,
        storage: () => this.storage.writer.status(),
        reload: () => this.configs.state,
      },
      this.clock.now(),
    );
  }

  /** Reloads the configuration file when it changes and when asked (SIGHUP, the API, the app). */
  watchConfig(load: (path: string) => ConfigResult): void {
    this.configs.watch(load);
  }

  /** Reads the configuration file now (null when the shell did not ask for reloads). */
  reloadConfig(trigger: ReloadTrigger): ReloadOutcome | null {
    return this.configs.reload(trigger);
  }

  /** A fault caught at an entry point: an event and a log line; the daemon carries on. */
  contain(where: string, e: unknown): void {
    containFault(this.deps.logger, this.deps.events, where, e);
  }

  /** Records a fault at once (not with the next tick): for faults the process is about to exit on. */
  recordFaultNow(where: string, e: unknown): boolean {
    return writeFaultNow(this.store, this.clock.now(), where, e);
  }
}
