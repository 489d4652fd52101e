import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { TimelineEvent } from '../../../shared/events.js';
import type { PostPanicHold, RiskLevel, RiskReason, RiskState } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import { readGuardMode } from '../../core/actions/action-runner.js';
import { readGuardOverride } from '../../core/actions/guard-override.js';
import { readHold } from '../../core/actions/post-panic-hold.js';
import { readWakeHold, type WakeHold, wakeHoldActive, wakeHoldReason } from '../../core/actions/wake-hold.js';
import { loadConfig } from '../../core/config/config-loader.js';
import type { ConfigReloadState } from '../../core/config/config-reload.js';
import type { Config } from '../../core/config/config-schema.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { EventCollector } from '../../core/event-collector.js';
import { ExoApiClient } from '../../core/exo/exo-api-client.js';
import { ExoMonitor, type ExoSnapshot } from '../../core/exo/exo-monitor.js';
import { exoHome, readExoPidfile } from '../../core/exo/exo-pidfile.js';
import { estimateInFlightKv } from '../../core/exo/in-flight-kv.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { type PanicSummary, summarisePanics } from '../../core/panics/panic-summary.js';
import { createProbe, nativeDisabledBy } from '../../core/probes/create-probe.js';
import type { MachineIdentity, ProbeDescription } from '../../core/probes/probe-types.js';
import { RiskContext } from '../../core/risk/risk-context.js';
import { readRiskState } from '../../core/risk/risk-pipeline.js';
import { type Evaluation, evaluateRisk } from '../../core/risk/risk-signals.js';
import { Sampler, type TickResult } from '../../core/sampler.js';
import { openDatabase } from '../../core/store/database.js';
import { ReportStore } from '../../core/store/report-store.js';
import { TimelineStore } from '../../core/store/timeline-store.js';
import type { StorageStatus } from '../../core/store/write-buffer.js';
import { EXIT_UNKNOWN, exitCodeForLevel } from '../exit-status.js';
import { renderSample } from '../output.js';
import { describeStoreProblem } from '../store-problem.js';
import { EXIT_FAILURE, EXIT_USAGE, httpUrl, positiveNumber } from '../usage-error.js';

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
export function createReader(config: Config): () => Promise<Reading> {
  const events = new EventCollector(() => Date.now());
  const probe = createProbe(
    events,
    {
      ceilingBytes: config.gpu.ceilingBytes,
      mlxPython: config.gpu.mlxPython,
    },
    { nativeDisabled: nativeDisabledBy(process.env) },
  );
  const patterns = config.watch.mlxServerPatterns.map((p) => new RegExp(p));
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
    const body = (await r.json()) as { storage?: StorageStatus; config?: ConfigReloadState };
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

/** One status: the JSON object `--json` prints, the level shown, and a database problem if any. */
interface StatusView {
  /** The JSON object, with `level`: the level shown (the running daemon's, else this reading's). */
  out: ReturnType<typeof statusObject> & { probes: ProbeDescription | null; level: RiskLevel };
  level: { level: RiskLevel; reasons: RiskReason[] };
  fromDaemon: boolean;
  dbProblem: string | null;
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
      let view: StatusView;
      try {
        view = await readStatus(dataDir, config, createReader(config));
      } catch (e) {
        process.stderr.write(`exo-sentinel: cannot read this machine: ${(e as Error).message}\n`);
        process.exitCode = flags.exitStatus ? EXIT_UNKNOWN : EXIT_FAILURE;
        return;
      }
      if (view.dbProblem) {
        process.stderr.write(`exo-sentinel: ${view.dbProblem}\n`);
        process.exitCode = EXIT_FAILURE;
      }
      if (flags.exitStatus) process.exitCode = exitCodeForLevel(view.level.level);
      process.stdout.write(flags.json ? `${JSON.stringify(view.out, null, 2)}\n` : renderStatus(view));
    });
}

/** Reads this machine, EXO and the data directory once. Throws when the machine cannot be read. */
async function readStatus(
  dataDir: string,
  config: Config,
  read: () => Promise<Reading>,
): Promise<StatusView> {
  const [reading, exo] = await Promise.all([read(), pollExo(config)]);
  const { result, notes, identity } = reading;
  const p = paths(dataDir);
  const daemon = runningDaemon(p.pidfile);
  let lastStored: Sample | null = null;
  let panics: PanicSummary | null = null;
  let daemonRisk: RiskState | null = null;
  let hold: PostPanicHold | null = null;
  let guardMode: string | null = null;
  let guardOverride: string | null = null;
  let wakeHold: (WakeHold & { reason: string }) | null = null;
  let iogpuPanics72h = 0;
  let dbProblem: string | null = null;
  if (existsSync(p.database)) {
    try {
      const db = openDatabase(p.database, { readonly: true });
      const timeline = new TimelineStore(db);
      const reports = new ReportStore(db);
      lastStored = timeline.latestSample();
      panics = summarisePanics(reports, Date.now());
      daemonRisk = readRiskState(timeline);
      hold = readHold(timeline);
      guardMode = readGuardMode(timeline);
      guardOverride = readGuardOverride(timeline);
      const w = readWakeHold(timeline);
      wakeHold =
        w && wakeHoldActive(w, Date.now())
          ? { ...w, reason: wakeHoldReason(w, config.guard.wakeHoldSeconds) }
          : null;
      const since = Date.now() - 72 * 3_600_000;
      iogpuPanics72h =
        reports.countPanics('completeMemory', since) + reports.countPanics('iogpuSibling', since);
      db.close();
    } catch (e) {
      lastStored = null;
      dbProblem = describeStoreProblem(e, p.database) ?? `cannot read ${p.database}: ${(e as Error).message}`;
    }
  }
  // What only the running daemon knows (writes failing on a full or read-only disk): asked over its API.
  const fromApi = daemon?.api ? await daemonView(daemon.api) : null;
  const storage = fromApi?.storage ?? {
    state: dbProblem ? 'failing' : 'ok',
    message: dbProblem,
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

function statusObject(r: {
  result: TickResult;
  notes: TimelineEvent[];
  identity: MachineIdentity | null;
  exo: ExoSnapshot;
  now: Evaluation;
  daemonRisk: RiskState | null;
  guardMode: string | null;
  /** The mode pinned with `exo-sentinel guard <mode>`, or null when the level decides. */
  guardOverride: string | null;
  hold: PostPanicHold | null;
  wakeHold: (WakeHold & { reason: string }) | null;
  daemon: {
    running: boolean;
    pid: number | null;
    dataDir: string;
    lastSampleAt: number | null;
    /** The running daemon's configuration reloads (file, restart-required keys, last error). */
    config: ConfigReloadState | null;
  };
  panics: PanicSummary | null;
  storage: StorageStatus;
}) {
  const { sample, watched } = r.result;
  const argvOf = new Map(watched.map((w) => [w.entry.pid, w.entry]));
  return {
    ...sample,
    processes: sample.processes.map((pr) => ({
      ...pr,
      argv: argvOf.get(pr.pid)?.argv ?? [],
      executable: argvOf.get(pr.pid)?.executable ?? null,
    })),
    platform: process.platform,
    identity: r.identity,
    unavailable: r.notes
      .filter((n) => n.kind === 'probe.unavailable')
      .map((n) => ({ field: n.data?.['field'], reason: n.data?.['reason'] })),
    problems: r.notes.filter((n) => n.kind === 'probe.failed').map((n) => n.message),
    exo: r.exo,
    risk: {
      now: { level: r.now.level, reasons: r.now.reasons, score: r.now.score },
      daemon: r.daemonRisk,
    },
    guardMode: r.guardMode,
    guardOverride: r.guardOverride,
    hold: r.hold,
    wakeHold: r.wakeHold,
    daemon: r.daemon,
    panics: r.panics,
    storage: r.storage,
  };
}

/** The status as text, the lines `exo-sentinel status` prints. */
function renderStatus(view: StatusView): string {
  const { out, level } = view;
  const { exo, hold, panics, storage, daemon } = out;
  const lines: string[] = [
    `level         ${level.level.toUpperCase()}${view.fromDaemon ? ' (daemon)' : ' (this reading, no history)'}`,
  ];
  for (const r of level.reasons) lines.push(`  ${r.level.padEnd(9)}${r.message}`);
  if (hold)
    lines.push(
      `hold          post-panic hold since ${new Date(hold.since).toISOString()}: ${hold.reason} — end it with: exo-sentinel ack`,
    );
  if (out.wakeHold) lines.push(`wake hold     ${out.wakeHold.reason}`);
  lines.push(renderSample(out));
  lines.push(
    exo.reachable
      ? `exo           ${exo.url} node ${exo.nodeId}: ${exo.instances.length} instance(s) ${exo.instances.map((i) => i.modelId).join(', ')}; runners ${exo.runners.map((r) => r.status).join(', ') || 'none'}; ${exo.inFlight} request(s) in flight`
      : `exo           not reachable: ${exo.error}`,
  );
  for (const f of exo.failures)
    lines.push(
      `exo failure   ${f.kind === 'runner-failed' ? `runner ${f.runnerId}: ${f.message}` : `instance ${f.instanceId} has no runner for ${f.missing.length} shard(s)`}`,
    );
  if (out.probes)
    lines.push(
      `probes        ${out.probes.backend}${out.probes.native.loaded ? ` (addon ${out.probes.native.version})` : out.probes.native.error ? ` (addon not used: ${out.probes.native.error})` : ''}`,
    );
  for (const u of out.unavailable) lines.push(`note          ${String(u.field)}: ${String(u.reason)}`);
  for (const problem of out.problems) lines.push(`problem       ${problem}`);
  if (panics) {
    const l = panics.latest;
    lines.push(
      `panics        ${panics.total} recorded, ${panics.last72h} in the last 72 h${l ? `; latest ${l.kind} at ${new Date(l.panicTime ?? l.mtime).toISOString()} (exo-sentinel report ${l.id})` : ''}`,
    );
    for (const u of panics.unreadable)
      lines.push(`unreadable    ${u.name} (${new Date(u.mtime).toISOString()}): ${u.problem}`);
  }
  if (storage.state !== 'ok')
    lines.push(
      `storage       ${storage.message}${storage.buffered ? ` (${storage.buffered} tick(s) held in memory)` : ''}`,
    );
  for (const n of storage.notes) lines.push(`storage note  ${n}`);
  lines.push(
    daemon.running
      ? `daemon        running (pid ${daemon.pid}), guard mode ${out.guardMode}${out.guardOverride ? ' (pinned)' : ''}, last sample ${daemon.lastSampleAt ? new Date(daemon.lastSampleAt).toISOString() : 'none yet'}`
      : `daemon        not running for ${daemon.dataDir}`,
  );
  if (daemon.config?.error)
    lines.push(`config        ${daemon.config.path} not applied: ${daemon.config.error.errors.join('; ')}`);
  if (daemon.config?.restartRequired.length)
    lines.push(`config        restart the daemon to apply ${daemon.config.restartRequired.join(', ')}`);
  return `${lines.join('\n')}\n`;
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
  const read = createReader(config);
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
