import type { ProcessRole } from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';
import { compilePattern } from '../util/linear-regexp.js';
import { baseName } from './exo-argv.js';
import { matchesMlxServer, shapeOf } from './process-shape.js';

/**
 * Finds EXO's processes in a process table. What EXO runs (github.com/exo-explore/exo, from the v1.0.61
 * releases to main in mid-2026; sources in test/fixtures/exo/SOURCES.md, "How EXO starts its processes"):
 *   EXO.app:  …/EXO.app/Contents/MacOS/EXO (Swift, ExoProcessController.swift) → …/Resources/exo/exo (main,
 *             PyInstaller one-dir) → runners `…/exo --multiprocessing-fork tracker_fd=N pipe_handle=M`,
 *             `_internal/macmon pipe --interval 1000`, resource tracker `…/exo -c "…resource_tracker…"`
 *   source:   [uv →] <venv>/bin/python3 <venv>/bin/exo (main; `--legacy-daemon` double-forks it under
 *             launchd) → runners `<venv>/bin/python3 -c "…spawn_main(…)" --multiprocessing-fork`, macmon,
 *             resource tracker
 * Runners are multiprocessing `spawn` children of the main process (RunnerSupervisor's mp.Process, later
 * AsyncProcess over the spawn context); every MLX/Metal allocation lives in them. The unmerged `ai-slop`
 * branch (16a3ab51) launched them as `exo --exo-runner <json>` / `python -m exo.worker.runner.bootstrap
 * <json>`; those argv are unmistakable and are taken as runners too. Other EXO modules a main runs with
 * `python -m exo.…` (the RDMA probe of open PR #2010) are `exo-other`.
 *
 * Never by process name alone (main and runner are both `exo`, or `python3`/`python3.13`):
 * - main: the bundle's executable, a child named `exo` of EXO.app, or a Python running the `exo` console
 *   script or `-m exo`; the pid in ~/.exo/exo.pid only if that process could be EXO (a Python or a program
 *   called `exo`, not a helper), so a stale pidfile whose pid was reused by another program names nothing.
 * - runner: a runner-shaped child (any depth) of a recognised main.
 * - orphaned runner: when the main dies hard (SIGKILL, crash) its runner is reparented to launchd and keeps
 *   its Metal memory (EXO PR #2205: 313 GB footprint behind 6 GB RSS), so it stays watched when it is
 *   unmistakably EXO's: the bundle's own executable; the same pid *and start time* seen as a runner before
 *   (`knownRunners`, so a reused pid is never taken for the old runner); or, without a parent, a spawn child of
 *   an interpreter only EXO runs, that of a live main (EXO restarted in the same venv). A bare Python spawn child
 *   with no EXO behind it is not EXO's: an orphaned source runner seen by a freshly started daemon is missed.
 * Other MLX servers match configurable patterns.
 */

export interface ClassifierOptions {
  /** The pid in ~/.exo/exo.pid, if present. */
  pidfilePid?: number | null;
  /** Regular expressions over the joined command line that mark other MLX servers. */
  mlxServerPatterns?: RegExp[];
  /** `runnerKey`s of processes classified `exo-runner` at an earlier reading (the sampler keeps them). */
  knownRunners?: ReadonlySet<string>;
}

export const DEFAULT_MLX_SERVER_PATTERNS = [
  String.raw`\bmlx_lm[._]server\b`,
  String.raw`\bmlx_lm\s+server\b`,
  String.raw`(?:^|/)omlx(?:\s|$)`,
  String.raw`\bomlx\.server\b`,
  String.raw`LM Studio\.app/.*\b(?:node|llmworker)\b`,
  String.raw`\bmlx_vlm[._]server\b`,
];

/** A process's identity across readings (pid and start time), or null when the start time is unknown. */
export const runnerKey = (e: ProcessEntry): string | null =>
  e.startTime === null ? null : `${e.pid}:${e.startTime}`;

interface Table {
  byPid: Map<number, ProcessEntry>;
  apps: Set<number>;
  mains: Set<number>;
  /** Interpreters only EXO runs (`exoOwnInterpreter`) of the live mains; a spawn child inherits it. */
  interpreters: Set<string>;
}

function findMains(entries: readonly ProcessEntry[], options: ClassifierOptions): Table {
  const byPid = new Map(entries.map((e) => [e.pid, e]));
  const apps = new Set(entries.filter((e) => shapeOf(e).app).map((e) => e.pid));
  const mains = new Set<number>();
  for (const e of entries) {
    const s = shapeOf(e);
    if (apps.has(e.pid) || s.helper) continue;
    const appChild =
      e.ppid !== null && apps.has(e.ppid) && [e.argv[0], e.executable].some((p) => baseName(p) === 'exo');
    if (appChild || s.bundled || s.sourceMain) mains.add(e.pid);
  }
  const pf = options.pidfilePid ? byPid.get(options.pidfilePid) : undefined;
  if (pf && !apps.has(pf.pid) && shapeOf(pf).couldBeMain) mains.add(pf.pid);
  const interpreters = new Set<string>();
  for (const pid of mains) {
    const own = shapeOf(byPid.get(pid)!).ownInterpreter;
    if (own) interpreters.add(own);
  }
  return { byPid, apps, mains, interpreters };
}

function underMain(t: Table, e: ProcessEntry): boolean {
  let cur: ProcessEntry | undefined = e;
  for (let hops = 0; cur && hops < 8; hops++) {
    if (cur.ppid === null) return false;
    if (t.mains.has(cur.ppid)) return true;
    cur = t.byPid.get(cur.ppid);
  }
  return false;
}

const isOrphan = (t: Table, e: ProcessEntry): boolean =>
  e.ppid === null || e.ppid <= 1 || !t.byPid.has(e.ppid);

function isExoRunner(t: Table, e: ProcessEntry, under: boolean, known: ReadonlySet<string>): boolean {
  const s = shapeOf(e);
  if (!s.runner) return false;
  if (under || s.bundled) return true;
  const k = runnerKey(e);
  if (k !== null && known.has(k)) return true;
  return isOrphan(t, e) && !!e.argv[0] && t.interpreters.has(e.argv[0]);
}

function childRole(t: Table, e: ProcessEntry, known: ReadonlySet<string>): ProcessRole | null {
  const under = underMain(t, e);
  if (isExoRunner(t, e, under, known)) return 'exo-runner';
  const s = shapeOf(e);
  if (s.tracker && (under || s.bundled)) return 'exo-resource-tracker';
  if (!under) return null;
  if (baseName(e.argv[0]) === 'macmon' && e.argv.includes('pipe')) return 'exo-macmon';
  return s.module?.startsWith('exo.') ? 'exo-other' : null;
}

let compiledDefaults: RegExp[] | null = null;
const defaultPatterns = (): RegExp[] =>
  (compiledDefaults ??= DEFAULT_MLX_SERVER_PATTERNS.map(compilePattern));

export function classifyProcesses(
  entries: ProcessEntry[],
  options: ClassifierOptions = {},
): Map<number, ProcessRole> {
  const t = findMains(entries, options);
  const roles = new Map<number, ProcessRole>();
  for (const pid of t.apps) roles.set(pid, 'exo-app');
  for (const pid of t.mains) roles.set(pid, 'exo-main');
  const known = options.knownRunners ?? new Set<string>();
  for (const e of entries) {
    if (roles.has(e.pid)) continue;
    const role = childRole(t, e, known);
    if (role) roles.set(e.pid, role);
  }
  const patterns = options.mlxServerPatterns ?? defaultPatterns();
  for (const e of entries) {
    if (roles.has(e.pid)) continue;
    if (matchesMlxServer(e, patterns)) roles.set(e.pid, 'mlx-server');
  }
  return roles;
}
