import type { ProcessRole } from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';

/**
 * Processes watched at most, per tick. Any local user can start processes whose command line matches an MLX
 * server pattern (`exec -a mlx_lm.server sleep 1d`): 3000 of them made each tick write 3000 process rows (kept
 * two days), and each timeline page carry them. EXO's own processes on one node are a handful; MLX servers
 * beside them a few.
 */
export const MAX_WATCHED = 64;

/** This process's uid, where the platform has one. */
export const OWN_UID: number | null = typeof process.getuid === 'function' ? process.getuid() : null;

/**
 * Another user's process: its real uid is known and is neither this user's nor root's. The watch limit ranks
 * these last and the watch admission takes them at a rate of their own.
 */
export const isForeign = (e: ProcessEntry, ownUid: number | null = OWN_UID): boolean =>
  ownUid !== null && e.uid != null && e.uid !== ownUid && e.uid !== 0;

/**
 * The processes kept when more than `max` match, in their order: EXO's runners first (they hold the Metal
 * memory), then the EXO processes that are a runner's parent, then EXO's others, then other MLX servers; within
 * each, those already watched (the set does not churn), then the longest running, then the lowest pid. A
 * main's shape is a command line anyone can copy (64 copies pushed the real main and its new runner out when
 * every EXO role ranked the same); a runner's parent is what a copy does not have. Processes of another user
 * (not this one, not root) come after all of those, where the probe reads owners (Linux).
 */
export function limitWatched<T extends { entry: ProcessEntry; role: ProcessRole }>(
  watched: T[],
  known: (e: ProcessEntry) => boolean,
  max: number = MAX_WATCHED,
  ownUid: number | null = OWN_UID,
): { kept: T[]; leftOut: number } {
  if (watched.length <= max) return { kept: watched, leftOut: 0 };
  const runnerParents = new Set(
    watched.flatMap((w) => (w.role === 'exo-runner' && w.entry.ppid !== null ? [w.entry.ppid] : [])),
  );
  const tier = (w: T): number =>
    w.role === 'exo-runner' ? 0 : runnerParents.has(w.entry.pid) ? 1 : w.role === 'mlx-server' ? 3 : 2;
  // Another user's processes after all of this user's and root's (where the probe knows the owner): copies
  // started by someone else can no longer outrank EXO's own runner, whatever their shape.
  const rank = (w: T): number =>
    (isForeign(w.entry, ownUid) ? 8 : 0) + tier(w) * 2 + (known(w.entry) ? 0 : 1);
  const chosen = new Set(
    [...watched]
      .sort(
        (a, b) =>
          rank(a) - rank(b) ||
          (a.entry.startTime ?? Number.POSITIVE_INFINITY) - (b.entry.startTime ?? Number.POSITIVE_INFINITY) ||
          a.entry.pid - b.entry.pid,
      )
      .slice(0, max),
  );
  return { kept: watched.filter((w) => chosen.has(w)), leftOut: watched.length - max };
}
