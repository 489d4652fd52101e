import { isFiniteNumber } from '../../../shared/narrow.js';
import type { GuardMode } from '../../../shared/risk.js';
import type { TimelineStore } from '../store/timeline-store.js';

/**
 * The sleep/wake hold: no new generation request is admitted from the sleep notice until
 * `guard.wakeHoldSeconds` after the wake.
 *
 * Known: omlx#978 — three panics on one machine, two right after a sleep/wake cycle with wired GPU memory
 * held (one with none), at max concurrent requests 1; omlx#1384 — a 25F71 panic whose report carries
 * non-zero Sleep/Wake epochs (the machine had slept in that boot). Weak evidence (one machine, n = 3).
 * Not known: how long after the wake those panics came ("right after"); no report gives seconds.
 * Assumed: the risk is in the first work after the wake, so the hold covers the reconnect burst of clients
 * that were cut off by the sleep (120 s by default); the wake trigger of the risk score keeps counting for
 * `risk.wakeWindowSeconds` (600 s) after it while GPU memory is wired.
 */
export interface WakeHold {
  /** The sleep notice (app: powerMonitor `suspend`) or, inferred, the last tick before the gap; epoch ms. */
  since: number;
  /** The wake, epoch ms; null while asleep. */
  wokeAt: number | null;
  /** New generation requests are admitted again from here; null while asleep (held until the wake). */
  until: number | null;
  /** How the sleep was learnt: the shell's power events, or a jump of the wall clock past the monotonic one. */
  via: 'power-event' | 'clock-gap';
}

const KEY = 'wake-hold';

/** The sleep notice: held from now until the wake. */
export const sleepNotice = (now: number, via: WakeHold['via'] = 'power-event'): WakeHold => ({
  since: now,
  wokeAt: null,
  until: null,
  via,
});

/** The wake: held until `holdSeconds` from now (from the sleep notice if there was one, else from `sleptSince`). */
export function wakeNotice(
  prev: WakeHold | null,
  now: number,
  holdSeconds: number,
  via: WakeHold['via'],
  sleptSince: number = now,
): WakeHold {
  const since = prev && prev.wokeAt === null ? prev.since : sleptSince;
  return { since, wokeAt: now, until: now + Math.max(0, holdSeconds) * 1000, via };
}

/**
 * The hold as it can be now: never ending more than `holdSeconds` from now. Its times are the wall clock's; a
 * clock set forward (taken for a sleep) and then back left a hold ending a day ahead, and the guard refused
 * every generation request for that day, across restarts (the hold is stored). Null when nothing changes.
 */
export function boundedWakeHold(h: WakeHold | null, now: number, holdSeconds: number): WakeHold | null {
  const most = now + Math.max(0, holdSeconds) * 1000;
  if (!h || h.until === null || h.until <= most) return null;
  return { ...h, until: most, wokeAt: h.wokeAt === null ? null : Math.min(h.wokeAt, now) };
}

export const wakeHoldActive = (h: WakeHold | null, now: number): boolean =>
  h !== null && (h.until === null || now < h.until);

/** Seconds until the hold ends (at least 1 while it holds); null while asleep or when it does not hold. */
export function wakeHoldRemaining(h: WakeHold | null, now: number): number | null {
  if (!h || h.until === null || now >= h.until) return null;
  return Math.max(1, Math.ceil((h.until - now) / 1000));
}

const MODE_ORDER: GuardMode[] = ['open', 'serialise', 'refuse-new', 'cancel-newest'];

/**
 * The mode with the wake hold applied: while it holds, new requests are refused (`refuse-new`) unless the
 * decided mode is stricter already; `observe` never holds back. A hand pin is decided before this and wins.
 */
export function withWakeHold<S extends string>(
  decided: { mode: GuardMode; modeSource: S },
  hold: WakeHold | null,
  now: number,
  profile: string,
): { mode: GuardMode; modeSource: S | 'wake-hold' } {
  if (profile === 'observe' || !wakeHoldActive(hold, now)) return decided;
  if (MODE_ORDER.indexOf(decided.mode) >= MODE_ORDER.indexOf('refuse-new')) return decided;
  return { mode: 'refuse-new', modeSource: 'wake-hold' };
}

/**
 * Sleep seen from the clocks alone (headless: no power events): between two ticks the wall clock moved
 * forward more than `3 × interval` (at least 3 s) past the monotonic clock, which stops while the machine
 * sleeps (mach_absolute_time on macOS, CLOCK_MONOTONIC on Linux). A wall clock set forward by hand looks the
 * same; the cost is one hold. A clock set back never does.
 */
export function inferSleep(
  prev: { wall: number; mono: number },
  cur: { wall: number; mono: number },
  intervalMs: number,
): { sleptMs: number } | null {
  const wall = cur.wall - prev.wall;
  const mono = cur.mono - prev.mono;
  const limit = Math.max(3000, 3 * intervalMs);
  if (wall > limit && wall - mono > limit) return { sleptMs: Math.round(wall - mono) };
  return null;
}

/** The reason the status, the API and the guard's refusals give. */
export function wakeHoldReason(h: WakeHold, holdSeconds: number): string {
  const how = h.via === 'clock-gap' ? 'the machine slept (seen from a clock gap)' : 'the machine sleeps';
  if (h.until === null)
    return `${how} since ${new Date(h.since).toISOString()}: new generation requests wait until ${holdSeconds} s after the wake (guard.wakeHoldSeconds; panics are reported right after a wake with wired GPU memory held, omlx#978)`;
  return `${h.via === 'clock-gap' ? 'the machine slept (seen from a clock gap) and woke' : 'the machine woke'} at ${new Date(h.wokeAt ?? h.since).toISOString()}: new generation requests wait until ${new Date(h.until).toISOString()} (guard.wakeHoldSeconds ${holdSeconds}; panics are reported right after a wake with wired GPU memory held, omlx#978)`;
}

/** The hold as persisted (the CLI's status reads it); a malformed value is no hold. */
export function readWakeHold(store: TimelineStore): WakeHold | null {
  const raw = store.getMeta(KEY);
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<WakeHold>;
    if (
      !isFiniteNumber(v.since) ||
      (v.wokeAt !== null && !isFiniteNumber(v.wokeAt)) ||
      (v.until !== null && !isFiniteNumber(v.until))
    )
      return null;
    return {
      since: v.since,
      wokeAt: v.wokeAt ?? null,
      until: v.until ?? null,
      via: v.via === 'clock-gap' ? 'clock-gap' : 'power-event',
    };
  } catch {
    return null;
  }
}

export function writeWakeHold(store: TimelineStore, h: WakeHold | null): void {
  store.setMeta(KEY, h ? JSON.stringify(h) : '');
}
