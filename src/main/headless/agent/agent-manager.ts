import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandRunner } from '../../core/probes/command-runner.js';
import {
  type AgentSpec,
  agentFile,
  agentLogDir,
  type BootSpec,
  bootFile,
  LAUNCHD_LABEL,
  launchdDaemonPlist,
  launchdPlist,
  SYSTEMD_UNIT,
  systemdSystemUnit,
  systemdUnit,
} from './agent-files.js';
import { mkdirOwned } from './boot-user.js';

export interface AgentStatus {
  kind: 'launchd' | 'systemd';
  installed: boolean;
  path: string;
  running: boolean | null;
  pid: number | null;
  detail: string;
}

export interface AgentResult {
  ok: boolean;
  changed: boolean;
  message: string;
}

/**
 * The system scope: a LaunchDaemon (launchctl domain `system`) or a system unit (systemctl without
 * --user), started at boot as a user. `root` is where /Library and /etc are (tests give a temp dir).
 */
export interface SystemScope {
  root?: string;
}

/**
 * Installs the daemon as a launchd agent (macOS) or a systemd user unit (Linux), or with `system` as a
 * boot-time LaunchDaemon or system unit run as a user. Idempotent: an install
 * that finds the same file only makes sure it is loaded; uninstall removes everything install wrote.
 * launchctl/systemctl run through a command port (tests give a fake).
 */
export class AgentManager {
  private readonly file: { kind: 'launchd' | 'systemd'; path: string };

  constructor(
    private readonly run: CommandRunner,
    platform: NodeJS.Platform,
    home: string,
    private readonly uid: number,
    private readonly system?: SystemScope,
  ) {
    this.file = system ? bootFile(platform, system.root) : agentFile(platform, home);
  }

  get path(): string {
    return this.file.path;
  }

  private get domain(): string {
    return this.system ? 'system' : `gui/${this.uid}`;
  }

  private systemctl(...args: string[]) {
    return this.run('systemctl', this.system ? args : ['--user', ...args]);
  }

  private get systemd(): string {
    return this.system ? 'systemd' : 'the systemd user manager';
  }

  /** The login agent; in the system scope, give a BootSpec (installBoot). */
  async install(spec: AgentSpec): Promise<AgentResult> {
    if (this.system) throw new Error('AgentManager: the system scope installs with installBoot');
    const text = this.file.kind === 'launchd' ? await launchdPlist(spec) : systemdUnit(spec);
    mkdirSync(agentLogDir(spec), { recursive: true });
    return this.load(text);
  }

  /** The boot-time daemon: the data and log directories made (and owned) by its user, the file root's. */
  async installBoot(spec: BootSpec, owner: { uid: number; gid: number }): Promise<AgentResult> {
    if (!this.system) throw new Error('AgentManager: installBoot needs the system scope');
    const text = this.file.kind === 'launchd' ? await launchdDaemonPlist(spec) : systemdSystemUnit(spec);
    try {
      mkdirOwned(spec.dataDir, owner, spec.home);
      mkdirOwned(agentLogDir(spec), owner, spec.home);
    } catch (e) {
      return { ok: false, changed: false, message: (e as Error).message };
    }
    return this.load(text);
  }

  private async load(text: string): Promise<AgentResult> {
    const before = existsSync(this.file.path) ? readFileSync(this.file.path, 'utf8') : null;
    const changed = before !== text;
    mkdirSync(dirname(this.file.path), { recursive: true });
    if (changed) {
      writeFileSync(this.file.path, text, { mode: 0o644 });
      chmodSync(this.file.path, 0o644); // whatever the umask, and a file already there
    }
    if (this.file.kind === 'launchd') {
      if (changed) await this.run('/bin/launchctl', ['bootout', `${this.domain}/${LAUNCHD_LABEL}`]);
      const status = await this.status();
      if (!changed && status.running)
        return { ok: true, changed: false, message: `already installed and running (${this.file.path})` };
      const boot = await this.run('/bin/launchctl', ['bootstrap', this.domain, this.file.path]);
      if (!boot.ok)
        return {
          ok: false,
          changed,
          message: `wrote ${this.file.path}, but launchctl bootstrap failed: ${boot.error}`,
        };
      await this.run('/bin/launchctl', ['enable', `${this.domain}/${LAUNCHD_LABEL}`]);
      return { ok: true, changed, message: `${changed ? 'installed' : 'reloaded'} ${this.file.path}` };
    }
    const reload = await this.systemctl('daemon-reload');
    if (!reload.ok)
      return {
        ok: false,
        changed,
        message: `wrote ${this.file.path}, but ${this.systemd} is not available (${reload.error}); run the daemon another way (see the README)`,
      };
    const enable = await this.systemctl('enable', '--now', SYSTEMD_UNIT);
    if (!enable.ok)
      return {
        ok: false,
        changed,
        message: `wrote ${this.file.path}, but systemctl ${this.system ? '' : '--user '}enable --now failed: ${enable.error}`,
      };
    return {
      ok: true,
      changed,
      message: `${changed ? 'installed' : 'already installed'}: ${this.file.path} (enabled and started)`,
    };
  }

  async uninstall(): Promise<AgentResult> {
    const present = existsSync(this.file.path);
    if (this.file.kind === 'launchd')
      await this.run('/bin/launchctl', ['bootout', `${this.domain}/${LAUNCHD_LABEL}`]);
    else await this.systemctl('disable', '--now', SYSTEMD_UNIT);
    if (present) rmSync(this.file.path);
    if (this.file.kind === 'systemd') await this.systemctl('daemon-reload');
    return { ok: true, changed: present, message: present ? `removed ${this.file.path}` : 'not installed' };
  }

  async status(): Promise<AgentStatus> {
    const installed = existsSync(this.file.path);
    if (this.file.kind === 'launchd') {
      const r = await this.run('/bin/launchctl', ['print', `${this.domain}/${LAUNCHD_LABEL}`]);
      if (!r.ok || r.exitCode !== 0)
        return {
          kind: 'launchd',
          installed,
          path: this.file.path,
          running: installed ? false : null,
          pid: null,
          detail: r.ok ? 'not loaded' : r.error,
        };
      const state = /^\s*state = (\S+)/m.exec(r.stdout)?.[1] ?? 'unknown';
      const pid = /^\s*pid = (\d+)/m.exec(r.stdout)?.[1];
      const lastExit = /last exit code = (.+)$/m.exec(r.stdout)?.[1];
      return {
        kind: 'launchd',
        installed,
        path: this.file.path,
        running: state === 'running',
        pid: pid ? Number(pid) : null,
        detail: `state ${state}${lastExit ? `, last exit ${lastExit}` : ''}`,
      };
    }
    const active = await this.systemctl('is-active', SYSTEMD_UNIT);
    if (!active.ok)
      return {
        kind: 'systemd',
        installed,
        path: this.file.path,
        running: null,
        pid: null,
        detail: `${this.system ? 'systemd' : 'systemd user manager'} not available: ${active.error}`,
      };
    const state = active.stdout.trim();
    const show = await this.systemctl('show', '-p', 'MainPID', '--value', SYSTEMD_UNIT);
    const pid = show.ok ? Number(show.stdout.trim()) : 0;
    return {
      kind: 'systemd',
      installed,
      path: this.file.path,
      running: state === 'active',
      pid: pid > 0 ? pid : null,
      detail: state,
    };
  }
}
