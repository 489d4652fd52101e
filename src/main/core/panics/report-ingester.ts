import { lstatSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ReportCategory, ReportRecord } from '../../../shared/reports.js';
import type { NewReport, ReportStore } from '../store/report-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { attributePanic } from './panic-attribution.js';
import { parsePanicReport } from './panic-parser.js';
import { readContainer } from './report-container.js';
import { type ReadOutcome, readReportFile } from './report-file-reader.js';
import { parseJetsamEvent, parseUserCrash } from './user-crash-parser.js';

/** The names a report directory is scanned for: what macOS writes. */
export const REPORT_NAMES = ['*.panic', '*.ips'] as const;
export const REPORT_FILE = /\.(panic|ips)$/i;
/** With `panics scan --dir`: also pasted copies (`.txt`, e.g. `panic-full-….panic.txt` re-attached to an issue). */
export const PASTED_REPORT_NAMES = ['*.panic', '*.ips', '*.txt'] as const;
export const PASTED_REPORT_FILE = /\.(panic|ips|txt)$/i;

/** Which file names a scan reads. */
export interface ReportNames {
  pattern: RegExp;
  /** For people: `*.panic, *.ips`. */
  globs: readonly string[];
}
export const MACOS_REPORTS: ReportNames = { pattern: REPORT_FILE, globs: REPORT_NAMES };
export const REPORTS_AND_PASTED_COPIES: ReportNames = {
  pattern: PASTED_REPORT_FILE,
  globs: PASTED_REPORT_NAMES,
};

/** Why a file is kept in the ledger but is not a kernel panic. */
export const NOT_A_PANIC = 'not a kernel panic: no panic line, panicked task or panic log fields in the text';

/** Where macOS writes reports: panics system-wide, crashes of the user's processes under ~. */
export function defaultReportDirs(platform = process.platform, home = process.env['HOME'] ?? ''): string[] {
  if (platform !== 'darwin') return [];
  return [
    '/Library/Logs/DiagnosticReports',
    '/Library/Logs/DiagnosticReports/Retired',
    ...(home ? [join(home, 'Library', 'Logs', 'DiagnosticReports')] : []),
  ];
}

/** A file as the ledger keys it. */
export interface FileState {
  path: string;
  mtime: number;
  size: number;
}

/** What ingesting one file did. */
export interface IngestOutcome {
  /** The new (or newly completed) row; null when the ledger already had the file or its content. */
  record: ReportRecord | null;
  /** The file's content was read. */
  read: boolean;
  /** The content is already in the ledger under another name: this copy's state (never added). */
  copy: FileState | null;
}

const WATCHED_CRASH_NAME = /^(exo|python3?(\.\d+)?|Python|node)$/;

/** How much a row says: skipped or unreadable, a report, a panic of unknown kind, a panic of a known kind. */
function says(r: Pick<NewReport, 'status' | 'category' | 'kind'>): number {
  if (r.status !== 'ingested') return 0;
  if (r.category !== 'panic') return 1;
  return r.kind === null || r.kind === 'unknown' ? 2 : 3;
}

/**
 * Whether `row`, read from a file that was read before as `before`, is that report completed: the file grew,
 * the panic time is the one stored (or none was), and it says at least as much, a known panic kind the same.
 */
function completes(before: ReportRecord, row: NewReport): boolean {
  if (row.size <= before.size) return false;
  if (before.panicTime !== null && row.panicTime !== before.panicTime) return false;
  if (says(row) < says(before)) return false;
  return says(before) < 3 || row.kind === before.kind;
}

/**
 * Turns report files into ledger rows, each exactly once: a file state already in the ledger
 * (path, mtime, size) is skipped without reading; content already ingested under another name (moved
 * to Retired/) is not added again; a file once unreadable is completed when it can be read. Reading a
 * file and deciding its row are separate steps, so a scan can read off the main thread and write its rows
 * a slice at a time (report-scan.ts).
 */
export class ReportIngester {
  constructor(
    private readonly reports: ReportStore,
    private readonly timeline: TimelineStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `fn` in one ledger transaction (a scan's slice: one commit for many rows). */
  transaction<T>(fn: () => T): T {
    return this.reports.inTransaction(fn);
  }

  /**
   * Whether the file must be read: 'known' when the ledger has this file state (and not as unreadable), else
   * its state now (null when it cannot be stat'ed: reading says why).
   */
  lookup(path: string): 'known' | FileState | null {
    // A file state the ledger has (path, mtime, size) is skipped without being read: rescans stay cheap.
    try {
      const st = lstatSync(path);
      const state = { path, mtime: Math.round(st.mtimeMs), size: st.size };
      const status = this.reports.fileStatus(path, state.mtime, state.size);
      return status !== null && status !== 'unreadable' ? 'known' : state;
    } catch {
      return null; // Gone or unreadable: readReportFile says which.
    }
  }

  /** Ingests one file; returns the new (or newly completed) row, or null if the ledger already had it. */
  ingestFile(path: string, dir: string): ReportRecord | null {
    if (this.lookup(path) === 'known') return null;
    return this.ingestRead(path, dir, readReportFile(path, dir)).record;
  }

  /** The ledger's side of ingesting a file that was just read (or found unreadable). */
  ingestRead(path: string, dir: string, read: ReadOutcome): IngestOutcome {
    const nothing = { record: null, read: read.ok, copy: null };
    if (read.ok) {
      const known = this.reports.fileStatus(path, read.mtime, read.size);
      if (known !== null && known !== 'unreadable') return nothing;
      if (this.reports.hasSha(read.sha256))
        return { ...nothing, copy: { path, mtime: read.mtime, size: read.size } };
      const row = this.describe(path, dir, read);
      const earlier = this.reports.unreadableAt(path);
      if (earlier) {
        this.reports.complete(earlier.id, row);
        return { ...nothing, record: this.reports.get(earlier.id) };
      }
      // The same file read again after it grew (read while macOS still wrote it): the same report, completed
      // in its row, so one panic is one row; news to the caller (events, the risk) only when it now says
      // something else. Anything else is a row of its own and the stored one stays as it is: a file rewritten
      // smaller, with another panic time, or saying less (a panic made `{}`) must not erase a panic.
      const before = this.reports.readAt(path);
      if (before && completes(before, row)) {
        this.reports.complete(before.id, row);
        const changed =
          before.category !== row.category || before.kind !== row.kind || before.status !== row.status;
        return { ...nothing, record: changed ? this.reports.get(before.id) : null };
      }
      return { ...nothing, record: this.reports.get(this.reports.insert(row)) };
    }
    if (read.reason === 'gone') return nothing;
    if (this.reports.fileStatus(path, read.mtime, read.size) !== null || this.reports.unreadableAt(path))
      return nothing;
    const id = this.reports.insert({
      ...this.base(path, dir, read.size, read.mtime),
      sha256: null,
      status: read.reason === 'unreadable' ? 'unreadable' : 'skipped',
      problem: read.problem,
    });
    return { ...nothing, record: this.reports.get(id) };
  }

  private base(path: string, dir: string, size: number, mtime: number): NewReport {
    return {
      path,
      name: basename(path),
      dir,
      size,
      mtime,
      sha256: null,
      status: 'ingested',
      problem: null,
      category: null,
      bugType: null,
      kind: null,
      panicTime: null,
      pid: null,
      processName: null,
      attribution: null,
      info: null,
      ingestedAt: this.now(),
    };
  }

  private daemonWasRunning(time: number): boolean {
    return this.timeline.lastSampleTime(time + 5_000, time - 60_000) !== null;
  }

  /** The ledger row for a report that was read: by its bug_type, a JetsamEvent, a crash, a panic or skipped. */
  private describe(path: string, dir: string, read: Extract<ReadOutcome, { ok: true }>): NewReport {
    const row: NewReport = { ...this.base(path, dir, read.size, read.mtime), sha256: read.sha256 };
    const bug = readContainer(read.text.slice(0, 4096)).bugType;
    if (bug === '298') return this.describeJetsam(row, read.text);
    if (bug === '309') return this.describeCrash(row, read);
    if (bug !== null && bug !== '210') {
      return {
        ...row,
        status: 'skipped',
        category: 'other',
        bugType: bug,
        problem: `bug_type ${bug} is not a report exo-sentinel reads`,
      };
    }
    return this.describePanic(row, path, bug, read);
  }

  private describeJetsam(row: NewReport, text: string): NewReport {
    const j = parseJetsamEvent(text);
    return {
      ...row,
      category: 'jetsam',
      bugType: '298',
      kind: 'jetsam',
      panicTime: j?.time ? Date.parse(j.time) : null,
      info: j ? { ...j } : null,
    };
  }

  /** A user-space crash: kept as a report when the crashed process is one we watch, else skipped. */
  private describeCrash(row: NewReport, read: Extract<ReadOutcome, { ok: true }>): NewReport {
    const c = parseUserCrash(read.text);
    if (!c)
      return {
        ...row,
        status: 'skipped',
        category: 'crash',
        bugType: '309',
        problem: 'crash report without a readable body',
      };
    const time = c.crashTime ? Date.parse(c.crashTime) : read.mtime;
    const attribution =
      c.pid !== null && c.processName
        ? attributePanic(
            c.pid,
            c.processName,
            { time, exact: c.crashTime !== null },
            this.timeline.processesByPid(c.pid),
            this.daemonWasRunning(time),
          )
        : null;
    const watched =
      (attribution?.process !== null && attribution?.process !== undefined) ||
      /\/EXO\.app\//.test(c.processPath ?? '') ||
      (c.processName !== null && WATCHED_CRASH_NAME.test(c.processName) && attribution?.verdict !== 'other');
    return {
      ...row,
      status: watched ? 'ingested' : 'skipped',
      problem: watched
        ? null
        : `crash of ${c.processName ?? '?'} (pid ${c.pid ?? '?'}), not a watched process`,
      category: 'crash',
      bugType: '309',
      kind: c.cause,
      panicTime: c.crashTime ? Date.parse(c.crashTime) : null,
      pid: c.pid,
      processName: c.processName,
      attribution,
      info: { ...c },
    };
  }

  /** A kernel panic (bug_type 210, or a pasted panic text): parsed, and the panicked process attributed. */
  private describePanic(
    row: NewReport,
    path: string,
    bug: string | null,
    read: Extract<ReadOutcome, { ok: true }>,
  ): NewReport {
    const p = parsePanicReport(read.text);
    // Kept in the ledger (never read again), never counted or listed as a panic.
    if (!p.hasPanicText) {
      return { ...row, status: 'skipped', category: 'other', bugType: bug, problem: NOT_A_PANIC };
    }
    if (bug === null && !/\.(panic|txt)$/i.test(path) && p.panicLine === null) {
      return { ...row, status: 'skipped', category: 'other', problem: 'no report header and no panic line' };
    }
    const panicTime = p.panicTime ? Date.parse(p.panicTime) : null;
    const when = { time: panicTime ?? read.mtime, exact: panicTime !== null };
    const attribution = p.process
      ? attributePanic(
          p.process.pid,
          p.process.name,
          when,
          this.timeline.processesByPid(p.process.pid),
          this.daemonWasRunning(when.time),
        )
      : null;
    const category: ReportCategory = 'panic';
    return {
      ...row,
      category,
      bugType: bug ?? '210',
      kind: p.kind,
      panicTime,
      pid: p.process?.pid ?? null,
      processName: p.process?.name ?? null,
      attribution,
      info: { ...p, truncatedRead: read.truncated },
    };
  }
}
