import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../src/main/headless/node-flags.js';
import { repoRoot } from './fixtures.js';

/** The built CLI; integration tests run it as a real child process (`npm test` builds first). */
export const cliPath = join(repoRoot, 'dist', 'main', 'headless', 'cli.js');

function ensureBuilt(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliResult> {
  ensureBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`exo-sentinel ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Collects a child's stdout and stderr, and waits until they match `ready` (or the child exits, or time runs out). */
async function awaitOutput(
  child: ChildProcess,
  ready: RegExp,
  what: string,
  timeoutMs: number,
): Promise<{ output: () => string; match: RegExpExecArray }> {
  let out = '';
  const collect = (d: Buffer): void => {
    out += d.toString();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const deadline = Date.now() + timeoutMs;
  let m = ready.exec(out);
  while (!m && Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
    m = ready.exec(out);
  }
  if (!m) throw new Error(`${what} did not start: ${out}`);
  return { output: () => out, match: m };
}

/** Starts `exo-sentinel daemon …` in the background; resolves once it has printed its start line. */
export async function startDaemon(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<
  ChildProcess & { output: () => string; guardUrl: () => string | null; apiUrl: () => string | null }
> {
  ensureBuilt();
  // Tests run in parallel: each daemon's guard takes a free port unless the test names one.
  const guardArgs = [
    ...(args.some((a) => a === '--guard-listen' || a === '--no-guard')
      ? []
      : ['--guard-listen', '127.0.0.1:0']),
    ...(args.some((a) => a === '--api-listen' || a === '--no-api') ? [] : ['--api-listen', '127.0.0.1:0']),
  ];
  // With the flags it ships with (npm start, the login agent), so tests and benches see its real footprint.
  const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, cliPath, 'daemon', ...args, ...guardArgs], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  const { output } = await awaitOutput(
    child,
    /exo-sentinel daemon: pid[\s\S]*\n {2}guard \s*\S+/,
    'the daemon',
    15_000,
  );
  return Object.assign(child, {
    output,
    guardUrl: () => /guard {4}(http:\/\/\S+)/.exec(output())?.[1] ?? null,
    apiUrl: () => /api {6}(http:\/\/[^/\s]+)/.exec(output())?.[1] ?? null,
  });
}

/** Waits for a child to exit; a child still running after `timeoutMs` is killed and the wait fails. */
export const waitForExit = (
  child: ChildProcess,
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve({ code: child.exitCode, signal: child.signalCode });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pid ${child.pid} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the fake EXO as its own process; resolves with its API and control URLs. */
export async function startFakeExoProcess(
  args: string[] = [],
): Promise<{ child: ChildProcess; url: string; control: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'test', 'support', 'fake-exo-main.ts'), ...args],
    {
      cwd: repoRoot,
      stdio: 'pipe',
    },
  );
  const { match: m } = await awaitOutput(
    child,
    /fake-exo listening (\S+) control (\S+)/,
    'the fake EXO',
    20_000,
  );
  return {
    child,
    url: m[1]!,
    control: m[2]!,
    stop: async () => {
      child.kill('SIGTERM');
      await waitForExit(child, 5000).catch(() => undefined);
    },
  };
}
