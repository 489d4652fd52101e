import { TurnPacer } from '../util/turns.js';

/** Files the directory watch reported and not yet read, at most this many (the rest wait for a scan). */
export const LIVE_QUEUE_MAX = 1000;

/**
 * The files a directory watch reports, read one at a time. Anyone who can write into a report directory
 * (~/Library/Logs/DiagnosticReports is the user's) can add files faster than they are read: each read
 * used to start at once, thousands of reads and commits at the same time. Here one runs at a time, a file
 * reported again while it waits is queued once, and past `max` waiting files the rest are not kept:
 * `onOverflow` asks for a scan instead (bounded, panic-named files first: report-scan.ts), once when the
 * flood starts and once more when the queue has emptied if files were dropped after that.
 */
export class LiveReportQueue {
  private readonly waiting = new Map<string, string>();
  private running: Promise<void> | null = null;
  private overflowed = false;
  private closed = false;
  /** Files not kept because the queue was full (for tests and the log). */
  dropped = 0;
  /** `dropped` when a scan was last asked for. */
  private askedAt = 0;

  constructor(
    private readonly read: (path: string, dir: string) => Promise<void>,
    private readonly onOverflow: () => void,
    private readonly onError: (path: string, dir: string, e: unknown) => void,
    private readonly max = LIVE_QUEUE_MAX,
    private readonly sliceMs = 10,
  ) {}

  get size(): number {
    return this.waiting.size;
  }

  push(path: string, dir: string): void {
    if (this.closed || this.waiting.has(path)) return;
    if (this.waiting.size >= this.max) {
      this.dropped++;
      if (!this.overflowed) {
        this.overflowed = true;
        this.askedAt = this.dropped;
        this.onOverflow();
      }
      return;
    }
    this.waiting.set(path, dir);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    // A small file reads without a real wait (its promise resolves at once): without a turn now and then
    // a flood of them ran as one microtask chain, timers held for 0.8 s.
    const pacer = new TurnPacer(this.sliceMs);
    for (;;) {
      const next = this.waiting.entries().next();
      if (next.done || this.closed) break;
      const [path, dir] = next.value;
      this.waiting.delete(path);
      try {
        await this.read(path, dir);
      } catch (e) {
        this.onError(path, dir, e);
      }
      await pacer.pace();
    }
    // Files dropped after the scan was asked for may have come after it listed the directory (a panic
    // among them would wait for the next rescan, a minute later): one more scan takes them in.
    if (!this.closed && this.overflowed && this.dropped > this.askedAt) {
      this.askedAt = this.dropped;
      this.onOverflow();
    }
    // Emptied: a new flood asks for a scan again.
    this.overflowed = false;
  }

  /** Takes no more files, forgets the waiting ones and resolves when the read in progress ends. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiting.clear();
    await this.running;
  }
}
