import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import type { CommandRunner } from '../../core/probes/command-runner.js';
import { readSmallFile } from '../../core/util/small-file.js';
import { agentFile } from './agent-files.js';
import { AgentManager, type AgentStatus, type SystemScope } from './agent-manager.js';
import { bootDirs, bootInstallDecision, lookupBootUser } from './boot-user.js';

/** What a boot-time command prints and how it exits (1: refused or failed). */
export interface BootOutcome {
  ok: boolean;
  /** Lines for stdout. */
  out: string[];
  /** A one-line refusal or failure for stderr. */
  error?: string;
}

export interface BootContext {
  run: CommandRunner;
  platform: NodeJS.Platform;
  uid: number | undefined;
  sudoUser: string | undefined;
  scope?: SystemScope;
  /** Where /etc/passwd and /etc/group are (tests). */
  passwd?: string;
  group?: string;
}

const manager = (c: BootContext): AgentManager =>
  new AgentManager(c.run, c.platform, homedir(), userInfo().uid, c.scope ?? {});

/**
 * `sudo exo-sentinel agent install --at-boot [--user NAME]`: the daemon as NAME from boot, in NAME's own
 * data directory (or `--data-dir`), whose directories NAME owns.
 */
export async function installAtBoot(
  c: BootContext,
  o: { user?: string; dataDir?: string; node: string; cli: string; args: string[] },
): Promise<BootOutcome> {
  const who = bootInstallDecision({ uid: c.uid, user: o.user, sudoUser: c.sudoUser, verb: 'install' });
  if (!who.ok) return { ok: false, out: [], error: who.message };
  const found = await lookupBootUser(who.user, {
    platform: c.platform,
    run: c.run,
    ...(c.passwd ? { passwd: c.passwd } : {}),
    ...(c.group ? { group: c.group } : {}),
  });
  if (!found.ok) return { ok: false, out: [], error: found.error };
  const user = found.user;
  if (user.uid === 0)
    return {
      ok: false,
      out: [],
      error: `refusing to run the daemon as ${user.name} (uid 0): the watchdog does not need root; name the account that runs EXO with --user NAME`,
    };
  const dirs = bootDirs(user.home, c.platform, o.dataDir);
  const r = await manager(c).installBoot(
    {
      node: o.node,
      cli: o.cli,
      dataDir: dirs.dataDir,
      logDir: dirs.logDir,
      args: o.args,
      user: user.name,
      group: user.group,
      gid: user.gid,
      home: user.home,
    },
    { uid: user.uid, gid: user.gid },
  );
  const out = [r.message, `runs as ${user.name}, data in ${dirs.dataDir}, logs in ${dirs.logDir}`];
  const login = agentFile(c.platform, user.home).path;
  if (existsSync(login))
    out.push(
      `note: ${user.name} also has a login agent (${login}): both start a daemon for their data directory; remove one (as ${user.name}: exo-sentinel agent uninstall; or sudo exo-sentinel agent uninstall --at-boot)`,
    );
  return r.ok ? { ok: true, out } : { ok: false, out: out.slice(1), error: r.message };
}

export async function uninstallAtBoot(c: BootContext): Promise<BootOutcome> {
  const who = bootInstallDecision({ uid: c.uid, user: undefined, sudoUser: c.sudoUser, verb: 'uninstall' });
  if (!who.ok) return { ok: false, out: [], error: who.message };
  const r = await manager(c).uninstall();
  return { ok: true, out: [r.message] };
}

/** The account the installed file runs the daemon as (UserName / User=), null when none is installed. */
export function bootFileUser(path: string): string | null {
  const r = readSmallFile(path, 1024 * 1024);
  if (!r.ok) return null;
  const m = /<key>UserName<\/key>\s*<string>([^<]*)<\/string>/.exec(r.text) ?? /^User=(.*)$/m.exec(r.text);
  return m?.[1] ?? null;
}

/** `agent status --at-boot`: the boot-time daemon's file, state and user; no root needed. */
export async function statusAtBoot(
  c: BootContext,
  json: boolean,
): Promise<BootOutcome & { status: AgentStatus & { user: string | null } }> {
  const s = await manager(c).status();
  const status = { ...s, user: s.installed ? bootFileUser(s.path) : null };
  const state =
    s.running === null ? 'unknown' : s.running ? `running${s.pid ? ` (pid ${s.pid})` : ''}` : 'not running';
  const out = json
    ? [JSON.stringify(status, null, 2)]
    : [
        `boot    ${s.kind} ${s.installed ? `installed at ${s.path}, runs as ${status.user ?? 'unknown'}` : 'not installed'}`,
        `state   ${state} — ${s.detail}`,
      ];
  return { ok: true, out, status };
}
