import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PanicScanLimited } from '../../../shared/api-contracts.js';
import type { ReportRecord } from '../../../shared/reports.js';
import { nextTurn } from '../util/turns.js';
import { readReportFileCooperatively, readReportFileUpTo, SYNC_READ_BYTES } from './report-file-reader.js';
import { type FileState, MACOS_REPORTS, type ReportIngester, type ReportNames } from './report-ingester.js';
import { listReportNames, MAX_LISTED_NAMES } from './report-listing.js';
import { ScanMemory } from './scan-memory.js';

/** What one scan of a directory may take in, and how it shares the event loop. */
export interface ScanLimits {
  /** Report files whose content is read per directory per scan; the rest waits for the next scan. */
  maxReads: number;
  /** Report names listed per directory (report-listing.ts). */
  maxNames: number;
  /** Work done in one turn of the event loop (and one ledger transaction), in ms. */
  sliceMs: number;
  /** Files larger than this are read a chunk per turn, outside any slice. */
  syncBytes: number;
}

/**
 * The daemon's scans: a directory an outsider stuffed with 100k files is taken in 20k reads per scan
 * (the rescan timer goes on from there), 10 ms of work at a time, so the memory tick, the API and the guard
 * never wait long for it.
 */
export const DAEMON_SCAN_LIMITS: ScanLimits = {
  maxReads: 20_000,
  maxNames: MAX_LISTED_NAMES,
  sliceMs: 10,
  syncBytes: SYNC_READ_BYTES,
};

/** What a scan left for the next one (present only when a limit was reached). */
export type ScanLimited = PanicScanLimited;

/** What a bounded scan left, for people: the files the next scan takes, the names never listed. */
export function scanLimitedText(l: ScanLimited): string {
  const parts: string[] = [];
  if (l.deferred > 0)
    parts.push(
      `${l.deferred} report files not looked at (at most ${l.maxReads} are read per scan; the next scan goes on from there)`,
    );
  if (l.unlisted > 0)
    parts.push(`${l.unlisted} report files past the first ${l.maxNames} names not looked at`);
  return parts.join('; ');
}

export interface ScanResult {
  dir: string;
  /** The names read (`*.panic`, `*.ips`, …). */
  names: readonly string[];
  files: number;
  added: ReportRecord[];
  /** The directory itself could not be listed. */
  error: string | null;
  limited?: ScanLimited;
}

export interface ScanOptions {
  names?: ReportNames;
  limits?: Partial<ScanLimits>;
  /** Kept across the scans of one daemon (copies already seen, where a bounded scan stopped). */
  memory?: ScanMemory;
  /** The rows of each slice once committed, in order: events can go out while the scan goes on. */
  onAdded?: (records: ReportRecord[]) => void;
  /** Checked between slices: a stopping daemon ends the scan there, before the ledger closes. */
  aborted?: () => boolean;
}

interface Slice {
  next: number;
  reads: number;
  records: ReportRecord[];
  copies: FileState[];
  /** A file too large to read within a slice, at `next`. */
  large: string | null;
}

/** Ingests files of `order` from `from` until the slice's time or the read budget is spent (synchronous). */
function runSlice(
  ingester: ReportIngester,
  dir: string,
  order: string[],
  from: number,
  budget: { reads: number; limits: ScanLimits; memory: ScanMemory },
): Slice {
  const started = performance.now();
  const s: Slice = { next: from, reads: 0, records: [], copies: [], large: null };
  while (s.next < order.length && budget.reads + s.reads < budget.limits.maxReads) {
    const path = join(dir, order[s.next]!);
    const state = ingester.lookup(path);
    if (state !== 'known' && !(state && budget.memory.isCopy(state))) {
      const read = readReportFileUpTo(path, dir, budget.limits.syncBytes);
      if (read === 'large') {
        s.large = path;
        return s;
      }
      const o = ingester.ingestRead(path, dir, read);
      if (o.read) s.reads++;
      if (o.record) s.records.push(o.record);
      if (o.copy) s.copies.push(o.copy);
    }
    s.next++;
    if (performance.now() - started >= budget.limits.sliceMs) break;
  }
  return s;
}

/**
 * Scans a directory cooperatively: the names listed off the main thread (panic-named files first, newest
 * first), then the files taken a slice at a time (each slice one transaction: one commit instead of one per row), a turn of the event loop between
 * slices, large files read a chunk per turn. At most `maxReads` files are read; a bounded scan says what it
 * left (`limited`) and, with a memory, the next scan goes on from there.
 */
export async function scanDirectory(
  ingester: ReportIngester,
  dir: string,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const names = options.names ?? MACOS_REPORTS;
  const limits = { ...DAEMON_SCAN_LIMITS, ...options.limits };
  const memory = options.memory ?? new ScanMemory();
  const aborted = options.aborted ?? (() => false);
  const listing = await listReportNames(dir, names.pattern, limits.maxNames);
  if (!listing.ok) return { dir, names: names.globs, files: 0, added: [], error: listing.error };
  // Panic-named files first, newest first: whatever else an outsider drops cannot delay a recent panic.
  // The rest goes on from where the last bounded scan stopped.
  const order = [...listing.first, ...memory.order(dir, listing.names)];
  const firstCount = listing.first.length;
  const added: ReportRecord[] = [];
  const took = (records: ReportRecord[]): void => {
    if (records.length === 0) return;
    added.push(...records);
    options.onAdded?.(records);
  };
  const budget = { reads: 0, limits, memory };
  let i = 0;
  while (i < order.length && budget.reads < limits.maxReads) {
    await nextTurn();
    if (aborted()) break;
    const slice = ingester.transaction(() => runSlice(ingester, dir, order, i, budget));
    memory.noteCopies(slice.copies);
    budget.reads += slice.reads;
    i = slice.next;
    took(slice.records);
    if (slice.large !== null) {
      const read = await readReportFileCooperatively(slice.large, dir, limits.syncBytes);
      if (aborted()) break;
      const o = ingester.transaction(() => ingester.ingestRead(slice.large!, dir, read));
      if (o.copy) memory.noteCopies([o.copy]);
      if (o.read) budget.reads++;
      took(o.record ? [o.record] : []);
      i++;
    }
  }
  // Where the scan stopped among the other names (stopped among the panic-named ones: where it was).
  if (i >= order.length) memory.stoppedAt(dir, undefined);
  else if (i > firstCount) memory.stoppedAt(dir, order[i - 1]);
  const result: ScanResult = {
    dir,
    names: names.globs,
    files: order.length + listing.unlisted,
    added,
    error: null,
  };
  if (i < order.length || listing.unlisted > 0)
    result.limited = {
      deferred: order.length - i,
      unlisted: listing.unlisted,
      maxReads: limits.maxReads,
      maxNames: limits.maxNames,
    };
  return result;
}
