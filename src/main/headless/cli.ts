#!/usr/bin/env -S node --max-semi-space-size=2
import { Command, CommanderError } from 'commander';
import { paths, resolveDataDir } from '../core/config/data-dir.js';
import { VERSION } from '../core/version.js';
import { registerAck } from './commands/ack-command.js';
import { registerAgent } from './commands/agent-command.js';
import { registerCluster } from './commands/cluster-command.js';
import { registerDaemon } from './commands/daemon-command.js';
import { registerDoctor } from './commands/doctor-command.js';
import { registerGuard } from './commands/guard-command.js';
import { registerPanics } from './commands/panics-command.js';
import { registerBacktest, registerReplay } from './commands/replay-command.js';
import { registerReport } from './commands/report-command.js';
import { registerStatus } from './commands/status-command.js';
import { registerTimeline } from './commands/timeline-command.js';
import { describeStoreProblem } from './store-problem.js';
import { EXIT_USAGE } from './usage-error.js';

export function buildProgram(): Command {
  const program = new Command('exo-sentinel')
    .description(
      'Watchdog for Apple Silicon machines running EXO: memory, GPU memory and EXO processes, kept as a timeline.',
    )
    .version(VERSION)
    .option('--data-dir <dir>', 'data directory (default: EXO_SENTINEL_HOME or the platform location)')
    .showHelpAfterError('(run with --help for usage)')
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
  registerReplay(program);
  registerBacktest(program);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program).slice(1)) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; every other command-line problem is a usage error.
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    // A corrupt, locked or read-only database is not a bug: one line, what to do, no stack.
    const dataDir = resolveDataDir(program.opts<{ dataDir?: string }>().dataDir);
    const problem = describeStoreProblem(e, paths(dataDir).database);
    if (problem) {
      process.stderr.write(`exo-sentinel: ${problem}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`exo-sentinel: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

await main(process.argv);
