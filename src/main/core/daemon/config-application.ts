import type { ConfigResult } from '../config/config-loader.js';
import {
  ConfigReloader,
  type ConfigReloadState,
  type ReloadOutcome,
  type ReloadTrigger,
} from '../config/config-reload.js';
import type { Config } from '../config/config-schema.js';
import type { EventCollector } from '../event-collector.js';
import { isLoopback } from '../guard/guard-config.js';
import type { Logger } from '../logger.js';

export interface ConfigApplicationDeps {
  /** The configuration file (asked each time: an old one may move to the platform's place). */
  locate: () => string;
  /** The configuration in use. */
  current: () => Config;
  /** The guard's address while it listens (its token cannot go while it listens beyond loopback). */
  guardAddress: () => { host: string; port: number } | null;
  /** Hands a validated configuration to every part that takes it live. */
  applyLive: (next: Config) => void;
  events: EventCollector;
  logger: Logger;
  now: () => number;
}

/**
 * The running daemon's configuration reloads: the file when it changes and when asked (SIGHUP, the API, the
 * app). What can change live applies at once; the rest is listed as needing a restart (log, a
 * `config.reloaded` event, the status and the API). A file that does not validate changes nothing.
 */
export class ConfigApplication {
  private reloader: ConfigReloader | null = null;

  constructor(private readonly deps: ConfigApplicationDeps) {}

  /** Starts watching; `load` reads the file as at start (with the command line's overrides). */
  watch(load: (path: string) => ConfigResult): void {
    this.reloader?.stop();
    this.reloader = new ConfigReloader({
      locate: this.deps.locate,
      load,
      started: this.deps.current(),
      apply: (next) => this.apply(next),
      report: (o) => this.report(o),
      now: this.deps.now,
    });
    this.reloader.start();
  }

  stop(): void {
    this.reloader?.stop();
  }

  /** Null when the shell did not ask for reloads. */
  get state(): ConfigReloadState | null {
    return this.reloader?.state ?? null;
  }

  /** Reads the configuration file now (null when the shell did not ask for reloads). */
  reload(trigger: ReloadTrigger): ReloadOutcome | null {
    return this.reloader?.reload(trigger) ?? null;
  }

  /** Applies a validated configuration whose restart-only keys hold the running values. */
  private apply(next: Config): string[] {
    const g = this.deps.guardAddress();
    if (g && !isLoopback(g.host) && !next.guard.token)
      return [
        `"guard.token": the guard listens on ${g.host}:${g.port}, beyond loopback, so its token cannot be removed while it runs`,
      ];
    this.deps.applyLive(next);
    return [];
  }

  private report(o: ReloadOutcome): void {
    const { events, logger } = this.deps;
    const path = this.reloader?.state.path ?? 'the configuration';
    if (!o.ok) {
      const message = `${path} was not applied (${o.trigger}), the previous configuration stays: ${o.errors.join('; ')}`;
      logger.error({ errors: o.errors, trigger: o.trigger }, message);
      events.push('config.invalid', 'error', message, { path, trigger: o.trigger, errors: o.errors }, o.at);
      return;
    }
    const parts = [
      o.applied.length ? `applied ${o.applied.join(', ')}` : 'nothing to apply',
      ...(o.restartRequired.length ? [`needs a restart for ${o.restartRequired.join(', ')}`] : []),
    ];
    const message = `configuration reloaded from ${path} (${o.trigger}): ${parts.join('; ')}`;
    logger[o.restartRequired.length ? 'warn' : 'info'](
      { applied: o.applied, restartRequired: o.restartRequired, trigger: o.trigger },
      message,
    );
    events.push(
      'config.reloaded',
      o.restartRequired.length ? 'warning' : 'info',
      message,
      { path, trigger: o.trigger, applied: o.applied, restartRequired: o.restartRequired },
      o.at,
    );
  }
}
