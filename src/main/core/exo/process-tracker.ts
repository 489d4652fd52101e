import type { ProcessRole } from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';

export type ProcessChange =
  | { kind: 'started'; entry: ProcessEntry; role: ProcessRole }
  | { kind: 'exited'; entry: ProcessEntry; role: ProcessRole }
  | { kind: 'role-changed'; entry: ProcessEntry; role: ProcessRole; previous: ProcessRole };

const key = (e: ProcessEntry): string => `${e.pid}:${e.startTime ?? '?'}`;

/**
 * Remembers the watched set between ticks and reports what changed. A process is its pid *and* start
 * time, so a recycled pid is a new process, never the old one.
 */
export class ProcessTracker {
  private current = new Map<string, { entry: ProcessEntry; role: ProcessRole }>();

  /**
   * The watched set now; a process no longer in it but still among `present` (left out by the watch limit) is
   * forgotten without an `exited` change: it still runs.
   */
  update(
    watched: Array<{ entry: ProcessEntry; role: ProcessRole }>,
    present: ReadonlyArray<{ entry: ProcessEntry }> = watched,
  ): ProcessChange[] {
    const next = new Map(watched.map((w) => [key(w.entry), w]));
    const changes: ProcessChange[] = [];
    for (const [k, w] of next) {
      const before = this.current.get(k);
      if (!before) changes.push({ kind: 'started', entry: w.entry, role: w.role });
      else if (before.role !== w.role)
        changes.push({ kind: 'role-changed', entry: w.entry, role: w.role, previous: before.role });
    }
    const running = present === watched ? next : new Set(present.map((p) => key(p.entry)));
    for (const [k, w] of this.current)
      if (!next.has(k) && !running.has(k)) changes.push({ kind: 'exited', entry: w.entry, role: w.role });
    this.current = next;
    return changes;
  }

  /** Whether this process (pid and start time) was watched at the last update. */
  knows(e: ProcessEntry): boolean {
    return this.current.has(key(e));
  }

  get size(): number {
    return this.current.size;
  }
}
