import type { TimelineEvent } from '../../../shared/events.js';
import type { ProcessRole, Sample } from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';
import type { Db } from './database.js';
import type { TimelineStore } from './timeline-store.js';
import { BoundedBuffer, StorageHealth, type StorageStatus } from './write-buffer.js';

/** Everything one tick writes: the sample with its process readings, the pid map, exits and events. */
export interface PendingTick {
  time: number;
  sample: Sample;
  events: TimelineEvent[];
  watched: Array<{ entry: ProcessEntry; role: ProcessRole }>;
  exits: Array<{ pid: number; startTime: number | null }>;
}

/**
 * Bytes all ticks held in memory may weigh (their events and command lines, estimated): a tick's events carry
 * outside text, so 600 ticks could otherwise hold hundreds of MB while the disk is full.
 */
export const BUFFER_BYTES = 32 * 1024 * 1024;

/** A held tick's weight: its sample and processes at a fixed cost, its events and command lines by length. */
export function tickBytes(t: PendingTick): number {
  let n = 1024 + t.sample.processes.length * 256 + t.exits.length * 64;
  for (const e of t.events) n += 256 + 2 * (e.message.length + (e.data ? JSON.stringify(e.data).length : 0));
  for (const w of t.watched) for (const a of w.entry.argv) n += 2 * a.length + 16;
  return n;
}

export type WriteOutcome =
  | {
      stored: true;
      /** Buffered ticks written before this one. */
      flushed: number;
      /** How long writes had failed (ms), when this write ended a failure. */
      recoveredAfterMs: number | null;
    }
  | {
      stored: false;
      /** The failure's one-line description, when this write started it (or its cause changed). */
      newFailure: string | null;
    };

/** Buffered ticks go back in chunks, each its own transaction: a disk with a little room takes some of them. */
const FLUSH_CHUNK = 60;

/**
 * Writes ticks to the timeline, one transaction each. A write that fails (disk full, read-only, I/O error)
 * does not lose the tick: it waits in a bounded buffer (oldest dropped beyond capacity, counted) and is written,
 * oldest first, before the next tick that can be. `detached` is set when the database could not be opened for
 * writing at all: every tick is then buffered.
 */
export class TickWriter {
  readonly buffer: BoundedBuffer<PendingTick>;
  readonly health: StorageHealth;
  private detached: unknown;

  constructor(
    private db: Db,
    private store: TimelineStore,
    path: string,
    capacity: number,
    detached: unknown = null,
  ) {
    this.buffer = new BoundedBuffer(capacity, BUFFER_BYTES, tickBytes);
    this.health = new StorageHealth(path);
    this.detached = detached;
  }

  get isDetached(): boolean {
    return this.detached !== null;
  }

  /**
   * A writer that started detached writes from now on into the database that finally opened (the rest of the
   * daemon keeps reading its stand-in until a restart).
   */
  attach(db: Db, store: TimelineStore, now: number): void {
    this.db = db;
    this.store = store;
    this.detached = null;
    this.health.succeeded(now);
  }

  /** When the database could not be opened for writing: records it as the failure and returns its line. */
  detachedFailure(now: number): string | null {
    return this.detached === null ? null : this.health.failed(this.detached, now);
  }

  /**
   * Writes the buffered ticks, then this one (with `alongside`, e.g. the risk state, in its transaction).
   * Never throws.
   */
  write(tick: PendingTick, now: number, alongside?: () => void): WriteOutcome {
    if (this.detached !== null) {
      this.buffer.push(tick);
      return { stored: false, newFailure: this.health.failed(this.detached, now) };
    }
    let flushed = 0;
    try {
      flushed = this.flushInto(this.db, this.store);
      this.db.transaction(() => {
        writeOne(this.store, tick);
        alongside?.();
      })();
    } catch (e) {
      this.buffer.push(tick);
      return { stored: false, newFailure: this.health.failed(e, now) };
    }
    return { stored: true, flushed, recoveredAfterMs: this.health.succeeded(now) };
  }

  /** Writes the buffer into this writer's database; throws the first failure. */
  flush(): number {
    return this.flushInto(this.db, this.store);
  }

  /**
   * Writes the buffer into a database, oldest first, removing what was written; returns how many were.
   * Throws the first failure (what was written before it stays written).
   */
  flushInto(db: Db, store: TimelineStore): number {
    let written = 0;
    while (this.buffer.size > 0) {
      const chunk = this.buffer.peek().slice(0, FLUSH_CHUNK);
      db.transaction(() => {
        for (const t of chunk) writeOne(store, t);
      })();
      this.buffer.shift(chunk.length);
      written += chunk.length;
    }
    return written;
  }

  status(): StorageStatus {
    return this.health.status(this.buffer.size, this.buffer.dropped);
  }
}

function writeOne(store: TimelineStore, t: PendingTick): void {
  for (const w of t.watched) store.recordProcess(w.entry, w.role, t.time);
  for (const x of t.exits) store.recordExit(x.pid, x.startTime, t.time);
  store.writeTick(t.sample, t.events);
}
