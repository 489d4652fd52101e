import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { ReportRecord } from '../../../shared/reports.js';
import { REPORT_FILE, type ReportIngester, type ScanResult } from './report-ingester.js';

export interface WatcherEvents {
  onReport(record: ReportRecord): void;
  onDirectoryProblem(dir: string, problem: string): void;
}

/**
 * Finds reports: a scan of every directory at start (reports are written after the reboot, usually before
 * anything of ours runs), a chokidar watch afterwards, and a rescan on a timer for lost file-system events
 * and directories that appear later. The ledger makes all three idempotent.
 */
export class ReportWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly problems = new Map<string, string>();

  constructor(
    private readonly dirs: string[],
    private readonly ingester: ReportIngester,
    private readonly events: WatcherEvents,
    private readonly rescanMs = 60_000,
  ) {}

  scanAll(): ScanResult[] {
    const results = this.dirs.map((d) => this.ingester.scanDirectory(d));
    for (const r of results) {
      for (const rec of r.added) this.events.onReport(rec);
      if (r.error && this.problems.get(r.dir) !== r.error) {
        this.problems.set(r.dir, r.error);
        this.events.onDirectoryProblem(r.dir, r.error);
      } else if (!r.error) this.problems.delete(r.dir);
    }
    return results;
  }

  get directoryProblems(): Array<{ dir: string; problem: string }> {
    return [...this.problems].map(([dir, problem]) => ({ dir, problem }));
  }

  async start(): Promise<ScanResult[]> {
    // A first scan that fails (the ledger cannot be written: disk full) must not leave the directories unwatched.
    let results: ScanResult[] = [];
    try {
      results = this.scanAll();
    } catch (e) {
      this.events.onDirectoryProblem(this.dirs.join(', '), `scan failed: ${(e as Error).message}`);
    }
    const existing = this.dirs.filter((d) => existsSync(d));
    if (existing.length > 0) {
      const { watch } = await import('chokidar');
      this.watcher = watch(existing, {
        depth: 0,
        ignoreInitial: true,
        awaitWriteFinish: { stabilityThreshold: 500, pollInterval: 100 },
        ignorePermissionErrors: false,
        ignored: (p: string, stats?: { isFile(): boolean }) =>
          stats?.isFile() === true && !REPORT_FILE.test(p),
      });
      const onFile = (path: string): void => {
        if (!REPORT_FILE.test(basename(path))) return;
        const dir = this.dirs.find((d) => d === dirname(path)) ?? dirname(path);
        // A watcher callback that throws would take the daemon down: the failure is reported instead.
        try {
          const rec = this.ingester.ingestFile(path, dir);
          if (rec) this.events.onReport(rec);
        } catch (e) {
          this.events.onDirectoryProblem(dir, `${basename(path)}: ${(e as Error).message}`);
        }
      };
      this.watcher.on('add', onFile).on('change', onFile);
      this.watcher.on('error', (e: unknown) =>
        this.events.onDirectoryProblem(existing.join(', '), String(e)),
      );
      await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    }
    this.timer = setInterval(() => {
      try {
        this.scanAll();
      } catch (e) {
        this.events.onDirectoryProblem(this.dirs.join(', '), `rescan failed: ${(e as Error).message}`);
      }
    }, this.rescanMs);
    this.timer.unref();
    return results;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.watcher?.close();
    this.watcher = null;
  }
}
