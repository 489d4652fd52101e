import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The data directory: `--data-dir`, else EXO_SENTINEL_HOME, else the platform's place —
 * ~/Library/Application Support/exo-sentinel on macOS, $XDG_STATE_HOME/exo-sentinel or
 * ~/.local/state/exo-sentinel elsewhere.
 */
export function resolveDataDir(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
): string {
  if (flag) return flag;
  if (env['EXO_SENTINEL_HOME']) return env['EXO_SENTINEL_HOME'];
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'exo-sentinel');
  const state = env['XDG_STATE_HOME'];
  return join(state?.startsWith('/') ? state : join(homedir(), '.local', 'state'), 'exo-sentinel');
}

/**
 * Where the logs go. For the platform's data directory: ~/Library/Logs/exo-sentinel on macOS (where Console
 * looks), $XDG_STATE_HOME/exo-sentinel/log (~/.local/state/exo-sentinel/log) on Linux. A data directory chosen
 * with `--data-dir` or EXO_SENTINEL_HOME keeps its logs inside it (`logs/`): one directory, one daemon.
 */
export function logDir(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const { EXO_SENTINEL_HOME: _, ...rest } = env;
  const standard = resolveDataDir(undefined, rest, platform);
  if (resolve(dataDir) !== resolve(standard)) return join(dataDir, 'logs');
  return platform === 'darwin' ? join(homedir(), 'Library', 'Logs', 'exo-sentinel') : join(standard, 'log');
}

/** The daemon's log file keeps this name (the current file); older ones are exo-sentinel.1.log, .2.log … */
export const DAEMON_LOG = 'exo-sentinel.log';

export const paths = (dataDir: string) => ({
  database: join(dataDir, 'timeline.db'),
  config: join(dataDir, 'config.json'),
  logs: logDir(dataDir),
  logFile: join(logDir(dataDir), DAEMON_LOG),
  pidfile: join(dataDir, 'daemon.pid'),
  apiToken: join(dataDir, 'api-token'),
});
