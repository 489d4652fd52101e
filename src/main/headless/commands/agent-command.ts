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
import { tokenForRequest } from '../daemon-client.js';
import { EXIT_FAILURE, httpUrl } from '../usage-error.js';
import { configFor } from './status-command.js';

const manager = (): AgentManager => new AgentManager(runCommand, process.platform, homedir(), userInfo().uid);

export function registerAgent(program: Command): void {
  const agent = program
    .command('agent')
    .description('run the daemon at login: a launchd agent (macOS) or a systemd user unit (Linux)');

  agent
    .command('install')
    .description('install (or refresh) the agent and start it; safe to run again')
    .option('--exo-url <url>', "EXO's API, passed to the daemon", httpUrl)
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ dataDir?: string; exoUrl?: string }>();
      const dataDir = resolve(resolveDataDir(f.dataDir));
      const cli = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'cli.js'));
      const r = await manager().install({
        node: process.execPath,
        cli,
        dataDir,
        logDir: paths(dataDir).logs,
        args: f.exoUrl ? ['--exo-url', f.exoUrl] : [],
      });
      process.stdout.write(`${r.message}\n`);
      if (!r.ok) process.exitCode = EXIT_FAILURE;
    });

  agent
    .command('uninstall')
    .description('stop the agent and remove everything install wrote')
    .action(async () => {
      const r = await manager().uninstall();
      process.stdout.write(`${r.message}\n`);
    });

  agent
    .command('status')
    .description('whether the agent is installed and running, and where its API is (with its token)')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ dataDir?: string; json?: boolean }>();
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
