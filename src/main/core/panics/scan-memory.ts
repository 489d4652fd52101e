import type { FileState } from './report-ingester.js';

/** Copies remembered at most (a path and a short key each: a few MiB at most). */
const MAX_COPIES = 50_000;

/**
 * What the daemon's scans remember between runs, in memory only:
 * - copies: files read whose content the ledger already has under another name (a report moved to
 *   Retired/, a pasted duplicate). They get no row, so without this every rescan read and hashed them
 *   again; a copy is read again only when its time or size changes (the ledger keeps every content for
 *   good, so a copy stays a copy);
 * - where a scan stopped when its read budget ran out: the next scan of that directory goes on from the
 *   following name and wraps around, so every file is reached however many an outsider drops in front.
 */
export class ScanMemory {
  private readonly copies = new Map<string, string>();
  private readonly cursors = new Map<string, string>();

  constructor(private readonly maxCopies = MAX_COPIES) {}

  isCopy(s: FileState): boolean {
    return this.copies.get(s.path) === `${s.mtime}:${s.size}`;
  }

  noteCopies(list: readonly FileState[]): void {
    for (const s of list) {
      this.copies.delete(s.path);
      this.copies.set(s.path, `${s.mtime}:${s.size}`);
      if (this.copies.size > this.maxCopies) {
        const oldest = this.copies.keys().next().value;
        if (oldest !== undefined) this.copies.delete(oldest);
      }
    }
  }

  /** The sorted names in the order this scan takes them: after where the last bounded scan stopped, then from the start. */
  order(dir: string, names: string[]): string[] {
    const after = this.cursors.get(dir);
    if (after === undefined) return names;
    let lo = 0;
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (names[mid]! <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 || lo === names.length ? names : [...names.slice(lo), ...names.slice(0, lo)];
  }

  /** A scan of `dir` stopped after `name` (undefined: it looked at every name). */
  stoppedAt(dir: string, name: string | undefined): void {
    if (name === undefined) this.cursors.delete(dir);
    else this.cursors.set(dir, name);
  }
}
