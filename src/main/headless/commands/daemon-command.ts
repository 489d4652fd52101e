import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type ConfigResult, loadConfig } from '../../core/config/config-loader.js';
import type { Config, ConfigInput } from '../../core/config/config-schema.js';
import {
  configLocation,
  legacyConfigNotice,
  paths,
  resolveDataDir,
  standardDataDir,
  unsafeDataDir,
} from '../../core/config/data-dir.js';
import { Daemon, StartRefused, type StartResult } from '../../core/daemon.js';
import { EventCollector } from '../../core/event-collector.js';
import { EXIT_FAULT, installFaultHandlers } from '../../core/fault-handler.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { createProbe, nativeDisabledBy } from '../../core/probes/create-probe.js';
import { rotateInPlace } from '../../core/rotating-file.js';
import { AGENT_OUTPUT_ROTATION, LAUNCHD_STDERR, LAUNCHD_STDOUT } from '../agent/agent-files.js';
import { renderSample } from '../output.js';
import { EXIT_FAILURE, EXIT_USAGE, httpUrl, listenAddress, positiveNumber } from '../usage-error.js';

interface DaemonFlags {
  once?: boolean;
  interval?: number;
  slowInterval?: number;
  dataDir?: string;
  config?: string;
  logLevel?: string;
  reportsDir?: string[];
  exoUrl?: string;
  dryRun?: boolean;
  guardListen?: string;
  guard?: boolean;
  contextCap?: number;
  apiListen?: string;
  api?: boolean;
}

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('run the watchdog: sample every interval and keep the timeline (Ctrl-C or SIGTERM stops it)')
    .option('--once', 'take one sample, store it, print it and exit')
    .option('--interval <seconds>', 'cheap probe interval (default 1)', positiveNumber(0.1, 60))
    .option('--slow-interval <seconds>', 'expensive probe interval (default 5)', positiveNumber(1, 600))
    .option('--config <file>', 'configuration file (default: config.json in the data directory)')
    .option('--log-level <level>', 'trace, debug, info, warn or error')
    .option('--exo-url <url>', "EXO's API (default http://127.0.0.1:52415)", httpUrl)
    .option('--dry-run', 'record what the actions would do without doing them')
    .option('--guard-listen <host:port>', 'where the guard listens (default 127.0.0.1:52416)', listenAddress)
    .option('--no-guard', 'do not run the admission-control guard')
    .option(
      '--api-listen <host:port>',
      'where the local API and dashboard listen (default 127.0.0.1:52417)',
      listenAddress,
    )
    .option('--no-api', 'do not run the local API and dashboard')
    .option(
      '--context-cap <tokens>',
      'refuse requests whose prompt + max_tokens exceed this (413)',
      positiveNumber(256, 10_000_000),
    )
    .option(
      '--reports-dir <dir>',
      'a directory of diagnostic reports to scan and watch (repeatable; default /Library/Logs/DiagnosticReports, its Retired/ and ~/Library/Logs/DiagnosticReports on macOS)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(async (_opts: DaemonFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<DaemonFlags>();
      process.exitCode = await runDaemon(flags);
    });
}

/** The configuration file with the command line's flags over it (at start and at every reload). */
function loadWithFlags(path: string, flags: DaemonFlags): ConfigResult {
  const overrides: Partial<ConfigInput> = {};
  if (flags.interval !== undefined) overrides.intervalSeconds = flags.interval;
  if (flags.slowInterval !== undefined) overrides.slowIntervalSeconds = flags.slowInterval;
  if (flags.logLevel !== undefined) overrides.logLevel = flags.logLevel as ConfigInput['logLevel'];
  const loaded = loadConfig(path, overrides, flags.config !== undefined);
  if (!loaded.ok) return loaded;
  let config = loaded.config;
  if (flags.exoUrl) config = { ...config, exo: { ...config.exo, url: flags.exoUrl } };
  if (flags.dryRun) config = { ...config, actions: { ...config.actions, dryRun: true } };
  if (flags.guardListen) config = { ...config, guard: { ...config.guard, listen: flags.guardListen } };
  if (flags.guard === false || flags.once) config = { ...config, guard: { ...config.guard, enabled: false } };
  if (flags.apiListen) config = { ...config, api: { ...config.api, listen: flags.apiListen } };
  if (flags.api === false || flags.once) config = { ...config, api: { ...config.api, enabled: false } };
  if (flags.contextCap !== undefined)
    config = { ...config, guard: { ...config.guard, contextCap: Math.floor(flags.contextCap) } };
  return { ok: true, config };
}

/** The data directory exists and no daemon runs for it; else the exit code (0: one already runs). */
function claimDataDir(dataDir: string, pidfile: string): number | null {
  // Checked before anything is opened: a second daemon touches nothing. Exit 0, so launchd's KeepAlive
  // {SuccessfulExit: false} and systemd's Restart=on-failure leave it at that.
  const holder = runningDaemon(pidfile);
  if (holder) {
    process.stdout.write(`exo-sentinel: already running (pid ${holder.pid}) for ${dataDir}\n`);
    return 0;
  }
  try {
    // Private: the timeline, the logs and the API token are this user's.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    process.stderr.write(
      `exo-sentinel: cannot create the data directory ${dataDir}: ${(e as Error).message}\n`,
    );
    return EXIT_FAILURE;
  }
  makePrivate(dataDir);
  const unsafe = unsafeDataDir(dataDir);
  if (unsafe) {
    process.stderr.write(
      `exo-sentinel: the data directory ${dataDir} ${unsafe}. Use a directory only you can write, in directories only you or root can change (chmod go-w, or --data-dir elsewhere).\n`,
    );
    return EXIT_FAILURE;
  }
  return null;
}

/**
 * The platform's data directory, created 0755 by earlier versions, is made 0700 when it is this user's. One
 * named by --data-dir or EXO_SENTINEL_HOME is left as it is: someone chose it, perhaps to share it.
 */
function makePrivate(dataDir: string): void {
  if (dataDir !== standardDataDir()) return;
  try {
    const st = statSync(dataDir);
    if ((st.mode & 0o077) === 0 || st.uid !== process.getuid?.()) return;
    chmodSync(dataDir, 0o700);
    process.stdout.write(
      `exo-sentinel: made ${dataDir} private (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} → 0700)\n`,
    );
  } catch {
    // Not ours to change, or gone: the daemon runs either way.
  }
}

/** Under launchd stdout and stderr are files nobody else rotates: the daemon does, now and every hour. */
function rotateAgentOutputHourly(logs: string, logger: Logger): void {
  const rotate = (): void => {
    for (const name of [LAUNCHD_STDOUT, LAUNCHD_STDERR]) {
      const r = rotateInPlace(join(logs, name), AGENT_OUTPUT_ROTATION);
      if (typeof r === 'string') logger.warn(`cannot rotate ${r}`);
    }
  };
  rotate();
  setInterval(rotate, 3_600_000).unref();
}

function buildDaemon(
  dataDir: string,
  config: Config,
  flags: DaemonFlags,
  events: EventCollector,
  logger: Logger,
): Daemon {
  return new Daemon({
    dataDir,
    config,
    ...(flags.config !== undefined ? { configPath: flags.config } : {}),
    probe: createProbe(
      events,
      {
        ceilingBytes: config.gpu.ceilingBytes,
        mlxPython: config.gpu.mlxPython,
        ceilingCacheFile: join(dataDir, 'metal-ceiling.json'),
      },
      { nativeDisabled: nativeDisabledBy(process.env) },
    ),
    events,
    logger,
    ...(config.watch.exoPidfile ? { exoPidfile: config.watch.exoPidfile } : {}),
    ...(flags.reportsDir ? { reportDirs: flags.reportsDir } : {}),
  });
}

/** The start line on stdout: where the timeline, the logs, the API and the guard are. */
function startBanner(daemon: Daemon, config: Config, p: ReturnType<typeof paths>): string {
  return (
    `exo-sentinel daemon: pid ${process.pid}, sampling every ${config.intervalSeconds}s (slow probes every ${config.slowIntervalSeconds}s)\n` +
    `  timeline ${p.database}\n  logs     ${p.logs}/\n` +
    (daemon.api?.address
      ? `  api      http://${daemon.api.address.host}:${daemon.api.address.port}/ (dashboard, /api/v1, /metrics)\n`
      : '  api      off\n') +
    (daemon.guard?.address
      ? `  guard    http://${daemon.guard.address.host}:${daemon.guard.address.port} → ${config.exo.url}\n`
      : '  guard    off\n')
  );
}

/** Runs until SIGINT/SIGTERM (exit 0) or until a timeline that was not writable can be written (restart). */
function runUntilStopped(
  running: Daemon,
  flags: DaemonFlags,
  logger: Logger,
  close: () => Promise<void>,
): Promise<number> {
  running.start();
  // An edited configuration file applies without a restart (what cannot is said); SIGHUP reloads it too.
  running.watchConfig((path) => loadWithFlags(path, flags));
  process.on('SIGHUP', () => running.reloadConfig('SIGHUP'));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string, code: number): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`${why}: stopping`);
      running
        .stop(why)
        .catch((e: unknown) => logger.error({ err: e }, `stopping failed: ${(e as Error).message}`))
        .then(close)
        .finally(() => resolve(code));
    };
    process.on('SIGINT', () => stop('SIGINT', 0));
    process.on('SIGTERM', () => stop('SIGTERM', 0));
    // Started on a read-only or full disk, the timeline now opens: the buffered ticks are in it; a restart
    // (by launchd/systemd) opens everything on it.
    running.onStorageBack = () => stop('the timeline is writable again, restarting on it', EXIT_FAULT);
    // Its data directory removed while it ran: the stop writes the timeline back there; a restart (by
    // launchd/systemd) takes the lock and writes the pidfile again.
    running.onStorageGone = () =>
      stop('the timeline file was removed or replaced; written back, restarting on it', EXIT_FAULT);
    // Its pidfile was removed and another daemon took the lock: one writer remains, that one.
    running.onLockLost = () => stop('another daemon took this data directory', EXIT_FAULT);
  });
}

/** Faults nobody caught: contained (an event) while the daemon runs; a fatal one is recorded, then exit. */
function installDaemonFaults(
  daemon: () => Daemon | null,
  logger: Logger,
  close: () => Promise<void>,
): () => void {
  return installFaultHandlers(
    {
      contain: (where, e) => {
        const d = daemon();
        if (d) d.contain(where, e);
        else logger.error({ err: e }, `fault (${where}): ${(e as Error).message}`);
      },
      fatal: async (where, e) => {
        logger.fatal(
          { err: e },
          `unhandled fault (${where}): ${(e as Error).message}; exiting to be restarted`,
        );
        daemon()?.recordFaultNow(where, e);
        await close();
      },
    },
    (code) => process.exit(code),
  );
}

async function runDaemon(flags: DaemonFlags): Promise<number> {
  const dataDir = resolveDataDir(flags.dataDir);
  const p = paths(dataDir);
  const configPath = flags.config ?? p.config;
  const loaded = loadWithFlags(configPath, flags);
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`exo-sentinel: ${e}\n`);
    process.stderr.write('exo-sentinel: the daemon does not start with an invalid configuration\n');
    return EXIT_USAGE;
  }
  const config = loaded.config;
  // Under launchd stdout and stderr are files in the data directory: a full disk must not make a write to them
  // an uncaught 'error'.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const claimed = claimDataDir(dataDir, p.pidfile);
  if (claimed !== null) return claimed;
  let logProblem: string | null = null;
  let daemon: Daemon | null = null;
  const { logger, close } = await createLogger({
    level: config.logLevel,
    file: p.logFile,
    terminal: process.stderr.isTTY === true,
    onError: (message) => {
      if (message === logProblem) return;
      logProblem = message;
      daemon?.noteStorage('log', message);
    },
  });
  const moveNotice = flags.config === undefined ? legacyConfigNotice(configLocation(dataDir)) : null;
  if (moveNotice) logger.warn(moveNotice);
  rotateAgentOutputHourly(p.logs, logger);
  const events = new EventCollector(() => Date.now(), logger);
  const uninstall = installDaemonFaults(() => daemon, logger, close);
  try {
    daemon = buildDaemon(dataDir, config, flags, events, logger);
  } catch (e) {
    const why = (e as Error).message;
    process.stderr.write(
      `exo-sentinel: ${e instanceof StartRefused ? why : `cannot open the timeline in ${dataDir}: ${why}`}\n`,
    );
    uninstall();
    await close();
    return EXIT_FAILURE;
  }
  if (logProblem) daemon.noteStorage('log', logProblem);
  const begun = await daemon.begin().catch(async (e: unknown): Promise<StartResult> => {
    // Never left half-started (servers listening, no ticks): stop what began, then fail.
    await daemon?.stop('start-up failed').catch(() => undefined);
    return { ok: false, error: `the daemon cannot start: ${(e as Error).message}` };
  });
  if (!begun.ok) {
    uninstall();
    await close();
    if (begun.alreadyRunning) {
      process.stdout.write(`exo-sentinel: already running: ${begun.error}\n`);
      return 0;
    }
    process.stderr.write(`exo-sentinel: ${begun.error}\n`);
    return EXIT_FAILURE;
  }
  const running = daemon;
  if (flags.once) {
    // One sample, judged with what the report directories hold (a running daemon does not wait for this).
    await running.reportsScanned();
    const r = await running.tickOnce();
    await running.stop('once');
    uninstall();
    await close();
    if (!r) return EXIT_FAILURE;
    process.stdout.write(`${renderSample(r.sample)}\n`);
    return 0;
  }
  logger.info({ dataDir, config }, `watching every ${config.intervalSeconds}s; timeline ${p.database}`);
  process.stdout.write(startBanner(running, config, p));
  return await runUntilStopped(running, flags, logger, close);
}
