import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { TimelineEvent } from '../../../shared/events.js';
import type { PostPanicHold, RiskState } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type {
  ConfigReloadState,
  ProbeDescription,
  StatusView,
  StorageStatus,
  WakeHoldStatusView,
} from '../../../shared/status-view.js';
import { readGuardMode } from '../../core/actions/action-runner.js';
import { readGuardOverride } from '../../core/actions/guard-override.js';
import { readHold } from '../../core/actions/post-panic-hold.js';
import { readWakeHold, wakeHoldActive, wakeHoldReason } from '../../core/actions/wake-hold.js';
import { loadConfig } from '../../core/config/config-loader.js';
import type { Config } from '../../core/config/config-schema.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { EventCollector } from '../../core/event-collector.js';
import { ExoApiClient } from '../../core/exo/exo-api-client.js';
import { ExoMonitor, type ExoSnapshot } from '../../core/exo/exo-monitor.js';
import { exoHome, readExoPidfile } from '../../core/exo/exo-pidfile.js';
import { estimateInFlightKv } from '../../core/exo/in-flight-kv.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { IOGPU_PANIC_KINDS } from '../../core/panics/panic-classifier.js';
import { type PanicSummary, summarisePanics } from '../../core/panics/panic-summary.js';
import { createProbe, nativeDisabledBy } from '../../core/probes/create-probe.js';
import type { MachineIdentity } from '../../core/probes/probe-types.js';
import { RiskContext } from '../../core/risk/risk-context.js';
import { type Evaluation, evaluateRisk } from '../../core/risk/risk-signals.js';
import { readRiskState } from '../../core/risk/risk-state-store.js';
import { Sampler, type TickResult } from '../../core/sampler.js';
import { openDatabase } from '../../core/store/database.js';
import { ReportStore } from '../../core/store/report-store.js';
import { TimelineStore } from '../../core/store/timeline-store.js';
import { compilePattern } from '../../core/util/linear-regexp.js';
import { EXIT_UNKNOWN, exitCodeForLevel } from '../exit-status.js';
import { describeStoreProblem } from '../store-problem.js';
import { EXIT_FAILURE, EXIT_USAGE, httpUrl, positiveNumber } from '../usage-error.js';
import { type CliStatus, renderStatus, statusObject } from './status-render.js';

export interface Reading {
  result: TickResult;
  notes: TimelineEvent[];
  identity: MachineIdentity | null;
  /** Which readers took it (native addon, commands, procfs) and why the addon is not in use. */
  probes: ProbeDescription | null;
}

/**
 * Readings of this machine, one per call, from one probe and sampler (so that `status --watch` keeps its
 * CPU rates and asks for the machine's identity once). The first call takes two readings 250 ms apart:
 * CPU percentages are rates. The expensive probes run on the first call and then every slowIntervalSeconds.
 */
export function createReader(config: Config, dataDir?: string): () => Promise<Reading> {
  // A CLI command is its own composition root: its readings are of now, on the wall clock (no injected clock).
  const events = new EventCollector(() => Date.now());
  const probe = createProbe(
    events,
    {
      ceilingBytes: config.gpu.ceilingBytes,
      mlxPython: config.gpu.mlxPython,
      // The Metal ceiling a Python gave the daemon this boot (so this reading need not estimate it).
      ...(dataDir ? { ceilingCacheFile: join(dataDir, 'metal-ceiling.json') } : {}),
    },
    { nativeDisabled: nativeDisabledBy(process.env) },
  );
  const patterns = config.watch.mlxServerPatterns.map(compilePattern);
  const sampler = new Sampler(probe, () => ({
    pidfilePid: readExoPidfile(config.watch.exoPidfile ?? undefined),
    mlxServerPatterns: patterns,
  }));
  let identity: MachineIdentity | null = null;
  let lastSlow: number | null = null;
  // A field's "unavailable" note is reported once per collector: kept for every later reading.
  let unavailable: TimelineEvent[] = [];
  return async () => {
    if (lastSlow === null) {
      lastSlow = Date.now();
      [identity] = await Promise.all([probe.identity().catch(() => null), sampler.tick(lastSlow, true)]);
      await new Promise((r) => setTimeout(r, 250));
    }
    const now = Date.now();
    const slow = now - lastSlow >= config.slowIntervalSeconds * 1000;
    if (slow) lastSlow = now;
    const result = await sampler.tick(now, slow);
    const drained = events.drain();
    unavailable = [...unavailable, ...drained.filter((n) => n.kind === 'probe.unavailable')];
    return {
      result,
      notes: [...unavailable, ...drained.filter((n) => n.kind !== 'probe.unavailable')],
      identity,
      probes: probe.describe?.() ?? null,
    };
  };
}

/** A one-shot reading of this machine: needs no running daemon. */
export const takeReading = (config: Config): Promise<Reading> => createReader(config)();

/** Loads the data directory's configuration, with `--exo-url` applied; errors are printed and exit 2. */
export function configFor(dataDir: string, exoUrl?: string): Config | null {
  const loaded = loadConfig(paths(dataDir).config);
  if (!loaded.ok) {
    for (const e of loaded.errors) process.stderr.write(`exo-sentinel: ${e}\n`);
    process.exitCode = EXIT_USAGE;
    return null;
  }
  return exoUrl ? { ...loaded.config, exo: { ...loaded.config.exo, url: exoUrl } } : loaded.config;
}

export async function pollExo(config: Config): Promise<ExoSnapshot> {
  const monitor = new ExoMonitor(new ExoApiClient(config.exo.url, config.exo.timeoutMs));
  await monitor.poll();
  return monitor.snapshot;
}

/**
 * What only the running daemon knows, from its API: its storage health and its configuration reloads (null
 * when it does not answer in time).
 */
async function daemonView(
  api: string,
): Promise<{ storage: StorageStatus | null; config: ConfigReloadState | null } | null> {
  try {
    const r = await fetch(`${api}/api/v1/status`, { signal: AbortSignal.timeout(1500) });
    if (!r.ok) return null;
    // The daemon of this data directory, on loopback: its status is the shared StatusView (an older daemon
    // may lack a part, hence Partial).
    const body = (await r.json()) as Partial<Pick<StatusView, 'storage' | 'config'>>;
    return { storage: body.storage ?? null, config: body.config ?? null };
  } catch {
    return null;
  }
}

interface StatusFlags {
  json?: boolean;
  dataDir?: string;
  exoUrl?: string;
  exitStatus?: boolean;
  watch?: boolean;
  interval?: number;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'read memory, GPU memory, the EXO processes and EXO now, with the level and its reasons (no daemon needed)',
    )
    .option('--json', 'print one JSON object (with --watch: one JSON object per line)')
    .option('--exo-url <url>', "EXO's API (default http://127.0.0.1:52415 or the config's)", httpUrl)
    .addOption(
      new Option(
        '--exit-status',
        'exit with the level, for scripts and monitoring: 0 ok, 1 elevated, 2 high, 3 critical, 4 unknown',
      ).conflicts('watch'),
    )
    .option(
      '--watch',
      'keep reading: a live view redrawn in place on a terminal, one JSON object per line when piped (Ctrl-C stops)',
    )
    .option(
      '--interval <seconds>',
      'with --watch: seconds between readings (default 2)',
      positiveNumber(0.5, 3600),
    )
    .action(async (_o: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<StatusFlags>();
      const dataDir = resolveDataDir(flags.dataDir);
      const config = configFor(dataDir, flags.exoUrl);
      if (!config) {
        if (flags.exitStatus) process.exitCode = EXIT_UNKNOWN;
        return;
      }
      if (flags.watch) {
        process.exitCode = await watchStatus(dataDir, config, flags);
        return;
      }
      let view: CliStatus;
      try {
        view = await readStatus(dataDir, config, createReader(config, dataDir));
      } catch (e) {
        process.stderr.write(`exo-sentinel: cannot read this machine: ${(e as Error).message}\n`);
        process.exitCode = flags.exitStatus ? EXIT_UNKNOWN : EXIT_FAILURE;
        return;
      }
      if (view.dbProblem) {
        process.stderr.write(`exo-sentinel: ${view.dbProblem}\n`);
        process.exitCode = EXIT_FAILURE;
      }
      // Without the timeline (and no daemon to ask) the level misses the panic history: not a level to act on.
      if (flags.exitStatus)
        process.exitCode =
          view.dbProblem && !view.fromDaemon ? EXIT_UNKNOWN : exitCodeForLevel(view.level.level);
      process.stdout.write(flags.json ? `${JSON.stringify(view.out, null, 2)}\n` : renderStatus(view));
    });
}

/** What the data directory's database says (read-only): empty when there is none, with the problem if unreadable. */
interface Stored {
  lastStored: Sample | null;
  panics: PanicSummary | null;
  daemonRisk: RiskState | null;
  hold: PostPanicHold | null;
  guardMode: string | null;
  guardOverride: string | null;
  wakeHold: WakeHoldStatusView | null;
  iogpuPanics72h: number;
  dbProblem: string | null;
}

function readStored(database: string, config: Config): Stored {
  const none: Stored = {
    lastStored: null,
    panics: null,
    daemonRisk: null,
    hold: null,
    guardMode: null,
    guardOverride: null,
    wakeHold: null,
    iogpuPanics72h: 0,
    dbProblem: null,
  };
  if (!existsSync(database)) return none;
  const s = none;
  try {
    const db = openDatabase(database, { readonly: true });
    const timeline = new TimelineStore(db);
    const reports = new ReportStore(db);
    s.lastStored = timeline.latestSample();
    s.panics = summarisePanics(reports, Date.now());
    s.daemonRisk = readRiskState(timeline);
    s.hold = readHold(timeline);
    s.guardMode = readGuardMode(timeline);
    s.guardOverride = readGuardOverride(timeline);
    const w = readWakeHold(timeline);
    s.wakeHold =
      w && wakeHoldActive(w, Date.now())
        ? { ...w, reason: wakeHoldReason(w, config.guard.wakeHoldSeconds) }
        : null;
    const since = Date.now() - 72 * 3_600_000;
    s.iogpuPanics72h = reports.countPanics(IOGPU_PANIC_KINDS, since);
    db.close();
  } catch (e) {
    // What was read before the failure stays; the last stored sample does not.
    s.lastStored = null;
    s.dbProblem = describeStoreProblem(e, database) ?? `cannot read ${database}: ${(e as Error).message}`;
  }
  return s;
}

/** Reads this machine, EXO and the data directory once. Throws when the machine cannot be read. */
async function readStatus(dataDir: string, config: Config, read: () => Promise<Reading>): Promise<CliStatus> {
  const [reading, exo] = await Promise.all([read(), pollExo(config)]);
  const { result, notes, identity } = reading;
  const p = paths(dataDir);
  const daemon = runningDaemon(p.pidfile);
  const {
    lastStored,
    panics,
    daemonRisk,
    hold,
    guardMode,
    guardOverride,
    wakeHold,
    iogpuPanics72h,
    dbProblem,
  } = readStored(p.database, config);
  // What only the running daemon knows (writes failing on a full or read-only disk): asked over its API.
  const fromApi = daemon?.api ? await daemonView(daemon.api) : null;
  // A daemon that cannot be asked (its API off, or not answering) is judged by what it stored: nothing for
  // three of its intervals (from its pidfile: its --interval; at least 5 s) is a timeline not being written.
  // Before, that was "ok".
  const age = lastStored ? Date.now() - lastStored.time : null;
  const silent =
    daemon !== null &&
    !fromApi?.storage &&
    !dbProblem &&
    (age === null || age > Math.max(5_000, 3_000 * (daemon.intervalSeconds ?? config.intervalSeconds)));
  const storage = fromApi?.storage ?? {
    state: dbProblem || silent ? 'failing' : 'ok',
    message:
      dbProblem ??
      (silent
        ? `the daemon (pid ${daemon?.pid}) has stored nothing ${age === null ? 'yet' : `for ${Math.round(age / 1000)} s`} in ${p.database}, and its API ${daemon?.api ? 'did not answer' : 'is off'} to say why`
        : null),
    path: p.database,
    buffered: 0,
    dropped: 0,
    since: null,
    notes: [],
  };
  const sample = result.sample;
  sample.exo = { reachable: exo.reachable, inFlight: exo.reachable ? exo.inFlight : null };
  const kv = estimateInFlightKv(exo, config.risk.charsPerToken, config.exo.home ?? exoHome());
  const now: Evaluation = evaluateRisk(
    new RiskContext().inputs(Date.now(), sample, exo, kv, iogpuPanics72h, hold),
    config.risk,
  );
  const out = statusObject({
    result,
    notes,
    identity,
    exo,
    now,
    daemonRisk,
    guardMode,
    guardOverride,
    hold,
    wakeHold,
    daemon: {
      running: daemon !== null,
      pid: daemon?.pid ?? null,
      dataDir,
      lastSampleAt: lastStored?.time ?? null,
      config: fromApi?.config ?? null,
    },
    panics,
    storage,
  });
  // The level shown: the running daemon's (it has the history), else this reading's.
  const fromDaemon = daemon !== null && daemonRisk !== null;
  const level = fromDaemon && daemonRisk ? daemonRisk : { level: now.level, reasons: now.reasons };
  return { out: { ...out, probes: reading.probes, level: level.level }, level, fromDaemon, dbProblem };
}

/** Escape sequences of the live view: the terminal's alternate screen (as `top` uses), cursor home and clear. */
const SCREEN = {
  enter: '\u001b[?1049h\u001b[?25l',
  leave: '\u001b[?25h\u001b[?1049l',
  redraw: '\u001b[H\u001b[2J',
};

/**
 * `status --watch`: a reading every `--interval` seconds until SIGINT/SIGTERM (or the reader of a pipe goes
 * away). On a terminal the view is redrawn in place; otherwise (or with --json) each reading is one JSON line.
 * A reading that fails is one line on stderr and the watch goes on. Exits 0.
 */
async function watchStatus(dataDir: string, config: Config, flags: StatusFlags): Promise<number> {
  const live = process.stdout.isTTY === true && !flags.json;
  const intervalMs = (flags.interval ?? 2) * 1000;
  const read = createReader(config, dataDir);
  let stopped = false;
  let wake: () => void = () => undefined;
  const stop = (): void => {
    stopped = true;
    wake();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // A pipe whose reader left (`| head -3`): stop quietly.
  process.stdout.on('error', stop);
  if (live) process.stdout.write(SCREEN.enter);
  try {
    while (!stopped) {
      const started = Date.now();
      try {
        const view = await readStatus(dataDir, config, read);
        if (stopped) break;
        if (live) {
          const head = `exo-sentinel status — every ${intervalMs / 1000} s, ${new Date().toTimeString().slice(0, 8)} — Ctrl-C to quit`;
          process.stdout.write(`${SCREEN.redraw}${head}\n\n${renderStatus(view)}`);
        } else process.stdout.write(`${JSON.stringify(view.out)}\n`);
      } catch (e) {
        process.stderr.write(`exo-sentinel: cannot read this machine: ${(e as Error).message}\n`);
      }
      const wait = Math.max(0, started + intervalMs - Date.now());
      if (!stopped)
        await new Promise<void>((r) => {
          const timer = setTimeout(r, wait);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
    }
  } finally {
    if (live) process.stdout.write(SCREEN.leave);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
