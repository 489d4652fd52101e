import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { validateConfig } from '../core/config/config-loader.js';
import { paths } from '../core/config/data-dir.js';
import { type LockInfo, runningDaemon } from '../core/instance-lock.js';
import { bootFile } from './agent/agent-files.js';
import type { AgentManager, AgentStatus } from './agent/agent-manager.js';

/** One thing `uninstall` removes, as printed. */
export interface Removal {
  what: 'agent' | 'data' | 'config' | 'logs';
  path: string;
}

export interface UninstallPlan {
  dataDir: string;
  remove: Removal[];
  /** Left in place (without --purge), as printed. */
  keep: Removal[];
  /** What the person does by hand (the app's login item lives in System Settings). */
  hints: string[];
  /** Why nothing may be removed (a data directory that is not recognisably this tool's). */
  refusal: string | null;
}

/**
 * Every entry this tool (or the menu-bar app, whose profile is the data directory on macOS) writes in a data
 * directory: the timeline and its log, index and moved-aside copies, the lock (and the files beside it while
 * it is taken), token, configuration (and its write lock), Metal ceiling cache, atomic writes' temporary files,
 * and the app's Chromium profile and crash reports. The purge removes these and nothing else; a link among
 * them is removed, never followed.
 */
const OWN_ENTRY =
  /^(timeline(\.(corrupt|restored)-[0-9TZ:-]+(-\d+)?)?\.db(-wal|-shm|-journal)?|timeline\.db-(wal|shm)\.replaced-\d+|daemon\.pid(\.\d+\.(tmp|stale))?|api-token|config\.json(\.lock)?|metal-ceiling\.json(\.\d+\.tmp)?|Chromium|Crashpad|\.(config\.json|api-token|daemon\.pid|metal-ceiling\.json)\.\d+\.[0-9a-f]+\.tmp)$/;
/** The log folder inside a data directory, and the files this tool writes in it (the current ones and rotated). */
const LOG_DIRS = new Set(['logs', 'log']);
const OWN_LOG = /^(exo-sentinel(-app)?|launchd\.(out|err))(\.\d+)?\.log(\.\d+)?$/;

/** Whether a data directory's entry is this tool's own (`uninstall --purge` removes only those). */
export const isOwnEntry = (name: string): boolean => OWN_ENTRY.test(name);

/** Removes a folder's own entries (`own`), a log folder's own files within it; what is kept goes to `kept`. */
function purgeEntries(dir: string, own: (name: string) => boolean, kept: string[], prefix: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (LOG_DIRS.has(name) && !prefix && lstatSync(path).isDirectory()) {
      const before = kept.length;
      purgeEntries(path, (n) => OWN_LOG.test(n), kept, `${name}/`);
      if (kept.length === before) rmdirSync(path);
    } else if (own(name) && (name !== 'config.json' || isOurConfig(path)))
      rmSync(path, { recursive: true, force: true });
    else kept.push(`${prefix}${name}`);
  }
}

/**
 * Whether a `config.json` is this tool's: one its schema accepts (strict: an unknown key is refused). A shared
 * folder's own `config.json` (a project's, an app's) is not, and stays.
 */
function isOurConfig(path: string): boolean {
  try {
    const st = lstatSync(path);
    if (!st.isFile() || st.size > 1024 * 1024) return false;
    return validateConfig(JSON.parse(readFileSync(path, 'utf8'))).ok;
  } catch {
    return false;
  }
}

/**
 * Removes this tool's entries from a data directory, then the directory if nothing else is left in it (a
 * data directory that is a link is kept, with its target). A data directory pointed once at a shared folder
 * (EXO's home, a project) lost everything in it to the purge.
 */
export function purgeDataDir(dir: string): { removedDir: boolean; kept: string[]; link: boolean } {
  const kept: string[] = [];
  const link = lstatSync(dir).isSymbolicLink();
  purgeEntries(dir, isOwnEntry, kept, '');
  if (kept.length > 0 || link) return { removedDir: false, kept: kept.sort(), link };
  rmdirSync(dir);
  return { removedDir: true, kept, link };
}

/** A directory the purge may remove: named exo-sentinel, empty, or holding this tool's files; never home or /. */
export function purgeable(dir: string): string | null {
  const d = resolve(dir);
  if (d === sep || d === resolve(homedir()) || d.split(sep).length < 3)
    return `refusing to remove ${d}: it is the root, the home directory or too close to them`;
  if (!existsSync(d)) return null;
  if (!statSync(d).isDirectory()) return `refusing to remove ${d}: it is not a directory`;
  if (basename(d) === 'exo-sentinel') return null;
  const entries = readdirSync(d);
  // One of this tool's own entries makes a directory recognisably its data directory.
  if (entries.length === 0 || entries.some(isOwnEntry)) return null;
  return `refusing to remove ${d}: it holds none of exo-sentinel's files (timeline.db, config.json, daemon.pid)`;
}

const inside = (path: string, dir: string): boolean =>
  resolve(path) === resolve(dir) || resolve(path).startsWith(resolve(dir) + sep);

/** What `uninstall [--purge]` removes for this data directory and agent. Pure apart from existence checks. */
export function planUninstall(
  dataDir: string,
  agent: Pick<AgentStatus, 'installed' | 'path'>,
  purge: boolean,
  platform: NodeJS.Platform = process.platform,
  bootPath: string = bootFile(platform).path,
): UninstallPlan {
  const p = paths(dataDir);
  const remove: Removal[] = [];
  const keep: Removal[] = [];
  if (agent.installed) remove.push({ what: 'agent', path: agent.path });
  const data: Removal[] = [];
  if (existsSync(dataDir)) data.push({ what: 'data', path: resolve(dataDir) });
  // The config and the logs live apart from the data on some platforms (~/.config, ~/Library/Logs).
  const configDir = dirname(p.config);
  if (existsSync(p.config) && !inside(p.config, dataDir))
    data.push(
      basename(configDir) === 'exo-sentinel'
        ? { what: 'config', path: configDir }
        : { what: 'config', path: p.config },
    );
  if (existsSync(p.logs) && !inside(p.logs, dataDir)) data.push({ what: 'logs', path: p.logs });
  let refusal: string | null = null;
  if (purge) {
    remove.push(...data);
    refusal = purgeable(dataDir);
  } else keep.push(...data);
  const hints =
    platform === 'darwin'
      ? [
          "the menu-bar app's login item, if you enabled it: untick Open at Login in its menu, or remove exo-sentinel in System Settings › General › Login Items",
          'the app itself: move exo-sentinel.app from Applications to the Bin',
        ]
      : [];
  // The boot-time daemon is root's file: this user's uninstall cannot remove it, and says how.
  if (existsSync(bootPath))
    hints.unshift(`the boot-time daemon ${bootPath}: sudo exo-sentinel agent uninstall --at-boot`);
  return { dataDir: resolve(dataDir), remove, keep, hints, refusal };
}

export function describePlan(plan: UninstallPlan): string {
  const line = (r: Removal): string => `  ${r.what.padEnd(7)}${r.path}`;
  const out: string[] = [];
  out.push(plan.remove.length ? 'removes:' : 'nothing to remove');
  out.push(
    ...plan.remove.map((r) =>
      r.what === 'data'
        ? `${line(r)} (exo-sentinel's files in it, and the directory when nothing else is left)`
        : line(r),
    ),
  );
  if (plan.keep.length) out.push('keeps (remove them with --purge):', ...plan.keep.map(line));
  if (plan.hints.length) out.push('by hand:', ...plan.hints.map((h) => `  ${h}`));
  return `${out.join('\n')}\n`;
}

/**
 * A daemon of this data directory that is running must stop first. It stops when the agent ran it (removing
 * the agent stops it); one started any other way is left alone and the uninstall refused.
 */
export function blockingDaemon(
  dataDir: string,
  agent: Pick<AgentStatus, 'installed' | 'running' | 'pid'>,
): { daemon: LockInfo; stoppable: boolean } | null {
  const daemon = runningDaemon(paths(dataDir).pidfile);
  if (!daemon) return null;
  const stoppable =
    agent.installed && agent.running === true && (agent.pid === null || agent.pid === daemon.pid);
  return { daemon, stoppable };
}

/** Waits until no daemon holds the data directory's pidfile. */
export async function waitForStop(dataDir: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (runningDaemon(paths(dataDir).pidfile)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

export interface UninstallOutcome {
  ok: boolean;
  lines: string[];
}

/** Removes the agent (through the manager: it stops and unloads it) and, in the plan, the rest. */
export async function executeUninstall(plan: UninstallPlan, agent: AgentManager): Promise<UninstallOutcome> {
  const lines: string[] = [];
  let ok = true;
  for (const r of plan.remove) {
    try {
      if (r.what === 'agent') {
        const u = await agent.uninstall();
        lines.push(`removed agent   ${r.path}${u.ok ? '' : ` (${u.message})`}`);
      } else if (r.what === 'data' && existsSync(r.path)) {
        const { removedDir, kept, link } = purgeDataDir(r.path);
        const others = `${kept.length} other entr${kept.length === 1 ? 'y' : 'ies'}: ${kept.slice(0, 10).join(', ')}${kept.length > 10 ? ', …' : ''}`;
        lines.push(
          removedDir
            ? `removed data    ${r.path}`
            : `removed data    ${r.path}: exo-sentinel's files only; kept the directory${link ? ' (a link)' : ''}${kept.length ? ` and ${others}` : ''}`,
        );
      } else {
        rmSync(r.path, { recursive: true, force: true });
        lines.push(`removed ${r.what.padEnd(7)} ${r.path}`);
      }
    } catch (e) {
      ok = false;
      lines.push(`could not remove ${r.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return { ok, lines };
}
