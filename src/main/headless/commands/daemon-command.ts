import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../core/config/config-loader.js';
import type { ConfigInput } from '../../core/config/config-schema.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { Daemon, EventCollector } from '../../core/daemon.js';
import { createLogger } from '../../core/logger.js';
import { createProbe } from '../../core/probes/create-probe.js';
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

async function runDaemon(flags: DaemonFlags): Promise<number> {
  const dataDir = resolveDataDir(flags.dataDir);
  const p = paths(dataDir);
  const overrides: Partial<ConfigInput> = {};
  if (flags.interval !== undefined) overrides.intervalSeconds = flags.interval;
  if (flags.slowInterval !== undefined) overrides.slowIntervalSeconds = flags.slowInterval;
  if (flags.logLevel !== undefined) overrides.logLevel = flags.logLevel as ConfigInput['logLevel'];
  const loaded = loadConfig(flags.config ?? p.config, overrides, flags.config !== undefined);
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`exo-sentinel: ${e}\n`);
    process.stderr.write('exo-sentinel: the daemon does not start with an invalid configuration\n');
    return EXIT_USAGE;
  }
  let config = loaded.config;
  if (flags.exoUrl) config = { ...config, exo: { ...config.exo, url: flags.exoUrl } };
  if (flags.dryRun) config = { ...config, actions: { ...config.actions, dryRun: true } };
  if (flags.guardListen) config = { ...config, guard: { ...config.guard, listen: flags.guardListen } };
  if (flags.guard === false || flags.once) config = { ...config, guard: { ...config.guard, enabled: false } };
  if (flags.apiListen) config = { ...config, api: { ...config.api, listen: flags.apiListen } };
  if (flags.api === false || flags.once) config = { ...config, api: { ...config.api, enabled: false } };
  if (flags.contextCap !== undefined)
    config = { ...config, guard: { ...config.guard, contextCap: Math.floor(flags.contextCap) } };
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    process.stderr.write(
      `exo-sentinel: cannot create the data directory ${dataDir}: ${(e as Error).message}\n`,
    );
    return EXIT_FAILURE;
  }
  const { logger, close } = await createLogger({
    level: config.logLevel,
    file: p.logFile,
    terminal: process.stderr.isTTY === true,
  });
  const events = new EventCollector(() => Date.now(), logger);
  let daemon: Daemon;
  try {
    daemon = new Daemon({
      dataDir,
      config,
      probe: createProbe(events, { ceilingBytes: config.gpu.ceilingBytes, mlxPython: config.gpu.mlxPython }),
      events,
      logger,
      ...(config.watch.exoPidfile ? { exoPidfile: config.watch.exoPidfile } : {}),
      ...(flags.reportsDir ? { reportDirs: flags.reportsDir } : {}),
    });
  } catch (e) {
    process.stderr.write(`exo-sentinel: cannot open the timeline in ${dataDir}: ${(e as Error).message}\n`);
    await close();
    return EXIT_FAILURE;
  }
  const begun = await daemon.begin();
  if (!begun.ok) {
    process.stderr.write(`exo-sentinel: ${begun.error}\n`);
    await close();
    return EXIT_FAILURE;
  }
  if (flags.once) {
    const r = await daemon.tickOnce();
    await daemon.stop('once');
    await close();
    if (!r) return EXIT_FAILURE;
    process.stdout.write(`${renderSample(r.sample)}\n`);
    return 0;
  }
  logger.info({ dataDir, config }, `watching every ${config.intervalSeconds}s; timeline ${p.database}`);
  process.stdout.write(
    `exo-sentinel daemon: pid ${process.pid}, sampling every ${config.intervalSeconds}s (slow probes every ${config.slowIntervalSeconds}s)\n` +
      `  timeline ${p.database}\n  logs     ${p.logs}/\n` +
      (daemon.api?.address
        ? `  api      http://${daemon.api.address.host}:${daemon.api.address.port}/ (dashboard, /api/v1, /metrics)\n`
        : '  api      off\n') +
      (daemon.guard?.address
        ? `  guard    http://${daemon.guard.address.host}:${daemon.guard.address.port} → ${config.exo.url}\n`
        : '  guard    off\n'),
  );
  daemon.start();
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: stopping`);
      void daemon
        .stop(signal)
        .then(close)
        .then(() => resolve(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
