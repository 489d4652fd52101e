import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CommandRunner } from '../../core/probes/command-runner.js';
import {
  type AgentSpec,
  agentFile,
  agentLogDir,
  LAUNCHD_LABEL,
  launchdPlist,
  SYSTEMD_UNIT,
  systemdUnit,
} from './agent-files.js';

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
 * Installs the daemon as a launchd agent (macOS) or a systemd user unit (Linux). Idempotent: an install
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
  ) {
    this.file = agentFile(platform, home);
  }

  get path(): string {
    return this.file.path;
  }

  private get domain(): string {
    return `gui/${this.uid}`;
  }

  async install(spec: AgentSpec): Promise<AgentResult> {
    const text = this.file.kind === 'launchd' ? await launchdPlist(spec) : systemdUnit(spec);
    const before = existsSync(this.file.path) ? readFileSync(this.file.path, 'utf8') : null;
    const changed = before !== text;
    mkdirSync(dirname(this.file.path), { recursive: true });
    mkdirSync(agentLogDir(spec), { recursive: true });
    if (changed) writeFileSync(this.file.path, text, { mode: 0o644 });
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
    const reload = await this.run('systemctl', ['--user', 'daemon-reload']);
    if (!reload.ok)
      return {
        ok: false,
        changed,
        message: `wrote ${this.file.path}, but the systemd user manager is not available (${reload.error}); run the daemon another way (see the README)`,
      };
    const enable = await this.run('systemctl', ['--user', 'enable', '--now', SYSTEMD_UNIT]);
    if (!enable.ok)
      return {
        ok: false,
        changed,
        message: `wrote ${this.file.path}, but systemctl --user enable --now failed: ${enable.error}`,
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
    else await this.run('systemctl', ['--user', 'disable', '--now', SYSTEMD_UNIT]);
    if (present) rmSync(this.file.path);
    if (this.file.kind === 'systemd') await this.run('systemctl', ['--user', 'daemon-reload']);
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
    const active = await this.run('systemctl', ['--user', 'is-active', SYSTEMD_UNIT]);
    if (!active.ok)
      return {
        kind: 'systemd',
        installed,
        path: this.file.path,
        running: null,
        pid: null,
        detail: `systemd user manager not available: ${active.error}`,
      };
    const state = active.stdout.trim();
    const show = await this.run('systemctl', ['--user', 'show', '-p', 'MainPID', '--value', SYSTEMD_UNIT]);
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
