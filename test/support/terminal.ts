/**
 * Runs a command on a pseudo-terminal with `script`, as in a person's shell: stdout and stderr are a TTY and come
 * back together. Linux has util-linux's `script -qec CMD /dev/null`; macOS the BSD one, `script -q /dev/null CMD…`,
 * which forwards its own stdin to the terminal, so that is an open pipe (/dev/null's end of file would reach the
 * command as a ^D).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const linux = process.platform === 'linux';

/** Why the terminal tests cannot run here, or false. */
export const noTerminal: string | false = (
  linux
    ? spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0
    : existsSync('/usr/bin/script')
)
  ? false
  : linux
    ? 'util-linux `script` is not installed'
    : 'no /usr/bin/script';

/** Runs `argv` (quoted for /bin/sh, never interpreted) on a pseudo-terminal; resolves with its exit and output. */
export function onTerminal(
  argv: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const command = argv.map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'script',
      linux ? ['-qec', command, '/dev/null'] : ['-q', '/dev/null', '/bin/sh', '-c', command],
      { env: { ...process.env, ...env }, stdio: [linux ? 'ignore' : 'pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} on a terminal did not finish\n${output}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin?.end();
      resolve({ code, output });
    });
  });
}

/** `timeout -s INT N` (coreutils; not on macOS) or the same in Node: the SIGINT a person's Ctrl-C sends. */
export function interruptAfter(seconds: number): string[] {
  if (spawnSync('timeout', ['--version']).status === 0) return ['timeout', '-s', 'INT', String(seconds)];
  return [
    process.execPath,
    '-e',
    `const c = require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit' });
setTimeout(() => c.kill('SIGINT'), ${seconds * 1000});
c.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 0)));`,
  ];
}
