/**
 * What the daemon pushes as it happens: Server-Sent Events on `GET /api/v1/stream` (a browser) and the push
 * channel of the app's window (`{event, data}`). Types only; the daemon's tick publisher sends these.
 */
import type { TimelineEvent } from './events.js';
import type { RiskLevel, RiskReason } from './risk.js';
import type { Sample } from './sample.js';
import type { StatusView } from './status-view.js';

/** Set on what was published while the database could not be written (held in memory, not yet stored). */
interface Buffered {
  buffered?: true;
}

export interface LiveEventMap {
  /** The status view, once, when a stream opens (SSE only). */
  status: StatusView;
  /** Every tick: the reading and the level it left. */
  sample: { sample: Sample; level: RiskLevel; reasons: RiskReason[] } & Buffered;
  /** Every timeline event as it is recorded. */
  event: TimelineEvent & Buffered;
  /** The level changed (a `risk.level` event): the new level and why. */
  level: { level: RiskLevel; reasons: RiskReason[] };
  /** A kernel panic report was read (the `panic.detected` event's data). */
  panic: Record<string, unknown>;
  /** The app asks its window to show a view (menu bar items; the app only). */
  navigate: { view: string };
}

export type LiveEventName = keyof LiveEventMap;

/** One pushed message, discriminated by `event`. */
export type LiveEvent = { [K in LiveEventName]: { event: K; data: LiveEventMap[K] } }[LiveEventName];

/** The events an SSE stream carries (navigate is the app's window only). */
export const STREAM_EVENTS = [
  'status',
  'sample',
  'level',
  'panic',
  'event',
] as const satisfies readonly LiveEventName[];

/** A publisher of live events, checked against the map. */
export type Publish = <K extends LiveEventName>(event: K, data: LiveEventMap[K]) => void;
