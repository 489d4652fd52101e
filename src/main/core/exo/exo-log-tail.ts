import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { type ExoLogEvent, parseExoLogLine } from './exo-log-parser.js';

/** At most this much of an existing log is read when the tail starts (the log rotates on every EXO start). */
const INITIAL_TAIL_BYTES = 4 * 1024 * 1024;
const MAX_READ_PER_POLL = 1024 * 1024;

/**
 * Follows EXO's log by polling: each call reads what was appended since the last one. A log that was
 * rotated (another file at the path, or a shorter one) is followed from its start. A missing log is not
 * an error: EXO may not be installed or not started yet.
 */
export class ExoLogTail {
  private ino: number | null = null;
  private offset = 0;
  private partial = '';

  constructor(readonly path: string) {}

  poll(): { events: ExoLogEvent[]; rotated: boolean; missing: boolean } {
    // Asked every tick, and the log is missing wherever EXO is not installed: no exception for that case.
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(this.path, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (!st) return { events: [], rotated: false, missing: true };
    if (!st.isFile()) return { events: [], rotated: false, missing: true };
    let rotated = false;
    if (this.ino === null) {
      this.ino = Number(st.ino);
      this.offset = Math.max(0, Number(st.size) - INITIAL_TAIL_BYTES);
    } else if (Number(st.ino) !== this.ino || Number(st.size) < this.offset) {
      this.ino = Number(st.ino);
      this.offset = 0;
      this.partial = '';
      rotated = true;
    }
    if (Number(st.size) <= this.offset) return { events: [], rotated, missing: false };
    let fd: number;
    try {
      // Non-blocking: a FIFO swapped in after the stat must not hold the tick until something writes to it.
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return { events: [], rotated, missing: true };
    }
    try {
      const opened = fstatSync(fd);
      if (!opened.isFile()) return { events: [], rotated, missing: true };
      const size = Number(opened.size);
      const length = Math.min(size - this.offset, MAX_READ_PER_POLL);
      const buf = Buffer.alloc(length);
      const n = readSync(fd, buf, 0, length, this.offset);
      this.offset += n;
      const text = this.partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      if (this.partial.length > 64 * 1024) this.partial = '';
      const events: ExoLogEvent[] = [];
      for (const l of lines) {
        const e = parseExoLogLine(l);
        if (e) events.push(e);
      }
      return { events, rotated, missing: false };
    } finally {
      closeSync(fd);
    }
  }
}
