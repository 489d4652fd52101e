import { inferSleep } from '../actions/wake-hold.js';
import type { EventCollector } from '../event-collector.js';

export interface TickGapsDeps {
  events: EventCollector;
  intervalMs: () => number;
  /** The daemon was suspended, stalled or the machine slept: counts for the sleep/wake risk signal. */
  onWake: (now: number) => void;
  /** A sleep inferred from the clocks (headless has no power events): starts the sleep/wake hold. */
  onInferredSleep: (now: number, sleptSince: number) => void;
}

/**
 * No tick for much longer than the interval, measured on the monotonic clock (a wall-clock change is not a
 * gap): the process was suspended or stalled. The wall clock moving much more than the monotonic one is
 * noted apart — a clock change, or system sleep (the monotonic clock stops while the machine sleeps) —
 * without counting as a wake; the shells' power events report real sleep and wake.
 */
export class TickGaps {
  private lastWall: number | null = null;
  private lastMono: number | null = null;

  constructor(private readonly deps: TickGapsDeps) {}

  /** Forgets the last tick (after a wake: the pause is not a gap). */
  reset(): void {
    this.lastWall = null;
  }

  note(now: number, mono: number): void {
    if (this.lastMono !== null && this.lastWall !== null) this.judge(now, mono, this.lastWall, this.lastMono);
    this.lastWall = now;
    this.lastMono = mono;
  }

  private judge(now: number, mono: number, lastWall: number, lastMono: number): void {
    const { events, intervalMs } = this.deps;
    const limit = Math.max(30_000, 10 * intervalMs());
    const gap = mono - lastMono;
    const wallGap = now - lastWall;
    if (gap > limit) {
      events.push(
        'power.wake',
        'info',
        `no tick for ${Math.round(gap / 1000)} s: the daemon was suspended or stalled`,
        {
          gapMs: Math.round(gap),
          inferred: true,
        },
      );
      this.deps.onWake(now);
    } else if (inferSleep({ wall: lastWall, mono: lastMono }, { wall: now, mono }, intervalMs())) {
      // Headless has no power events: a wall clock far ahead of the monotonic one is a sleep (wake-hold.ts).
      events.push(
        'power.wake',
        'info',
        `the wall clock moved ${Math.round(wallGap / 1000)} s between ticks ${Math.round(gap / 1000)} s apart on the monotonic clock: the machine slept (or the clock was set forward)`,
        { wallGapMs: wallGap, gapMs: Math.round(gap), sleptMs: Math.round(wallGap - gap), inferred: true },
      );
      this.deps.onWake(now);
      this.deps.onInferredSleep(now, lastWall);
    } else if (Math.abs(wallGap - gap) > limit) {
      events.push(
        'clock.jump',
        'info',
        `the wall clock moved ${Math.round(wallGap / 1000)} s between ticks ${Math.round(gap / 1000)} s apart: the clock was changed or the machine slept`,
        { wallGapMs: wallGap, gapMs: Math.round(gap) },
      );
    }
  }
}
