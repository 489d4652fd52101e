import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

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
 * Why the daemon must not write in `dir`, or null: it belongs to another user (not root), or group or others
 * may create files in it. Whoever can plant a name there (`timeline.db`, `logs/exo-sentinel.log`) as a link
 * has the daemon write its timeline or its log into any file this user can write. A link to a directory is
 * judged by the directory it names, and that link must be this user's or root's too.
 */
export function unsafeDataDir(dir: string, uid: number | undefined = process.getuid?.()): string | null {
  if (uid === undefined) return null;
  try {
    const link = lstatSync(dir);
    if (link.isSymbolicLink() && link.uid !== uid && link.uid !== 0)
      return `is a link owned by another user (uid ${link.uid}): they could point it anywhere`;
    const st = statSync(dir);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    if (st.uid !== uid && st.uid !== 0)
      return `belongs to another user (uid ${st.uid}, mode ${mode}): another user could plant links there that the daemon would write its timeline and log through`;
    if ((st.mode & 0o022) !== 0)
      return `can be written by ${st.mode & 0o002 ? 'anyone' : 'its group'} (mode ${mode}): another user could plant links there that the daemon would write its timeline and log through`;
    // A parent others can write without the sticky bit, or another user's, lets them rename this directory
    // away and put their own in its place (/tmp is sticky: only a name's owner may move it). A parent its
    // group can write is left alone: with a group of one's own (Debian's and Ubuntu's umask 002) ~/.local is
    // 0775. The path is walked as given, each part's link too, and as resolved.
    const parents = new Set<string>();
    for (let p = dirname(resolve(dir)); ; p = dirname(p)) {
      parents.add(p);
      if (p === dirname(p)) break;
    }
    for (let p = dirname(realpathSync(dir)); ; p = dirname(p)) {
      parents.add(p);
      if (p === dirname(p)) break;
    }
    for (const p of parents) {
      const parentLink = lstatSync(p);
      const ps = parentLink.isSymbolicLink() ? statSync(p) : parentLink;
      const owners = parentLink.isSymbolicLink()
        ? [['link', parentLink] as const, ['directory', ps] as const]
        : [['directory', ps] as const];
      for (const [what, st] of owners)
        if (st.uid !== uid && st.uid !== 0)
          return `is in ${p}, a ${what} of another user (uid ${st.uid}): they could move it away and put their own in its place`;
      if ((ps.mode & 0o002) !== 0 && (ps.mode & 0o1000) === 0)
        return `is in ${p}, which anyone can write (mode ${(ps.mode & 0o7777).toString(8).padStart(4, '0')}, no sticky bit): they could move it away and put their own in its place`;
    }
    return null;
  } catch {
    return null; // Not there: made 0700 by the caller, or its absence is said where it is opened.
  }
}

/**
 * The platform's data directory, whatever EXO_SENTINEL_HOME says. Only the variable it reads is copied: the
 * config reloader asks for the config's place every 2 s, and copying the whole environment was most of that.
 */
export function standardDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  return resolveDataDir(undefined, { XDG_STATE_HOME: env['XDG_STATE_HOME'] }, platform);
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
  const standard = standardDataDir(env, platform);
  if (resolve(dataDir) !== resolve(standard)) return join(dataDir, 'logs');
  return platform === 'darwin' ? join(homedir(), 'Library', 'Logs', 'exo-sentinel') : join(standard, 'log');
}

/** The daemon's log file keeps this name (the current file); older ones are exo-sentinel.1.log, .2.log … */
export const DAEMON_LOG = 'exo-sentinel.log';

/** Where the configuration file is read and written, where it belongs, and an old file found in the data dir. */
export interface ConfigLocation {
  /** The file in use: `preferred`, or `legacy` while only the old file exists. */
  path: string;
  preferred: string;
  /** config.json in the platform's data directory, where versions before 0.2 kept it (null: none there). */
  legacy: string | null;
}

/**
 * The configuration file. For the platform's data directory: $XDG_CONFIG_HOME/exo-sentinel/config.json
 * (~/.config/exo-sentinel/config.json) on Linux, ~/Library/Application Support/exo-sentinel/config.json on
 * macOS. A data directory chosen with `--data-dir` or EXO_SENTINEL_HOME keeps its config.json inside it. A
 * config.json left in the Linux data directory (the old place) is still used while the new one does not
 * exist; the daemon says where to move it.
 */
export function configLocation(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): ConfigLocation {
  const inDir = join(dataDir, 'config.json');
  if (resolve(dataDir) !== resolve(standardDataDir(env, platform)))
    return { path: inDir, preferred: inDir, legacy: null };
  const xdg = env['XDG_CONFIG_HOME'];
  const preferred =
    platform === 'darwin'
      ? join(homedir(), 'Library', 'Application Support', 'exo-sentinel', 'config.json')
      : join(xdg?.startsWith('/') ? xdg : join(homedir(), '.config'), 'exo-sentinel', 'config.json');
  if (resolve(preferred) === resolve(inDir)) return { path: inDir, preferred, legacy: null };
  const legacy = existsSync(inDir) ? inDir : null;
  return { path: legacy && !existsSync(preferred) ? legacy : preferred, preferred, legacy };
}

/** The line the daemon logs at start when a config.json sits at the old place (null: nothing to say). */
export function legacyConfigNotice(loc: ConfigLocation): string | null {
  if (!loc.legacy) return null;
  return loc.path === loc.legacy
    ? `the configuration is read from ${loc.legacy}, its old place; move it to ${loc.preferred} (mkdir -p "${dirname(loc.preferred)}" && mv "${loc.legacy}" "${loc.preferred}")`
    : `${loc.legacy} is ignored: the configuration is read from ${loc.preferred}; remove the old file`;
}

export const paths = (dataDir: string) => ({
  database: join(dataDir, 'timeline.db'),
  config: configLocation(dataDir).path,
  logs: logDir(dataDir),
  logFile: join(logDir(dataDir), DAEMON_LOG),
  pidfile: join(dataDir, 'daemon.pid'),
  apiToken: join(dataDir, 'api-token'),
});
