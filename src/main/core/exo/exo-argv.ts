import type { ProcessEntry } from '../probes/probe-types.js';

/**
 * Argument-vector shapes of EXO's processes, one predicate each. The process classifier combines them with
 * the process tree; see its header for where each shape comes from in EXO's source.
 *
 * The argv may be exact (KERN_PROCARGS2, /proc/<pid>/cmdline) or `ps`'s line split on spaces (the command
 * probe): the predicates look at whole tokens that survive that split (`--multiprocessing-fork`, `-c`, `-m`,
 * paths without spaces) and at the joined line, never at the position of a word inside inline code.
 */

/** `python`, `python3`, `python3.13`, `python3.13t`, and the framework build's `Python`. */
const PYTHON_NAME = /^python(\d+(\.\d+)*)?t?$/i;
/** The Swift menu-bar app of EXO.app. */
const APP_BUNDLE = /\/EXO\.app\/Contents\/MacOS\/EXO$/;
/** The PyInstaller one-dir build inside EXO.app (packaging/pyinstaller/exo.spec, name "exo"). */
const BUNDLED_EXO = /\/EXO\.app\/Contents\/Resources\/exo\/exo$/;
/** Interpreter options that take the next token as their value. */
const OPTIONS_WITH_VALUE = new Set(['-X', '-W', '-Q', '--check-hash-based-pycs']);
/** The runner module of EXO's unmerged FD-pipe launch (branch `ai-slop`, 16a3ab51); see the classifier. */
const BRANCH_RUNNER_MODULE = 'exo.worker.runner.bootstrap';

export const baseName = (p: string | null | undefined): string => (p ? (p.split('/').pop() ?? '') : '');
const commandLine = (e: ProcessEntry): string => e.argv.join(' ');

export const isPythonPath = (p: string | null | undefined): boolean => PYTHON_NAME.test(baseName(p));
export const isExoApp = (e: ProcessEntry): boolean =>
  APP_BUNDLE.test(e.executable ?? '') || APP_BUNDLE.test(e.argv[0] ?? '');

/** EXO.app's frozen `exo`, or `$EXO_RUNTIME_DIR/exo` when this daemon is told where a runtime lives. */
export function isBundledExoPath(
  p: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (!p) return false;
  const runtime = env['EXO_RUNTIME_DIR'];
  return BUNDLED_EXO.test(p) || (!!runtime && p === `${runtime.replace(/\/+$/, '')}/exo`);
}

export const runsBundledExo = (e: ProcessEntry): boolean =>
  isBundledExoPath(e.executable) || isBundledExoPath(e.argv[0]);

/** What a Python command line runs: a script, a module (`-m`), inline code (`-c`), or nothing (a REPL). */
export interface PythonInvocation {
  mode: 'script' | 'module' | 'code' | 'none';
  target: string | null;
}

/** Reads the interpreter options after argv[0] the way CPython does, up to what they run. */
export function pythonInvocation(argv: readonly string[]): PythonInvocation {
  let i = 1;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '-m' || a === '-c')
      return { mode: a === '-m' ? 'module' : 'code', target: argv[i + 1] ?? null };
    if (a === '--') return { mode: argv[i + 1] ? 'script' : 'none', target: argv[i + 1] ?? null };
    if (!a.startsWith('-') || a === '-') return { mode: 'script', target: a };
    i += OPTIONS_WITH_VALUE.has(a) ? 2 : 1;
  }
  return { mode: 'none', target: null };
}

/** The module a Python process runs with `-m`, when argv[0] is a Python interpreter. */
export function pythonModule(e: ProcessEntry): string | null {
  if (!isPythonPath(e.argv[0])) return null;
  const inv = pythonInvocation(e.argv);
  return inv.mode === 'module' ? inv.target : null;
}

/** A multiprocessing `spawn` child: CPython's spawn.get_command_line always ends or starts with this flag. */
export const isSpawnChild = (e: ProcessEntry): boolean => e.argv.includes('--multiprocessing-fork');
export const isResourceTracker = (e: ProcessEntry): boolean =>
  /multiprocessing\.resource_tracker/.test(commandLine(e));

/** The runner shapes of the unmerged branch: `exo --exo-runner <json>` (frozen), `python -m …bootstrap <json>`. */
export const isBranchRunner = (e: ProcessEntry): boolean =>
  (e.argv[1] === '--exo-runner' && runsBundledExo(e)) || pythonModule(e) === BRANCH_RUNNER_MODULE;

/** Any runner shape EXO has used: multiprocessing spawn (every release and main), or the branch shapes. */
export const isRunnerShape = (e: ProcessEntry): boolean => isSpawnChild(e) || isBranchRunner(e);

/** A child EXO's own executable runs for multiprocessing or a runner: never a main process. */
export const isExoHelper = (e: ProcessEntry): boolean =>
  isRunnerShape(e) || isResourceTracker(e) || (runsBundledExo(e) && e.argv.includes('-c'));

/**
 * A source install's main process: a Python running the `exo` console script (`<venv>/bin/python3
 * <venv>/bin/exo`, what `uv run exo`, an activated venv, `uv tool`/pipx and Nix's uv2nix venv all give),
 * `python -m exo` / `-m exo.main`, or a wrapper that exec'd Python with argv[0] set to `…/bin/exo`.
 */
export function isSourceMainArgv(e: ProcessEntry): boolean {
  if (isExoHelper(e)) return false;
  if (isPythonPath(e.argv[0])) {
    const inv = pythonInvocation(e.argv);
    if (inv.mode === 'script') return /\/bin\/exo$/.test(inv.target ?? '');
    return inv.mode === 'module' && (inv.target === 'exo' || inv.target === 'exo.main');
  }
  return /\/bin\/exo$/.test(e.argv[0] ?? '') && isPythonPath(e.executable);
}

/** Whether a process could be EXO's main at all (for the pidfile): a Python, or a program called `exo`. */
export const couldBeExoMain = (e: ProcessEntry): boolean =>
  !isExoHelper(e) &&
  (isPythonPath(e.argv[0]) ||
    isPythonPath(e.executable) ||
    baseName(e.argv[0]) === 'exo' ||
    baseName(e.executable) === 'exo');

/**
 * The absolute interpreter path of a main when it belongs to EXO alone: a Python beside the `exo` console script
 * it runs (a venv or Nix env made for EXO), or EXO's own frozen executable. A shared Python (Homebrew's, the
 * system's) running `-m exo` is not: other programs' children run it too.
 */
export function exoOwnInterpreter(e: ProcessEntry): string | null {
  const a0 = e.argv[0];
  if (!a0?.startsWith('/')) return null;
  if (baseName(a0) === 'exo') return a0;
  if (!isPythonPath(a0)) return null;
  const inv = pythonInvocation(e.argv);
  return inv.mode === 'script' && inv.target === `${a0.slice(0, a0.lastIndexOf('/'))}/exo` ? a0 : null;
}
