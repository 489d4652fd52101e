/**
 * Regular expressions from the configuration, which the daemon runs over every process's command line (any
 * local user can write one), compiled for V8's linear-time engine (the `l` flag): whatever the line, a match
 * costs time in proportion to it. A backtracking engine is exponential on patterns as plain as `(a|a)*b`
 * (28 characters: 15 s) and polynomial on `.*.*x` (4096 characters: 8.7 s), and no check of a pattern's
 * shape catches them all. A pattern the linear engine cannot run (a backreference, a lookahead) is refused.
 *
 * The engine is behind V8's `--enable-experimental-regexp-engine`: the daemon is started with it, and
 * anything else (the app, the CLI) gets it set here before the first pattern is compiled (it only lets `l`
 * be used). A runtime without the engine compiles patterns as they are.
 */
import type * as V8 from 'node:v8';

/** The flag, held in a variable: TypeScript knows no `l`. */
const LINEAR: string = 'l';

let linear: boolean | null = null;

function compilesLinear(): boolean {
  try {
    // Never a literal: with this flag it would not even parse where the engine is missing.
    new RegExp('a', LINEAR);
    return true;
  } catch {
    return false;
  }
}

function linearEngine(): boolean {
  if (linear === null) {
    linear = compilesLinear();
    if (!linear) {
      (process.getBuiltinModule('node:v8') as typeof V8).setFlagsFromString(
        '--enable-experimental-regexp-engine',
      );
      linear = compilesLinear();
    }
  }
  return linear;
}

export type PatternResult = { ok: true; regexp: RegExp } | { ok: false; problem: string };

export function linearRegExp(pattern: string): PatternResult {
  try {
    new RegExp(pattern);
  } catch {
    return { ok: false, problem: 'must be a valid regular expression' };
  }
  if (!linearEngine()) return { ok: true, regexp: new RegExp(pattern) };
  try {
    return { ok: true, regexp: new RegExp(pattern, LINEAR) };
  } catch {
    return {
      ok: false,
      problem:
        'cannot run in linear time (a backreference or a lookahead): over a command line any local user writes, it could hold the daemon',
    };
  }
}

/** A validated configuration's pattern (its check passed at validation). */
export const compilePattern = (pattern: string): RegExp => {
  const r = linearRegExp(pattern);
  if (!r.ok) throw new Error(`pattern ${JSON.stringify(pattern)} ${r.problem}`);
  return r.regexp;
};

/**
 * One of our own patterns run over text an outsider writes (EXO's log: any program of its user can append
 * to it), for the linear-time engine, with its flags. `(.+?)\s*$` backtracks in proportion to the square
 * of a run of spaces: one 1 MiB line held the daemon 7 minutes.
 */
export const linearOf = (re: RegExp): RegExp =>
  linearEngine() ? new RegExp(re.source, `${re.flags}${LINEAR}`) : re;
