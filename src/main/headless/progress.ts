/** What a slow command shows while it works: on stderr, only for a person at a terminal. */
export interface Progress {
  /** What is being done now ("reading this machine"). */
  update(text: string): void;
  /** Removes the line (a spinner) before the command prints its answer. */
  done(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CLEAR = '\r\u001b[K';

export type ProgressStyle = 'spinner' | 'plain' | 'none';

/**
 * A spinner on a terminal; plain lines (no escape sequences) on a terminal with NO_COLOR set or TERM=dumb;
 * nothing when stderr is not a terminal (a pipe, a file, a script), so output stays clean.
 */
export function progressStyle(
  stream: { isTTY?: boolean } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): ProgressStyle {
  if (stream.isTTY !== true) return 'none';
  return env['NO_COLOR'] || env['TERM'] === 'dumb' ? 'plain' : 'spinner';
}

export function startProgress(
  prefix: string,
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
  frameMs = 80,
): Progress {
  const style = progressStyle(stream, env);
  if (style === 'none') return { update: () => undefined, done: () => undefined };
  if (style === 'plain')
    return {
      update: (text) => {
        stream.write(`${prefix}: ${text}…\n`);
      },
      done: () => undefined,
    };
  let text = '';
  let frame = 0;
  let timer: NodeJS.Timeout | null = null;
  const draw = (): void => {
    // Never wider than the terminal: a wrapped line could not be redrawn in place.
    const width = Math.max(10, (stream.columns || 80) - 1);
    stream.write(`${CLEAR}${`${FRAMES[frame++ % FRAMES.length]} ${prefix}: ${text}…`.slice(0, width)}`);
  };
  return {
    update: (t) => {
      text = t;
      draw();
      if (!timer) {
        timer = setInterval(draw, frameMs);
        timer.unref();
      }
    },
    done: () => {
      if (timer) clearInterval(timer);
      timer = null;
      stream.write(CLEAR);
    },
  };
}
