import type { TimelineEvent } from '../../shared/events.js';
import type { Logger } from './logger.js';
import type { ProbeReporter } from './probes/probe-types.js';

/** Collects what probes report; `unavailable` once per field for the daemon's life. */
export class EventCollector implements ProbeReporter {
  private readonly said = new Set<string>();
  private pending: TimelineEvent[] = [];
  private readonly failedAt = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly logger?: Logger,
  ) {}

  unavailable(field: string, reason: string): void {
    if (this.said.has(field)) return;
    this.said.add(field);
    this.logger?.info({ field, reason }, `${field} unavailable: ${reason}`);
    this.push('probe.unavailable', 'info', `${field} is unavailable: ${reason}`, { field, reason });
  }

  failed(probe: string, error: string): void {
    // At most one event per probe per minute: a hung command must not flood the timeline.
    const last = this.failedAt.get(probe);
    if (last !== undefined && this.now() - last < 60_000) return;
    this.failedAt.set(probe, this.now());
    this.logger?.warn({ probe, error }, `probe ${probe} failed: ${error}`);
    this.push('probe.failed', 'warning', `probe ${probe} failed: ${error}`, { probe, error });
  }

  push(
    kind: string,
    severity: TimelineEvent['severity'],
    message: string,
    data?: Record<string, unknown>,
    time?: number,
  ): void {
    this.pending.push({ time: time ?? this.now(), kind, severity, message, ...(data ? { data } : {}) });
  }

  drain(): TimelineEvent[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
