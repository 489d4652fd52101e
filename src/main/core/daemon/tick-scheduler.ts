import type { EventCollector } from '../event-collector.js';
import type { PlatformProbe } from '../probes/probe-types.js';
import { type Clock, monotonicNow } from './clock.js';

export interface TickSchedulerDeps {
  clock: Clock;
  intervalMs: () => number;
  /** One tick; never runs twice at once. */
  tick: () => Promise<unknown>;
  /** A fault caught at an entry point: an event and a log line; the loop carries on. */
  contain: (where: string, e: unknown) => void;
  probe: Pick<PlatformProbe, 'watchPressure'>;
  events: EventCollector;
}

/**
 * The daemon's one loop: ticks aligned to the interval that never overlap (a slow tick skips the next), and
 * an extra tick at once when the platform says memory pressure changed or the daemon asks (at most one per
 * 250 ms).
 */
export class TickScheduler {
  private timer: unknown = null;
  private running = false;
  private inTick: Promise<void> | null = null;
  private lastExtraTick = 0;
  /** Stops the probe's pressure watcher (PSI trigger, dispatch source), while sampling runs. */
  private stopPressureWatch: (() => void) | null = null;

  constructor(private readonly deps: TickSchedulerDeps) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** The tick in flight, if any (a stop waits for it). */
  get inFlight(): Promise<void> | null {
    return this.inTick;
  }

  start(): void {
    this.running = true;
    this.schedule();
    this.watchPressure();
  }

  /** Stops the loop and the pressure watch; a tick in flight finishes (see `inFlight`). */
  stop(): void {
    this.running = false;
    this.stopPressureWatch?.();
    this.stopPressureWatch = null;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (!this.running) return;
    const { clock } = this.deps;
    const interval = this.deps.intervalMs();
    const delay = interval - (clock.now() % interval);
    this.timer = clock.setTimeout(() => {
      if (!this.running) return;
      try {
        if (!this.inTick) this.runTick();
      } catch (e) {
        this.deps.contain('scheduler', e);
      } finally {
        this.schedule();
      }
    }, delay);
  }

  /**
   * A tick now, not on the next aligned one (a pressure change, a panic report found): none while one runs,
   * at most one per 250 ms. Nothing while the loop is stopped.
   */
  soon(): void {
    const now = monotonicNow(this.deps.clock);
    if (!this.running || this.inTick || now - this.lastExtraTick < 250) return;
    this.lastExtraTick = now;
    this.runTick();
  }

  private runTick(): void {
    this.inTick = this.deps
      .tick()
      .then(
        () => undefined,
        (e: unknown) => this.deps.contain('tick', e),
      )
      .finally(() => {
        this.inTick = null;
      });
  }

  /**
   * A pressure change from the platform's event source is recorded and sampled at once, not on the next
   * aligned tick (the kernel fires a PSI trigger at most once a window).
   */
  private watchPressure(): void {
    const { probe, events } = this.deps;
    if (this.stopPressureWatch || !probe.watchPressure) return;
    const stop = probe.watchPressure((change) => {
      if (!this.running) return;
      events.push(
        'memory.pressure-event',
        'info',
        `memory pressure changed (${change.source}${change.level ? `, level ${change.level}` : ''}): sampled at once`,
        { source: change.source, level: change.level },
      );
      this.soon();
    });
    if (typeof stop === 'string')
      events.unavailable('memory.pressureEvents', `no pressure events, polled each tick instead: ${stop}`);
    else this.stopPressureWatch = stop;
  }
}
