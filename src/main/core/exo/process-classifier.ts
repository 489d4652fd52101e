import type { ProcessRole } from '../../../shared/sample.js';
import type { ProcessEntry } from '../probes/probe-types.js';

/**
 * Finds EXO's processes in a process table, for both install kinds:
 *   EXO.app:  …/EXO.app/Contents/MacOS/EXO → …/Resources/exo/exo (main) → runners, macmon, resource tracker
 *   source:   uv → <venv>/bin/python3 <venv>/bin/exo (main) → python -c "…spawn_main…" --multiprocessing-fork
 * The bare process name is never enough (the runner and main are both `exo` or `python3.x`); a runner is a
 * `--multiprocessing-fork` child of an EXO main. Other MLX servers match configurable patterns.
 */

export interface ClassifierOptions {
  /** The pid in ~/.exo/exo.pid, if present. */
  pidfilePid?: number | null;
  /** Regular expressions over the joined command line that mark other MLX servers. */
  mlxServerPatterns?: RegExp[];
}

export const DEFAULT_MLX_SERVER_PATTERNS = [
  String.raw`\bmlx_lm[._]server\b`,
  String.raw`\bmlx_lm\s+server\b`,
  String.raw`(?:^|/)omlx(?:\s|$)`,
  String.raw`\bomlx\.server\b`,
  String.raw`LM Studio\.app/.*\b(?:node|llmworker)\b`,
  String.raw`\bmlx_vlm[._]server\b`,
];

const APP_BUNDLE = /\/EXO\.app\/Contents\/MacOS\/EXO$/;
const BUNDLED_EXO = /\/EXO\.app\/Contents\/Resources\/exo\/exo$/;

const base = (p: string | undefined | null): string => (p ? (p.split('/').pop() ?? '') : '');
const commandLine = (e: ProcessEntry): string => e.argv.join(' ');

function isExoMainShape(e: ProcessEntry): boolean {
  const line = commandLine(e);
  if (e.argv.includes('--multiprocessing-fork') || /multiprocessing\.(resource_tracker|spawn)/.test(line))
    return false;
  if (e.executable && BUNDLED_EXO.test(e.executable)) return true;
  if (e.argv[0] && BUNDLED_EXO.test(e.argv[0])) return true;
  if (process.env['EXO_RUNTIME_DIR'] && e.executable === `${process.env['EXO_RUNTIME_DIR']}/exo`) return true;
  // Source installs: `python3 <venv>/bin/exo [flags]`, `<venv>/bin/exo`, or `python -m exo`.
  const [a0, a1] = e.argv;
  if (a0 && /\/bin\/exo$/.test(a0)) return true;
  if (a1 && /\/bin\/exo$/.test(a1) && /python/i.test(base(a0))) return true;
  const m = e.argv.indexOf('-m');
  return m >= 0 && (e.argv[m + 1] === 'exo' || e.argv[m + 1] === 'exo.main');
}

export function classifyProcesses(
  entries: ProcessEntry[],
  options: ClassifierOptions = {},
): Map<number, ProcessRole> {
  const roles = new Map<number, ProcessRole>();
  const byPid = new Map(entries.map((e) => [e.pid, e]));
  const mains = new Set<number>();
  for (const e of entries) {
    if (e.executable && APP_BUNDLE.test(e.executable)) roles.set(e.pid, 'exo-app');
    else if (isExoMainShape(e)) mains.add(e.pid);
  }
  const pf = options.pidfilePid;
  if (pf && byPid.has(pf) && !byPid.get(pf)!.argv.includes('--multiprocessing-fork')) mains.add(pf);
  for (const pid of mains) roles.set(pid, 'exo-main');

  const exoAncestor = (e: ProcessEntry): boolean => {
    let cur: ProcessEntry | undefined = e;
    for (let hops = 0; cur && hops < 8; hops++) {
      if (cur.ppid === null) return false;
      if (mains.has(cur.ppid)) return true;
      cur = byPid.get(cur.ppid);
    }
    return false;
  };

  for (const e of entries) {
    if (roles.has(e.pid)) continue;
    const line = commandLine(e);
    const underExo = exoAncestor(e);
    if (
      e.argv.includes('--multiprocessing-fork') &&
      (underExo || (e.executable && BUNDLED_EXO.test(e.executable)))
    ) {
      roles.set(e.pid, 'exo-runner');
    } else if (underExo && base(e.argv[0]) === 'macmon' && e.argv.includes('pipe')) {
      roles.set(e.pid, 'exo-macmon');
    } else if (underExo && /multiprocessing\.resource_tracker/.test(line)) {
      roles.set(e.pid, 'exo-resource-tracker');
    }
  }

  const patterns = options.mlxServerPatterns ?? DEFAULT_MLX_SERVER_PATTERNS.map((p) => new RegExp(p));
  for (const e of entries) {
    if (roles.has(e.pid)) continue;
    const line = e.executable ? `${e.executable} ${commandLine(e)}` : commandLine(e);
    if (patterns.some((re) => re.test(line))) roles.set(e.pid, 'mlx-server');
  }
  return roles;
}
