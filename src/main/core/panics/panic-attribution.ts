import { basename } from 'node:path';
import type { Attribution } from '../../../shared/reports.js';
import type { StoredProcess } from '../store/timeline-store.js';

/** How close before the panic the process must have been seen for an exact match (the daemon samples at 1 Hz). */
const EXACT_WINDOW_MS = 60_000;
const PROBABLE_WINDOW_MS = 10 * 60_000;
const CLOCK_SLACK_MS = 5_000;

/** A panic names the task by p_comm (16 characters at most): compare with the executable and argv[0]. */
export function nameMatches(panicName: string, p: Pick<StoredProcess, 'executable' | 'argv'>): boolean {
  const names = [p.executable, p.argv[0]].filter((x): x is string => !!x).map((x) => basename(x));
  const n = panicName.trim();
  return names.some(
    (b) => b === n || (n.length >= 15 && b.startsWith(n)) || b.startsWith(n) || n.startsWith(b),
  );
}

/**
 * Joins the panicked pid with the pid map recorded before the crash. After the reboot the report names
 * only `pid N: exo`; the map says whether that was EXO's runner, its main process, another MLX server or
 * something else.
 * @param when the panic time, or else the report file's time (written after the reboot: an upper bound).
 * @param daemonWasRunning whether the timeline has samples shortly before `when`.
 */
export function attributePanic(
  pid: number,
  name: string,
  when: { time: number; exact: boolean },
  candidates: StoredProcess[],
  daemonWasRunning: boolean,
): Attribution {
  const upper = when.time + CLOCK_SLACK_MS;
  const alive = candidates
    .filter((c) => c.firstSeen <= upper && c.lastSeen <= upper)
    .filter(
      (c) =>
        c.exitedAt === null || c.exitedAt >= when.time - (when.exact ? CLOCK_SLACK_MS : PROBABLE_WINDOW_MS),
    )
    .sort((a, b) => b.lastSeen - a.lastSeen);
  const best = alive[0];
  if (!best || (when.exact && when.time - best.lastSeen > PROBABLE_WINDOW_MS)) {
    return {
      verdict: daemonWasRunning ? 'other' : 'unknown',
      confidence: daemonWasRunning ? 'probable' : 'none',
      explanation: daemonWasRunning
        ? `pid ${pid} (${name}) was not EXO's or an MLX server's process: exo-sentinel was watching and never saw it`
        : `pid ${pid} (${name}) is not in the pid map: exo-sentinel was not running before the panic`,
      process: null,
    };
  }
  const gap = when.time - best.lastSeen;
  const named = nameMatches(name, best);
  const exact = when.exact && gap <= EXACT_WINDOW_MS && named;
  const seen = `last seen ${Math.max(0, Math.round(gap / 1000))} s before the ${when.exact ? 'panic' : 'report was written'}`;
  const explanation = exact
    ? `pid ${pid} (${name}) was ${best.role}, ${seen}`
    : `pid ${pid} (${name}) was probably ${best.role}: ${seen}${named ? '' : `, and the name does not match ${basename(best.executable ?? best.argv[0] ?? '?')}`}${when.exact ? '' : ' (the report gives no panic time)'}`;
  return {
    verdict: best.role,
    confidence: exact ? 'exact' : 'probable',
    explanation,
    process: {
      pid: best.pid,
      role: best.role,
      argv: best.argv,
      executable: best.executable,
      startTime: best.startTime,
      lastSeen: best.lastSeen,
    },
  };
}
