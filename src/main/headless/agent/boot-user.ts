import { lchownSync, lstatSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandRunner } from '../../core/probes/command-runner.js';
import { readSmallFile } from '../../core/util/small-file.js';

/** The account a boot-time daemon runs as: never root. */
export interface BootUser {
  name: string;
  uid: number;
  gid: number;
  /** The primary group's name; null when no group has that id (systemd then takes the number). */
  group: string | null;
  home: string;
}

export type BootUserResult = { ok: true; user: BootUser } | { ok: false; error: string };

/** Account names as useradd and macOS accept them; anything else is refused before it reaches a file. */
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
export const validUserName = (name: string): boolean => NAME.test(name);

const PASSWD_MAX = 4 * 1024 * 1024;

/** The line of `name` in /etc/passwd text (name:password:uid:gid:gecos:home:shell); comments skipped. */
export function parsePasswd(text: string, name: string): BootUserResult {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes(':')) continue;
    const f = line.split(':');
    if (f[0] !== name || f.length < 7) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    const home = f[5] ?? '';
    if (
      !Number.isInteger(uid) ||
      !Number.isInteger(gid) ||
      f[2] === '' ||
      f[3] === '' ||
      !home.startsWith('/')
    )
      return { ok: false, error: `user ${name}: its /etc/passwd line cannot be read (${line.trim()})` };
    return { ok: true, user: { name, uid, gid, group: null, home } };
  }
  return { ok: false, error: `unknown user ${name} (not in /etc/passwd)` };
}

/** The name of group `gid` in /etc/group text (name:password:gid:members). */
export function groupFromEtcGroup(text: string, gid: number): string | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length >= 3 && f[2] !== '' && Number(f[2]) === gid && f[0]) return f[0];
  }
  return null;
}

/**
 * `dscl . -read /Users/NAME NFSHomeDirectory UniqueID PrimaryGroupID`: "Key: value" lines; a value with
 * spaces may come on the next line, indented.
 */
export function parseDscl(text: string, name: string): BootUserResult {
  const values = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\w+):\s?(.*)$/.exec(lines[i] ?? '');
    if (!m?.[1]) continue;
    let value = (m[2] ?? '').trim();
    if (value === '' && /^\s+\S/.test(lines[i + 1] ?? '')) value = (lines[++i] ?? '').trim();
    values.set(m[1], value);
  }
  const home = values.get('NFSHomeDirectory') ?? '';
  const uid = Number(values.get('UniqueID') ?? 'x');
  const gid = Number(values.get('PrimaryGroupID') ?? 'x');
  if (!home.startsWith('/') || !Number.isInteger(uid) || !Number.isInteger(gid))
    return { ok: false, error: `user ${name}: dscl did not give its home, UniqueID and PrimaryGroupID` };
  return { ok: true, user: { name, uid, gid, group: null, home } };
}

/** `dscl . -list /Groups PrimaryGroupID`: "name   gid" lines. */
export function groupFromDsclList(text: string, gid: number): string | null {
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(-?\d+)\s*$/.exec(line);
    if (m?.[1] && Number(m[2]) === gid) return m[1];
  }
  return null;
}

export interface LookupOptions {
  platform: NodeJS.Platform;
  run: CommandRunner;
  /** Where /etc/passwd and /etc/group are (tests give fixtures). */
  passwd?: string;
  group?: string;
}

/** NAME's uid, primary gid and group, and home: from /etc/passwd on Linux, dscl on macOS. Never throws. */
export async function lookupBootUser(name: string, o: LookupOptions): Promise<BootUserResult> {
  if (!validUserName(name)) return { ok: false, error: `"${name}" is not a user name` };
  if (o.platform === 'darwin') {
    const r = await o.run('/usr/bin/dscl', [
      '.',
      '-read',
      `/Users/${name}`,
      'NFSHomeDirectory',
      'UniqueID',
      'PrimaryGroupID',
    ]);
    if (!r.ok || r.exitCode !== 0)
      return { ok: false, error: `unknown user ${name} (dscl has no /Users/${name})` };
    const found = parseDscl(r.stdout, name);
    if (!found.ok) return found;
    const groups = await o.run('/usr/bin/dscl', ['.', '-list', '/Groups', 'PrimaryGroupID']);
    const group = groups.ok ? groupFromDsclList(groups.stdout, found.user.gid) : null;
    return { ok: true, user: { ...found.user, group } };
  }
  const passwd = readSmallFile(o.passwd ?? '/etc/passwd', PASSWD_MAX);
  if (!passwd.ok) return { ok: false, error: `cannot read ${o.passwd ?? '/etc/passwd'}: ${passwd.message}` };
  const found = parsePasswd(passwd.text, name);
  if (!found.ok) return found;
  const groups = readSmallFile(o.group ?? '/etc/group', PASSWD_MAX);
  const group = groups.ok ? groupFromEtcGroup(groups.text, found.user.gid) : null;
  return { ok: true, user: { ...found.user, group } };
}

/**
 * NAME's own data and log directories: what resolveDataDir and logDir give when NAME runs exo-sentinel
 * (its home, no EXO_SENTINEL_HOME or XDG_STATE_HOME: a boot service has neither), or `--data-dir` with its
 * logs inside it.
 */
export function bootDirs(
  home: string,
  platform: NodeJS.Platform,
  dataDirFlag?: string,
): { dataDir: string; logDir: string } {
  if (dataDirFlag) {
    const dataDir = resolve(dataDirFlag);
    return { dataDir, logDir: join(dataDir, 'logs') };
  }
  if (platform === 'darwin')
    return {
      dataDir: join(home, 'Library', 'Application Support', 'exo-sentinel'),
      logDir: join(home, 'Library', 'Logs', 'exo-sentinel'),
    };
  const dataDir = join(home, '.local', 'state', 'exo-sentinel');
  return { dataDir, logDir: join(dataDir, 'log') };
}

/**
 * mkdir -p as root for `owner`: every directory it creates is owned by `owner`, and the directory itself is
 * given to `owner` when it was left owned by root (an earlier run under sudo), so the daemon can write there.
 * Nothing is created or chowned through a link: below the user's home every component is the user's to
 * replace, and `~/.local/state/exo-sentinel` made a link to /etc would otherwise have had root create
 * directories there, or hand /etc itself to the user. Links above the home (macOS's /var → /private/var)
 * are the system's. lchown, never chown.
 */
export function mkdirOwned(path: string, owner: { uid: number; gid: number }, home: string): void {
  const full = resolve(path);
  const userSide = (p: string): boolean => p === resolve(home) || p.startsWith(`${resolve(home)}/`);
  let at = '';
  for (const part of full.split('/').filter(Boolean)) {
    at += `/${part}`;
    let st: ReturnType<typeof lstatSync> | null = null;
    try {
      st = lstatSync(at);
    } catch {
      st = null;
    }
    if (st === null) {
      mkdirSync(at);
      lchownSync(at, owner.uid, owner.gid);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (userSide(at) || at === full)
        throw new Error(
          `${at} is a symbolic link: refusing to create or hand over ${full} through it as root`,
        );
      continue;
    }
    if (!st.isDirectory()) throw new Error(`${at} is not a directory`);
  }
  const st = lstatSync(full);
  if (st.uid === 0 && owner.uid !== 0 && userSide(full)) lchownSync(full, owner.uid, owner.gid);
}

/** Who the boot daemon runs as, or why not: root only, never as root, `--user` else SUDO_USER. */
export function bootInstallDecision(o: {
  uid: number | undefined;
  user: string | undefined;
  sudoUser: string | undefined;
  verb: 'install' | 'uninstall';
}): { ok: true; user: string } | { ok: false; message: string } {
  if (o.uid !== 0)
    return {
      ok: false,
      message: `agent ${o.verb} --at-boot changes a system service: run it with sudo (sudo exo-sentinel agent ${o.verb} --at-boot${o.verb === 'install' ? ' --user NAME' : ''})`,
    };
  const user = o.user ?? o.sudoUser;
  if (o.verb === 'uninstall') return { ok: true, user: user ?? '' };
  if (!user)
    return {
      ok: false,
      message: '--at-boot needs --user NAME (the account that runs EXO); SUDO_USER is not set either',
    };
  if (user === 'root')
    return {
      ok: false,
      message:
        'refusing to run the daemon as root: the watchdog does not need it; name the account that runs EXO with --user NAME',
    };
  if (!validUserName(user)) return { ok: false, message: `"${user}" is not a user name` };
  return { ok: true, user };
}
