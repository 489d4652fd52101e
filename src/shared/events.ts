/** Timeline events: anything that happened, as opposed to a periodic reading. */
export type EventSeverity = 'debug' | 'info' | 'warning' | 'error' | 'critical';

export interface TimelineEvent {
  id?: number;
  /** Epoch milliseconds. */
  time: number;
  /** Dotted kind, e.g. `probe.unavailable`, `process.started`, `daemon.started`. */
  kind: string;
  severity: EventSeverity;
  message: string;
  data?: Record<string, unknown>;
}
