#!/usr/bin/env -S node --max-semi-space-size=2 --no-turbofan --no-maglev
import { Command, CommanderError } from 'commander';
import { paths, resolveDataDir } from '../core/config/data-dir.js';
import { VERSION } from '../core/version.js';
import { registerAck } from './commands/ack-command.js';
import { registerAgent } from './commands/agent-command.js';
import { registerCluster } from './commands/cluster-command.js';
import { registerCompletion } from './commands/completion-command.js';
import { registerConfig } from './commands/config-command.js';
import { registerDaemon } from './commands/daemon-command.js';
import { registerDoctor } from './commands/doctor-command.js';
import { registerGuard } from './commands/guard-command.js';
import { registerLogs } from './commands/logs-command.js';
import { registerPanics } from './commands/panics-command.js';
import { registerBacktest, registerReplay } from './commands/replay-command.js';
import { registerReport } from './commands/report-command.js';
import { registerStatus } from './commands/status-command.js';
import { registerTimeline } from './commands/timeline-command.js';
import { registerUninstall } from './commands/uninstall-command.js';
import { errorLine, usageLine } from './error-line.js';
import { asksExitStatus, EXIT_UNKNOWN } from './exit-status.js';
import { describeStoreProblem } from './store-problem.js';
import { EXIT_FAILURE, EXIT_USAGE } from './usage-error.js';

export function buildProgram(): Command {
  const program = new Command('exo-sentinel')
    .description(
      'Watchdog for Apple Silicon machines running EXO: memory, GPU memory and EXO processes, kept as a timeline.',
    )
    .version(VERSION)
    .option('--data-dir <dir>', 'data directory (default: EXO_SENTINEL_HOME or the platform location)')
    .option('--no-color', 'no colours in terminal output (as NO_COLOR=1 does)')
    .option('--debug', 'show the stack trace of an unexpected error')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  registerDaemon(program);
  registerStatus(program);
  registerTimeline(program);
  registerPanics(program);
  registerReport(program);
  registerDoctor(program);
  registerAck(program);
  registerGuard(program);
  registerCluster(program);
  registerAgent(program);
  registerUninstall(program);
  registerReplay(program);
  registerBacktest(program);
  registerConfig(program);
  registerLogs(program);
  registerCompletion(program);
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

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
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
