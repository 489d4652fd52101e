import { homedir } from 'node:os';
import { join } from 'node:path';

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

export const paths = (dataDir: string) => ({
  database: join(dataDir, 'timeline.db'),
  config: join(dataDir, 'config.json'),
  logs: join(dataDir, 'logs'),
  logFile: join(dataDir, 'logs', 'exo-sentinel.log'),
  pidfile: join(dataDir, 'daemon.pid'),
  apiToken: join(dataDir, 'api-token'),
});
