import type { ProcessRole } from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';

/**
 * Processes watched at most, per tick. Any local user can start processes whose command line matches an MLX
 * server pattern (`exec -a mlx_lm.server sleep 1d`): 3000 of them made each tick write 3000 process rows (kept
 * two days), and each timeline page carry them. EXO's own processes on one node are a handful; MLX servers
 * beside them a few.
 */
export const MAX_WATCHED = 64;

/**
 * The processes kept when more than `max` match: EXO's own (by role) before other MLX servers, then those
 * already watched (the set does not churn), then the longest running, then the lowest pid; in their order.
 */
export function limitWatched<T extends { entry: ProcessEntry; role: ProcessRole }>(
  watched: T[],
  known: (e: ProcessEntry) => boolean,
  max: number = MAX_WATCHED,
): { kept: T[]; leftOut: number } {
  if (watched.length <= max) return { kept: watched, leftOut: 0 };
  const rank = (w: T): number => (w.role === 'mlx-server' ? 2 : 0) + (known(w.entry) ? 0 : 1);
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
