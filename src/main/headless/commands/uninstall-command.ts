import { homedir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveDataDir } from '../../core/config/data-dir.js';
import { runCommand } from '../../core/probes/command-runner.js';
import { AgentManager } from '../agent/agent-manager.js';
import { blockingDaemon, describePlan, executeUninstall, planUninstall, waitForStop } from '../uninstall.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../usage-error.js';

/** How long a daemon stopped through its agent may take to leave. */
const STOP_WAIT_MS = 15_000;

async function confirmed(): Promise<boolean> {
  // Loaded here: every command (the daemon too) imports this module, and readline is only for this question.
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question('Remove these? [y/N] ')).trim());
  } finally {
    rl.close();
  }
}

export function registerUninstall(program: Command): void {
  program
    .command('uninstall')
    .description(
      'remove the login agent (launchd/systemd); with --purge also the data (timeline, reports, token), the configuration and the logs',
    )
    .option('--purge', 'also remove the data directory, the configuration and the logs')
    .option('--yes', 'do not ask (needed when not on a terminal)')
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ dataDir?: string; purge?: boolean; yes?: boolean }>();
      process.exitCode = await uninstall(
        resolve(resolveDataDir(f.dataDir)),
        f.purge === true,
        f.yes === true,
      );
    });
}

async function uninstall(dataDir: string, purge: boolean, yes: boolean): Promise<number> {
  const agent = new AgentManager(runCommand, process.platform, homedir(), userInfo().uid);
  const status = await agent.status();
  const plan = planUninstall(dataDir, status, purge);
  process.stdout.write(describePlan(plan));
  if (plan.refusal) {
    process.stderr.write(`exo-sentinel: ${plan.refusal}\n`);
    return EXIT_FAILURE;
  }
  const block = blockingDaemon(dataDir, status);
  if (block && !block.stoppable) {
    process.stderr.write(
      `exo-sentinel: a daemon (pid ${block.daemon.pid}) is running for ${dataDir} and was not started by the agent: stop it (kill ${block.daemon.pid}) and run uninstall again\n`,
    );
    return EXIT_FAILURE;
  }
  if (plan.remove.length === 0) return 0;
  if (!yes) {
    if (!process.stdin.isTTY) {
      process.stderr.write('exo-sentinel: not on a terminal: add --yes to remove these without asking\n');
      return EXIT_USAGE;
    }
    if (!(await confirmed())) {
      process.stdout.write('nothing removed\n');
      return 0;
    }
  }
  if (block) {
    process.stdout.write(`stopping the daemon (pid ${block.daemon.pid}) through its agent\n`);
    await agent.uninstall();
    if (!(await waitForStop(dataDir, STOP_WAIT_MS))) {
      process.stderr.write(
        `exo-sentinel: the daemon (pid ${block.daemon.pid}) still runs ${STOP_WAIT_MS / 1000} s after its agent was removed; nothing else removed\n`,
      );
      return EXIT_FAILURE;
    }
  }
  const done = await executeUninstall(plan, agent);
  process.stdout.write(`${done.lines.join('\n')}\n`);
  return done.ok ? 0 : EXIT_FAILURE;
}
