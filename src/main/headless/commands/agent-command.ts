import { realpathSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadOrCreateToken, tokenNoticeText } from '../../core/api/api-token.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { runCommand } from '../../core/probes/command-runner.js';
import { AgentManager } from '../agent/agent-manager.js';
import {
  type BootContext,
  type BootOutcome,
  installAtBoot,
  statusAtBoot,
  uninstallAtBoot,
} from '../agent/boot-agent.js';
import { tokenForRequest } from '../daemon-client.js';
import { EXIT_FAILURE, EXIT_USAGE, httpUrl } from '../usage-error.js';
import { configFor } from './status-command.js';

const manager = (): AgentManager => new AgentManager(runCommand, process.platform, homedir(), userInfo().uid);

const bootContext = (): BootContext => ({
  run: runCommand,
  platform: process.platform,
  uid: process.getuid?.(),
  sudoUser: process.env['SUDO_USER'] || undefined,
});

function report(r: BootOutcome): void {
  if (r.out.length) process.stdout.write(`${r.out.join('\n')}\n`);
  if (r.error) process.stderr.write(`exo-sentinel: ${r.error}\n`);
  if (!r.ok) process.exitCode = EXIT_FAILURE;
}

export function registerAgent(program: Command): void {
  const agent = program
    .command('agent')
    .description(
      'run the daemon at login: a launchd agent (macOS) or a systemd user unit (Linux); with --at-boot, from boot as a user (sudo)',
    );

  agent
    .command('install')
    .description('install (or refresh) the agent and start it; safe to run again')
    .option('--exo-url <url>', "EXO's API, passed to the daemon", httpUrl)
    .option('--at-boot', 'a LaunchDaemon or system unit started at boot, run as --user (needs sudo)')
    .option(
      '--user <name>',
      'with --at-boot: the account the daemon runs as (default: SUDO_USER; never root)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ dataDir?: string; exoUrl?: string; atBoot?: boolean; user?: string }>();
      const cli = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.js'));
      const args = f.exoUrl ? ['--exo-url', f.exoUrl] : [];
      if (f.atBoot)
        return report(
          await installAtBoot(bootContext(), {
            ...(f.user ? { user: f.user } : {}),
            ...(f.dataDir ? { dataDir: f.dataDir } : {}),
            node: process.execPath,
            cli,
            args,
          }),
        );
      if (f.user) {
        process.stderr.write('exo-sentinel: --user goes with --at-boot (the login agent runs as you)\n');
        process.exitCode = EXIT_USAGE;
        return;
      }
      const dataDir = resolve(resolveDataDir(f.dataDir));
      const r = await manager().install({
        node: process.execPath,
        cli,
        dataDir,
        logDir: paths(dataDir).logs,
        args,
      });
      process.stdout.write(`${r.message}\n`);
      if (!r.ok) process.exitCode = EXIT_FAILURE;
    });

  agent
    .command('uninstall')
    .description('stop the agent and remove everything install wrote')
    .option('--at-boot', 'the boot-time daemon instead (needs sudo)')
    .action(async (o: { atBoot?: boolean }) => {
      if (o.atBoot) return report(await uninstallAtBoot(bootContext()));
      const r = await manager().uninstall();
      process.stdout.write(`${r.message}\n`);
    });

  agent
    .command('status')
    .description('whether the agent is installed and running, and where its API is (with its token)')
    .option('--json', 'print JSON')
    .option('--at-boot', 'the boot-time daemon: its file, state and user')
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ dataDir?: string; json?: boolean; atBoot?: boolean }>();
      if (f.atBoot) return report(await statusAtBoot(bootContext(), f.json === true));
      const dataDir = resolveDataDir(f.dataDir);
      const config = configFor(dataDir);
      if (!config) return;
      const s = await manager().status();
      // The running daemon of this data directory says where it listens; else the configured address.
      const running = runningDaemon(paths(dataDir).pidfile);
      const api = running?.api ?? `http://${config.api.listen}`;
      let answers = false;
      try {
        answers = (await fetch(`${api}/api/v1/status`, { signal: AbortSignal.timeout(1500) })).ok;
      } catch {
        answers = false;
      }
      const token = statusToken(paths(dataDir).apiToken, running !== null);
      const out = { ...s, api: { url: api, answers, token, tokenFile: paths(dataDir).apiToken } };
      if (f.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      process.stdout.write(
        [
          `agent   ${s.kind} ${s.installed ? `installed at ${s.path}` : 'not installed'}`,
          `state   ${s.running === null ? 'unknown' : s.running ? `running${s.pid ? ` (pid ${s.pid})` : ''}` : 'not running'} — ${s.detail}`,
          `api     ${api} ${answers ? 'answers' : 'does not answer'}`,
          `token   ${token ?? 'none'} (${paths(dataDir).apiToken}; needed when the API listens beyond loopback)`,
          '',
        ].join('\n'),
      );
    });
}

/**
 * The token `agent status` shows. While a daemon runs, the file as the CLI reads it (the daemon holds its
 * token in memory: the file is not rewritten under it); else loaded or made as the daemon would. What is wrong
 * with the file goes to stderr, never the token.
 */
function statusToken(path: string, daemonRunning: boolean): string | null {
  if (daemonRunning) return tokenForRequest(path);
  const load = loadOrCreateToken(path);
  for (const n of load.notices) process.stderr.write(`exo-sentinel: warning: ${tokenNoticeText(n)}\n`);
  if (!load.ok) process.stderr.write(`exo-sentinel: ${load.error}\n`);
  return load.ok ? load.token : null;
}
