/**
 * What a person sees of a failed command: one line on stderr, `exo-sentinel: <what went wrong>`; the stack
 * trace only when asked for with `--debug`.
 */
export function errorLine(e: unknown, debug: boolean): string {
  if (debug && e instanceof Error && e.stack) return `exo-sentinel: ${e.stack}\n`;
  const message = e instanceof Error ? e.message : String(e);
  const hint = debug ? '' : ' (run with --debug for the stack trace)';
  return `exo-sentinel: ${oneLine(message)}${hint}\n`;
}

/** Commander's own messages (`error: unknown option '--jsn'\n(Did you mean --json?)`) as one line. */
export function usageLine(command: string, message: string): string {
  const text = oneLine(
    message.replace(/^error:\s*/, '').replace(/\(Did you mean ([^)]*)\)/, '(did you mean $1)'),
  );
  return `${command}: ${text}; see ${command} --help\n`;
}

export const oneLine = (text: string): string => text.trim().replace(/\s*[\r\n]+\s*/g, ' ');
