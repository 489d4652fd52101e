import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { ReportRecord } from '../../../shared/reports.js';
import { LiveReportQueue } from './live-report-queue.js';
import { readReportFileCooperatively } from './report-file-reader.js';
import { MACOS_REPORTS, REPORT_FILE, type ReportIngester, type ReportNames } from './report-ingester.js';
import { type ScanLimited, type ScanLimits, type ScanResult, scanDirectory } from './report-scan.js';
import { ScanMemory } from './scan-memory.js';

export interface WatcherEvents {
  onReport(record: ReportRecord): void;
  onDirectoryProblem(dir: string, problem: string): void;
  /** A scan reached a limit (files read, names listed): what it left for the next scan. */
  onScanLimited(dir: string, limited: ScanLimited): void;
  /** A scan ended (or failed): `watched` for one of the watched directories, not of directories named by hand. */
  onScanEnd?(watched: boolean): void;
}

/**
 * Finds reports: a scan of every directory at start (reports are written after the reboot, usually before
 * anything of ours runs; panic-named files first), a chokidar watch afterwards (and one more scan once it
 * is ready, for files written in between), and a rescan on a timer for lost file-system events
 * and directories that appear later. The ledger makes all three idempotent. Scans run one at a time (the
 * first, the timer's, the API's) and share the event loop (report-scan.ts); a stop ends the scan in
 * progress at its next slice.
 */
export class ReportWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly problems = new Map<string, string>();
  private readonly memory = new ScanMemory();
  /** The last scan queued: the next one starts when it ends. */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private stopping = false;
  private starting: Promise<ScanResult[]> | null = null;
  private signalStop: () => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve) => {
    this.signalStop = resolve;
  });

  constructor(
    private readonly dirs: string[],
    private readonly ingester: ReportIngester,
    private readonly events: WatcherEvents,
    private readonly rescanMs = 60_000,
    private readonly limits: Partial<ScanLimits> = {},
  ) {}

  /** Scans the watched directories, after the scan in progress (if any). */
  scanAll(): Promise<ScanResult[]> {
    return this.exclusive(true, async () => {
      const results = await this.scanEach(this.dirs, MACOS_REPORTS);
      for (const r of results) {
        if (r.error && this.problems.get(r.dir) !== r.error) {
          this.problems.set(r.dir, r.error);
          this.events.onDirectoryProblem(r.dir, r.error);
        } else if (!r.error) this.problems.delete(r.dir);
      }
      return results;
    });
  }

  /** Scans directories named by hand (`panics scan --dir`), one at a time with the daemon's own scans. */
  scanOther(dirs: string[], names: ReportNames): Promise<ScanResult[]> {
    return this.exclusive(false, () => this.scanEach(dirs, names));
  }

  /** Whether a scan runs or waits. */
  get scanning(): boolean {
    return this.queued > 0;
  }

  private exclusive<T>(watched: boolean, scan: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.queue
      .then(scan)
      .finally(() => this.events.onScanEnd?.(watched))
      .finally(() => this.queued--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async scanEach(dirs: string[], names: ReportNames): Promise<ScanResult[]> {
    const results: ScanResult[] = [];
    for (const dir of dirs) {
      const r = await scanDirectory(this.ingester, dir, {
        names,
        limits: this.limits,
        memory: this.memory,
        aborted: () => this.stopping,
        onAdded: (records) => {
          for (const rec of records) this.events.onReport(rec);
        },
      });
      if (r.limited && !this.stopping) this.events.onScanLimited(dir, r.limited);
      results.push(r);
    }
    return results;
  }

  get directoryProblems(): Array<{ dir: string; problem: string }> {
    return [...this.problems].map(([dir, problem]) => ({ dir, problem }));
  }

  /**
   * The first scan, then the watch and the rescan timer. The daemon does not wait for it (its ticks start
   * at once); `onScanEnd` says when the first scan is done, and a stop waits for the start to end.
   */
  start(): Promise<ScanResult[]> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<ScanResult[]> {
    // A first scan that fails (the ledger cannot be written: disk full) must not leave the directories unwatched.
    let results: ScanResult[] = [];
    try {
      results = await this.scanAll();
    } catch (e) {
      this.events.onDirectoryProblem(this.dirs.join(', '), `scan failed: ${(e as Error).message}`);
    }
    if (this.stopping) return results;
    await this.watch();
    if (this.stopping) return results;
    // A file written after the first scan listed its directory and before the watch was ready was seen by
    // neither (the daemon does not wait for this start: a report can land right then). Read it now, not at
    // the first rescan.
    await this.scanAll().catch((e: unknown) =>
      this.events.onDirectoryProblem(this.dirs.join(', '), `rescan failed: ${(e as Error).message}`),
    );
    if (this.stopping) return results;
    this.timer = setInterval(() => {
      // A rescan still running (a big directory) is not queued behind again.
      if (this.scanning) return;
      this.scanAll().catch((e: unknown) =>
        this.events.onDirectoryProblem(this.dirs.join(', '), `rescan failed: ${(e as Error).message}`),
      );
    }, this.rescanMs);
    this.timer.unref();
    return results;
  }

  private async watch(): Promise<void> {
    const existing = this.dirs.filter((d) => existsSync(d));
    if (existing.length === 0) return;
    const { watch } = await import('chokidar');
    if (this.stopping) return;
    this.watcher = watch(existing, {
      depth: 0,
      ignoreInitial: true,
      awaitWriteFinish: { stabilityThreshold: 500, pollInterval: 100 },
      ignorePermissionErrors: false,
      ignored: (p: string, stats?: { isFile(): boolean }) => stats?.isFile() === true && !REPORT_FILE.test(p),
    });
    const onFile = (path: string): void => {
      if (!REPORT_FILE.test(basename(path))) return;
      const dir = this.dirs.find((d) => d === dirname(path)) ?? dirname(path);
      this.live.push(path, dir);
    };
    this.watcher.on('add', onFile).on('change', onFile);
    this.watcher.on('error', (e: unknown) => this.events.onDirectoryProblem(existing.join(', '), String(e)));
    // A stop before the watch is ready (a big directory) does not wait for it.
    await Promise.race([
      new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve())),
      this.stopped,
    ]);
  }

  /**
   * Files the watch saw, read one at a time, at most LIVE_QUEUE_MAX waiting; past that a scan takes the
   * flood in (bounded, panic-named files first). A read that fails is reported (a watcher callback that
   * threw would take the daemon down).
   */
  private readonly live = new LiveReportQueue(
    (path, dir) => this.ingestOne(path, dir),
    () => {
      if (!this.stopping) this.scanAll().catch(() => undefined);
    },
    (path, dir, e) => this.events.onDirectoryProblem(dir, `${basename(path)}: ${(e as Error).message}`),
  );

  /** A file the watch saw: read as a scan reads it (a large one a chunk per turn), then its row. */
  private async ingestOne(path: string, dir: string): Promise<void> {
    const state = this.ingester.lookup(path);
    if (state === 'known' || (state && this.memory.isCopy(state))) return;
    const read = await readReportFileCooperatively(path, dir);
    if (this.stopping) return;
    const o = this.ingester.ingestRead(path, dir, read);
    if (o.copy) this.memory.noteCopies([o.copy]);
    if (o.record) this.events.onReport(o.record);
  }

  /** Stops watching; a scan in progress ends at its next slice and is waited for (the ledger closes next). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A start still in its first scan or setting up the watch ends first (else its watch would outlive the stop).
    await this.starting?.catch(() => undefined);
    await this.watcher?.close();
    this.watcher = null;
    await this.live.close();
    await this.queue;
  }
}
