#!/usr/bin/env -S node --max-semi-space-size=1 --no-turbofan --no-maglev --enable-experimental-regexp-engine
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { paths, resolveDataDir } from '../core/config/data-dir.js';
import { VERSION } from '../core/version.js';
import { errorLine, usageLine } from './error-line.js';
import { asksExitStatus, EXIT_UNKNOWN } from './exit-status.js';
import { describeStoreProblem } from './store-problem.js';
import { EXIT_FAILURE, EXIT_USAGE } from './usage-error.js';

type Register = (program: Command) => void;

/** The commands in the order help lists them, each module imported only when the program needs it. */
const COMMANDS: ReadonlyArray<[name: string, load: () => Promise<Register[]>]> = [
  ['daemon', async () => [(await import('./commands/daemon-command.js')).registerDaemon]],
  ['status', async () => [(await import('./commands/status-command.js')).registerStatus]],
  ['timeline', async () => [(await import('./commands/timeline-command.js')).registerTimeline]],
  ['panics', async () => [(await import('./commands/panics-command.js')).registerPanics]],
  ['report', async () => [(await import('./commands/report-command.js')).registerReport]],
  ['doctor', async () => [(await import('./commands/doctor-command.js')).registerDoctor]],
  ['ack', async () => [(await import('./commands/ack-command.js')).registerAck]],
  ['guard', async () => [(await import('./commands/guard-command.js')).registerGuard]],
  ['cluster', async () => [(await import('./commands/cluster-command.js')).registerCluster]],
  ['agent', async () => [(await import('./commands/agent-command.js')).registerAgent]],
  ['uninstall', async () => [(await import('./commands/uninstall-command.js')).registerUninstall]],
  [
    'replay',
    async () => {
      const m = await import('./commands/replay-command.js');
      return [m.registerReplay, m.registerBacktest];
    },
  ],
  ['config', async () => [(await import('./commands/config-command.js')).registerConfig]],
  ['logs', async () => [(await import('./commands/logs-command.js')).registerLogs]],
  ['completion', async () => [(await import('./commands/completion-command.js')).registerCompletion]],
];

/** The command the arguments name: the first operand after the global options (`--data-dir` takes a value). */
function commandIn(argv: readonly string[]): string | null {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--data-dir') i++;
    else if (a === '--') return argv[i + 1] ?? null;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

/**
 * The program for these arguments. The daemon runs for weeks, so its process loads its own command only (the
 * other commands' modules cost it 0.8 MiB of RSS, measured); every other command, help and completion get all.
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('exo-sentinel')
    .description(
      'Watchdog for Apple Silicon machines running EXO: memory, GPU memory and EXO processes, kept as a timeline.',
    )
    .version(VERSION)
    .option(
      '--data-dir <dir>',
      'data directory (default: EXO_SENTINEL_HOME or the platform location)',
      (v: string) => {
        // An empty value (an unset shell variable) would silently mean the default directory.
        if (v.trim() === '') throw new InvalidArgumentError('expected a directory, got an empty value');
        return v;
      },
    )
    .option('--no-color', 'no colours in terminal output (as NO_COLOR=1 does)')
    .option('--debug', 'show the stack trace of an unexpected error')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  const wanted = commandIn(argv) === 'daemon' ? COMMANDS.filter(([name]) => name === 'daemon') : COMMANDS;
  for (const registers of await Promise.all(wanted.map(([, load]) => load())))
    for (const register of registers) register(program);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  const path = (c: Command): string => (c.parent ? `${path(c.parent)} ${c.name()}` : c.name());
  // Every usage error is one line on stderr naming the command and where its help is.
  for (const c of all(program))
    c.exitOverride().configureOutput({ outputError: (str, write) => write(usageLine(path(c), str)) });
  program.hook('preAction', (_program, action) => {
    // --no-color is NO_COLOR for everything this process (and what it runs) prints.
    if (action.optsWithGlobals<{ color?: boolean }>().color === false) process.env['NO_COLOR'] = '1';
  });
  return program;
}

/**
 * A reader that closed the pipe (`exo-sentinel logs | head -1`) ends a command's output, quietly, with the
 * exit code it had: Node would throw its write error with a stack trace. The daemon keeps running: a closed
 * stdout is no reason to stop watching.
 */
function endOnClosedPipe(daemon: boolean): void {
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
      if (!daemon) process.exit(process.exitCode ?? 0);
    });
}

export async function main(argv: string[]): Promise<void> {
  endOnClosedPipe(commandIn(argv) === 'daemon');
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    // `status --exit-status` promises 0-3 for a level and 4 for anything else.
    const exitStatus = asksExitStatus(argv);
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other command-line problem is a usage error.
      process.exitCode = e.exitCode === 0 ? 0 : exitStatus ? EXIT_UNKNOWN : EXIT_USAGE;
      return;
    }
    // A corrupt, locked or read-only database is not a bug: one line, what to do, no stack.
    const dataDir = resolveDataDir(program.opts<{ dataDir?: string }>().dataDir);
    const problem = describeStoreProblem(e, paths(dataDir).database);
    if (problem) {
      process.stderr.write(`exo-sentinel: ${problem}\n`);
      process.exitCode = exitStatus ? EXIT_UNKNOWN : EXIT_FAILURE;
      return;
    }
    process.stderr.write(errorLine(e, program.opts<{ debug?: boolean }>().debug === true));
    process.exitCode = exitStatus ? EXIT_UNKNOWN : EXIT_FAILURE;
  }
}

await main(process.argv);
