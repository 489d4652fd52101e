import type { ProcessEntry } from '../probes/probe-types.js';
import {
  couldBeExoMain,
  exoOwnInterpreter,
  isExoApp,
  isExoHelper,
  isResourceTracker,
  isRunnerShape,
  isSourceMainArgv,
  pythonModule,
  runsBundledExo,
} from './exo-argv.js';

/** What a process's argument vector and executable say about it, for the classifier. */
export interface ProcessShape {
  app: boolean;
  helper: boolean;
  bundled: boolean;
  sourceMain: boolean;
  couldBeMain: boolean;
  runner: boolean;
  tracker: boolean;
  ownInterpreter: string | null;
  module: string | null;
  /** The executable and argv joined, what the MLX-server patterns are matched against. */
  line: string;
  /** The last pattern list this line was matched against, and the outcome. */
  mlxPatterns?: readonly RegExp[];
  mlx?: boolean;
}

const shapes = new WeakMap<ProcessEntry, ProcessShape>();

/**
 * The shape of a table row, worked out once per row object: the probes keep a row while the process lives
 * (same pid and start time; only its parent pid is refreshed), and the classifier runs every second over
 * every process of the machine, so the argv predicates and the joined line are not redone each tick.
 */
export function shapeOf(e: ProcessEntry): ProcessShape {
  let s = shapes.get(e);
  if (!s) {
    const argvLine = e.argv.join(' ');
    s = {
      app: isExoApp(e),
      helper: isExoHelper(e),
      bundled: runsBundledExo(e),
      sourceMain: isSourceMainArgv(e),
      couldBeMain: couldBeExoMain(e),
      runner: isRunnerShape(e),
      tracker: isResourceTracker(e),
      ownInterpreter: exoOwnInterpreter(e),
      module: pythonModule(e),
      line: e.executable ? `${e.executable} ${argvLine}` : argvLine,
    };
    shapes.set(e, s);
  }
  return s;
}

/**
 * How much of a command line the MLX-server patterns see: a server names itself near the start, and any
 * local user can make a line as long as the system allows, so a pattern's cost is bounded by this length.
 */
export const MAX_MATCHED_LINE_CHARS = 4096;

/** Whether the row matches one of the MLX-server patterns (remembered while the same list is asked). */
export function matchesMlxServer(e: ProcessEntry, patterns: readonly RegExp[]): boolean {
  const s = shapeOf(e);
  if (s.mlxPatterns !== patterns) {
    s.mlxPatterns = patterns;
    const line = s.line.length > MAX_MATCHED_LINE_CHARS ? s.line.slice(0, MAX_MATCHED_LINE_CHARS) : s.line;
    s.mlx = patterns.some((re) => {
      re.lastIndex = 0;
      return re.test(line);
    });
  }
  return s.mlx === true;
}
