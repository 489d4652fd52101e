import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ConfigReloadState, ReloadOutcome, ReloadTrigger } from '../../../shared/status-view.js';
import { readConfigText } from './config-file-text.js';
import { needsRestart, RESTART_KEYS } from './config-keys.js';
import type { ConfigResult } from './config-loader.js';
import type { Config } from './config-schema.js';
import { isObj, type Obj, valueAt, withValue } from './dotted-keys.js';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The dotted keys whose values differ (objects compared key by key, arrays and scalars whole), sorted. */
export function changedKeys(a: unknown, b: unknown, at = ''): string[] {
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedKeys(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return same(a, b) ? [] : [at || '(top level)'];
}

/**
 * The configuration a running daemon can use: `next` for everything that applies live, the running value
 * for every key that needs a restart (so what the daemon reports is what it runs with).
 */
export function liveConfig(running: Config, next: Config): Config {
  let out = next as unknown as Obj;
  for (const k of RESTART_KEYS) out = withValue(out, k, valueAt(running, k));
  return out as unknown as Config;
}

/** What asked for a reload, what one did, and the reloader's state (as the status and the API show it). */
export type { ConfigReloadState, ReloadOutcome, ReloadTrigger };

export interface ConfigReloaderOptions {
  /**
   * Where the file is, asked at every check: it may move (an old config.json moved to the platform's
   * config directory), and the watch follows it.
   */
  locate: () => string;
  /** Reads and validates the file at `path` with the command line's overrides, as at start. */
  load: (path: string) => ConfigResult;
  /** The configuration the daemon started with (restart-only keys are compared with it). */
  started: Config;
  /**
   * Applies a configuration to the running daemon; returns problems that refuse it (nothing is applied
   * then), e.g. removing the guard's token while it listens beyond loopback.
   */
  apply: (next: Config) => string[];
  /** Told every reload that changed something or failed (events, log). */
  report: (outcome: ReloadOutcome) => void;
  now?: () => number;
  /** A stat of the file this often catches what a file-system event missed (ms; 0 = off). */
  pollMs?: number;
  /** Events within this window are one reload (an editor writes, renames, chmods). */
  debounceMs?: number;
}

/**
 * Reloads the configuration file when it changes (a watch on its directory, as editors and atomic writes
 * replace the file, plus a periodic stat) and when asked (SIGHUP, the API). A file that does not validate
 * keeps the configuration in use and is reported with its errors; one that does is applied at once for what
 * can change live, and the keys that need a restart are said.
 */
export class ConfigReloader {
  private watcher: FSWatcher | null = null;
  private path: string;
  private poll: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private signature: string;
  private fileText: string | null;
  private current: Config;
  private readonly now: () => number;
  private readonly st: ConfigReloadState;

  constructor(private readonly o: ConfigReloaderOptions) {
    this.now = o.now ?? Date.now;
    this.current = o.started;
    this.path = o.locate();
    this.signature = this.stat();
    this.fileText = this.read();
    this.st = {
      path: this.path,
      loadedAt: this.now(),
      reloads: 0,
      restartRequired: [],
      error: null,
      last: null,
    };
  }

  get state(): ConfigReloadState {
    return { ...this.st, restartRequired: [...this.st.restartRequired] };
  }

  start(): void {
    this.watch();
    const every = this.o.pollMs ?? 2000;
    if (every > 0) {
      this.poll = setInterval(() => {
        if (this.o.locate() !== this.path || this.stat() !== this.signature) this.soon();
      }, every);
      this.poll.unref();
    }
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = this.debounce = null;
  }

  /** A watch on the file's directory: editors and atomic writes replace the file, so its name is watched. */
  private watch(): void {
    this.watcher?.close();
    this.watcher = null;
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
        if (file === null || file === name) this.soon();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // The directory does not exist yet (no config file): the periodic stat notices one appearing.
      this.watcher = null;
    }
  }

  /** Follows the file to where it is now (an old config.json moved to the platform's place). */
  private relocate(): boolean {
    const now = this.o.locate();
    if (now === this.path) return false;
    this.path = now;
    this.st.path = now;
    if (this.poll) this.watch();
    return true;
  }

  private soon(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      const moved = this.relocate();
      // Same bytes (a touch, an editor's backup dance, the same file moved): nothing to do.
      const text = this.read();
      this.signature = this.stat();
      if (text === this.fileText && !moved) return;
      this.reload('file');
    }, this.o.debounceMs ?? 150);
    this.debounce.unref();
  }

  /** Reads, validates and applies the file now. */
  reload(trigger: ReloadTrigger): ReloadOutcome {
    const at = this.now();
    this.relocate();
    this.fileText = this.read();
    this.signature = this.stat();
    const loaded = this.o.load(this.path);
    let outcome: ReloadOutcome;
    if (!loaded.ok) outcome = { ok: false, trigger, at, errors: loaded.errors };
    else {
      const next = liveConfig(this.o.started, loaded.config);
      const refused = this.o.apply(next);
      if (refused.length) outcome = { ok: false, trigger, at, errors: refused };
      else {
        const changed = changedKeys(this.current, loaded.config).filter((k) => k !== '$schema');
        const restartRequired = changedKeys(this.o.started, loaded.config).filter(needsRestart);
        outcome = {
          ok: true,
          trigger,
          at,
          changed,
          applied: changed.filter((k) => !needsRestart(k)),
          restartRequired,
        };
        this.current = loaded.config;
        this.st.loadedAt = at;
        this.st.reloads += 1;
        this.st.restartRequired = restartRequired;
        this.st.error = null;
      }
    }
    if (!outcome.ok) this.st.error = { at, trigger, errors: outcome.errors };
    this.st.last = outcome;
    if (!outcome.ok || outcome.changed.length || trigger !== 'file') this.o.report(outcome);
    return outcome;
  }

  private stat(): string {
    try {
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? 'error';
    }
  }

  private read(): string | null {
    const r = readConfigText(this.path);
    if (r.ok) return r.text;
    // A file that is there but cannot be used (a FIFO, a device, too large) is a change to report.
    return r.code === 'ENOENT' ? null : `\u0000unreadable: ${r.code}`;
  }
}
