import type { ProcessRole } from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';
import { isForeign, OWN_UID } from './watch-limit.js';

/**
 * How many new processes start being watched, per owner: a burst, then a steady rate. Every process that
 * starts being watched writes a pid-map row and a `process.started` event (its command line, up to 4 KB) and
 * an exit event, kept 30 days: any local user starting 50 EXO-shaped processes a second, each living 1.5 s,
 * grew the timeline by 630 MB an hour. EXO's own processes on a node are a handful and a crash loop restarts
 * them every few seconds at most, far under the rate of this user's and root's processes; another user's
 * (where the probe reads owners) get a tenth of it. A process left out now is admitted at a later tick, once
 * the rate allows, if it still runs: it is watched late, never ignored for good.
 */
export const NEW_WATCHED = {
  own: { burst: 120, perMinute: 60 },
  foreign: { burst: 12, perMinute: 6 },
} as const;

type Owner = keyof typeof NEW_WATCHED;

interface Bucket {
  tokens: number;
  at: number;
}

export class WatchAdmission {
  private readonly buckets: Record<Owner, Bucket>;

  constructor(
    now: number,
    private readonly ownUid: number | null = OWN_UID,
  ) {
    this.buckets = {
      own: { tokens: NEW_WATCHED.own.burst, at: now },
      foreign: { tokens: NEW_WATCHED.foreign.burst, at: now },
    };
  }

  /** Whose rate a process takes: another user's (isForeign), or this user's and root's. */
  private owner(e: ProcessEntry): Owner {
    return isForeign(e, this.ownUid) ? 'foreign' : 'own';
  }

  /**
   * The matched processes to watch this tick: every one already watched, and new ones while their owner's
   * rate allows (EXO's runners first, where its Metal memory is, then the oldest); `deferred` counts the new
   * ones left for a later tick.
   */
  admit<T extends { entry: ProcessEntry; role: ProcessRole }>(
    matched: T[],
    known: (e: ProcessEntry) => boolean,
    now: number,
  ): { admitted: T[]; deferred: number } {
    for (const owner of ['own', 'foreign'] as const) {
      const b = this.buckets[owner];
      const rate = NEW_WATCHED[owner];
      // A clock set back refills nothing; one set forward refills at most the burst.
      b.tokens = Math.min(rate.burst, b.tokens + (Math.max(0, now - b.at) * rate.perMinute) / 60_000);
      b.at = now;
    }
    const fresh = matched
      .filter((m) => !known(m.entry))
      .sort(
        (a, b) =>
          (a.role === 'exo-runner' ? 0 : 1) - (b.role === 'exo-runner' ? 0 : 1) ||
          (a.entry.startTime ?? Number.POSITIVE_INFINITY) - (b.entry.startTime ?? Number.POSITIVE_INFINITY) ||
          a.entry.pid - b.entry.pid,
      );
    const taken = new Set<T>();
    for (const m of fresh) {
      const b = this.buckets[this.owner(m.entry)];
      if (b.tokens < 1) continue;
      b.tokens -= 1;
      taken.add(m);
    }
    return {
      admitted: matched.filter((m) => taken.has(m) || known(m.entry)),
      deferred: fresh.length - taken.size,
    };
  }
}
