import { homedir } from 'node:os';
import { join } from 'node:path';
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
  /** Where launchd writes the daemon's stdout/stderr (the log directory; default `logs/` in the data directory). */
  logDir?: string;
}

/** The daemon's stdout and stderr under launchd: start lines and crashes only (it logs to its own file). */
export const LAUNCHD_STDOUT = 'launchd.out.log';
export const LAUNCHD_STDERR = 'launchd.err.log';
/** Their rotation, by the daemon at start and every hour: 1 MiB, two older copies. */
export const AGENT_OUTPUT_ROTATION = { maxBytes: 1024 * 1024, keep: 2 };
export const agentLogDir = (spec: AgentSpec): string => spec.logDir ?? join(spec.dataDir, 'logs');

/** The boot-time daemon's file, run as a user but started by the system (under `root`; tests give a temp dir). */
export function bootFile(
  platform: NodeJS.Platform,
  root = '/',
): { kind: 'launchd' | 'systemd'; path: string } {
  return platform === 'darwin'
    ? { kind: 'launchd', path: join(root, 'Library', 'LaunchDaemons', `${LAUNCHD_LABEL}.plist`) }
    : { kind: 'systemd', path: join(root, 'etc', 'systemd', 'system', SYSTEMD_UNIT) };
}

/** A boot-time daemon: the agent's spec plus the account it runs as (never root). */
export interface BootSpec extends AgentSpec {
  user: string;
  /** The user's primary group's name (null: launchd takes the primary group, systemd the number). */
  group: string | null;
  gid: number;
  home: string;
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
 * exits 0, so a second copy does not loop. launchd never rotates StandardOutPath/StandardErrorPath: they go to
 * the log directory and the daemon rotates them in place (rotating-file.ts rotateInPlace).
 */
export async function launchdPlist(spec: AgentSpec): Promise<string> {
  // Loaded here, not at start-up: plist and its XML libraries cost the daemon 3.8 MiB of RSS it never uses
  // (the CLI loads every command's module to register it).
  const { build } = await import('plist');
  return build(launchdJob(spec));
}

function launchdJob(spec: AgentSpec) {
  return {
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
    StandardOutPath: join(agentLogDir(spec), LAUNCHD_STDOUT),
    StandardErrorPath: join(agentLogDir(spec), LAUNCHD_STDERR),
  };
}

/**
 * The same job as a LaunchDaemon (/Library/LaunchDaemons, domain `system`): it starts at boot, before
 * anyone logs in, as `UserName` in its primary group, with that user's HOME.
 */
export async function launchdDaemonPlist(spec: BootSpec): Promise<string> {
  const { build } = await import('plist');
  const job = launchdJob(spec);
  return build({
    ...job,
    EnvironmentVariables: { ...job.EnvironmentVariables, HOME: spec.home },
    UserName: spec.user,
    ...(spec.group ? { GroupName: spec.group } : {}),
  });
}

/**
 * systemd reads a unit's values its own way, not as a shell does: `%` starts a specifier everywhere (`%h` is
 * the home directory) and is written `%%`; in a command line `$` starts a variable and is written `$$`; inside
 * double quotes `\\` and `"` are escaped with a backslash. A line break cannot be written at all (it would end
 * the directive and start another), so a path holding one is refused.
 */
function systemdValue(a: string, inCommand: boolean): string {
  if (/[\n\r]/.test(a)) throw new Error(`a systemd unit cannot hold a line break: ${JSON.stringify(a)}`);
  let v = a.replace(/%/g, '%%');
  if (inCommand) v = v.replace(/\$/g, '$$$$');
  return /^[\w@+=:,./-]+$/.test(v) ? v : `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

/** One word of ExecStart. */
const commandWord = (a: string): string => systemdValue(a, true);

/** An `Environment=` assignment, quoted whole (`$` has no meaning there). */
const environment = (name: string, value: string): string =>
  `Environment=${systemdValue(`${name}=${value}`, false)}`;

/**
 * A systemd user unit: restarted after 10 s when it fails (not on exit 0); the journal keeps stdout/stderr
 * (`journalctl --user -u exo-sentinel`, bounded by journald), the daemon's own log is its rotated file.
 */
export function systemdUnit(spec: AgentSpec): string {
  return unit(spec, ['After=network-online.target'], [], 'default.target');
}

/** The same service in the system manager (/etc/systemd/system): started at boot as `User=`. */
export function systemdSystemUnit(spec: BootSpec): string {
  return unit(
    spec,
    ['Wants=network-online.target', 'After=network-online.target'],
    [`User=${spec.user}`, `Group=${spec.group ?? spec.gid}`, environment('HOME', spec.home)],
    'multi-user.target',
  );
}

function unit(spec: AgentSpec, after: string[], service: string[], wantedBy: string): string {
  return [
    '[Unit]',
    'Description=exo-sentinel: watchdog for EXO distributed inference',
    ...after,
    '',
    '[Service]',
    ...service,
    `ExecStart=${[spec.node, ...DAEMON_NODE_FLAGS, spec.cli, 'daemon', '--data-dir', spec.dataDir, ...spec.args].map(commandWord).join(' ')}`,
    environment('EXO_SENTINEL_HOME', spec.dataDir),
    'Restart=on-failure',
    'RestartSec=10',
    '',
    '[Install]',
    `WantedBy=${wantedBy}`,
    '',
  ].join('\n');
}
