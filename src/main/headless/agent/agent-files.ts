import { homedir } from 'node:os';
import { join } from 'node:path';
import { build } from 'plist';
import { DAEMON_NODE_FLAGS } from '../node-flags.js';

export const LAUNCHD_LABEL = 'io.exo-sentinel.daemon';
export const SYSTEMD_UNIT = 'exo-sentinel.service';

export interface AgentSpec {
  /** Absolute path of the node binary (launchd and systemd start with a minimal PATH). */
  node: string;
  /** Absolute path of the built CLI (dist/main/headless/cli.js). */
  cli: string;
  dataDir: string;
  /** Extra daemon flags, e.g. ['--exo-url', 'http://127.0.0.1:52415']. */
  args: string[];
}

export function agentFile(
  platform: NodeJS.Platform,
  home = homedir(),
): { kind: 'launchd' | 'systemd'; path: string } {
  return platform === 'darwin'
    ? { kind: 'launchd', path: join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`) }
    : { kind: 'systemd', path: join(home, '.config', 'systemd', 'user', SYSTEMD_UNIT) };
}

/**
 * A launchd agent: restarted (at most every 10 s) when it fails, not when it exits 0 — "already running"
 * exits 0, so a second copy does not loop; logs in the data directory.
 */
export function launchdPlist(spec: AgentSpec): string {
  return build({
    Label: LAUNCHD_LABEL,
    ProgramArguments: [
      spec.node,
      ...DAEMON_NODE_FLAGS,
      spec.cli,
      'daemon',
      '--data-dir',
      spec.dataDir,
      ...spec.args,
    ],
    RunAtLoad: true,
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 10,
    ProcessType: 'Standard',
    WorkingDirectory: spec.dataDir,
    EnvironmentVariables: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', EXO_SENTINEL_HOME: spec.dataDir },
    StandardOutPath: join(spec.dataDir, 'logs', 'launchd.out.log'),
    StandardErrorPath: join(spec.dataDir, 'logs', 'launchd.err.log'),
  });
}

const quote = (a: string): string =>
  /^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/(["\\$`])/g, '\\$1')}"`;

/** A systemd user unit: restarted after 10 s when it fails (not on exit 0); the journal keeps stdout/stderr. */
export function systemdUnit(spec: AgentSpec): string {
  return [
    '[Unit]',
    'Description=exo-sentinel: watchdog for EXO distributed inference',
    'After=network-online.target',
    '',
    '[Service]',
    `ExecStart=${[spec.node, ...DAEMON_NODE_FLAGS, spec.cli, 'daemon', '--data-dir', spec.dataDir, ...spec.args].map(quote).join(' ')}`,
    `Environment=EXO_SENTINEL_HOME=${quote(spec.dataDir)}`,
    'Restart=on-failure',
    'RestartSec=10',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}
