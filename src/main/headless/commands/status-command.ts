import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { TimelineEvent } from '../../../shared/events.js';
import type { PostPanicHold, RiskState } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import { readGuardMode } from '../../core/actions/action-runner.js';
import { readHold } from '../../core/actions/post-panic-hold.js';
import { loadConfig } from '../../core/config/config-loader.js';
import type { Config } from '../../core/config/config-schema.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { EventCollector } from '../../core/daemon.js';
import { ExoApiClient } from '../../core/exo/exo-api-client.js';
import { ExoMonitor, type ExoSnapshot } from '../../core/exo/exo-monitor.js';
import { exoHome, readExoPidfile } from '../../core/exo/exo-pidfile.js';
import { estimateInFlightKv } from '../../core/exo/in-flight-kv.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { type PanicSummary, summarisePanics } from '../../core/panics/panic-summary.js';
import { createProbe } from '../../core/probes/create-probe.js';
import type { MachineIdentity } from '../../core/probes/probe-types.js';
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
import { EXIT_FAILURE, EXIT_USAGE, httpUrl } from '../usage-error.js';

export interface Reading {
  result: TickResult;
  notes: TimelineEvent[];
  identity: MachineIdentity | null;
}

/** A one-shot reading of this machine: needs no running daemon. */
export async function takeReading(config: Config): Promise<Reading> {
  const events = new EventCollector(() => Date.now());
  const probe = createProbe(events, {
    ceilingBytes: config.gpu.ceilingBytes,
    mlxPython: config.gpu.mlxPython,
  });
  const patterns = config.watch.mlxServerPatterns.map((p) => new RegExp(p));
  const sampler = new Sampler(probe, () => ({
    pidfilePid: readExoPidfile(config.watch.exoPidfile ?? undefined),
    mlxServerPatterns: patterns,
  }));
  const [identity] = await Promise.all([probe.identity().catch(() => null), sampler.tick(Date.now(), true)]);
  // A second reading a moment later gives CPU percentages (they are rates).
  await new Promise((r) => setTimeout(r, 250));
  const result = await sampler.tick(Date.now(), false);
  return { result, notes: events.drain(), identity };
}

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

/** The running daemon's storage health, from its API (null when it does not answer in time). */
async function daemonStorage(api: string): Promise<StorageStatus | null> {
  try {
    const r = await fetch(`${api}/api/v1/status`, { signal: AbortSignal.timeout(1500) });
    if (!r.ok) return null;
    const body = (await r.json()) as { storage?: StorageStatus };
    return body.storage ?? null;
  } catch {
    return null;
  }
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'read memory, GPU memory, the EXO processes and EXO now, with the level and its reasons (no daemon needed)',
    )
    .option('--json', 'print one JSON object')
    .option('--exo-url <url>', "EXO's API (default http://127.0.0.1:52415 or the config's)", httpUrl)
    .option(
      '--exit-status',
      'exit with the level, for scripts and monitoring: 0 ok, 1 elevated, 2 high, 3 critical, 4 unknown',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<{
        json?: boolean;
        dataDir?: string;
        exoUrl?: string;
        exitStatus?: boolean;
      }>();
      const dataDir = resolveDataDir(flags.dataDir);
      const config = configFor(dataDir, flags.exoUrl);
      if (!config) {
        if (flags.exitStatus) process.exitCode = EXIT_UNKNOWN;
        return;
      }
      let reading: Reading;
      let exo: ExoSnapshot;
      try {
        [reading, exo] = await Promise.all([takeReading(config), pollExo(config)]);
      } catch (e) {
        process.stderr.write(`exo-sentinel: cannot read this machine: ${(e as Error).message}\n`);
        process.exitCode = flags.exitStatus ? EXIT_UNKNOWN : EXIT_FAILURE;
        return;
      }
      const { result, notes, identity } = reading;
      const p = paths(dataDir);
      const daemon = runningDaemon(p.pidfile);
      let lastStored: Sample | null = null;
      let panics: PanicSummary | null = null;
      let daemonRisk: RiskState | null = null;
      let hold: PostPanicHold | null = null;
      let guardMode: string | null = null;
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
          const since = Date.now() - 72 * 3_600_000;
          iogpuPanics72h =
            reports.countPanics('completeMemory', since) + reports.countPanics('iogpuSibling', since);
          db.close();
        } catch (e) {
          lastStored = null;
          dbProblem =
            describeStoreProblem(e, p.database) ?? `cannot read ${p.database}: ${(e as Error).message}`;
        }
      }
      // What only the running daemon knows (writes failing on a full or read-only disk): asked over its API.
      const storage = (daemon?.api ? await daemonStorage(daemon.api) : null) ?? {
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
      const argvOf = new Map(result.watched.map((w) => [w.entry.pid, w.entry]));
      const out = {
        ...sample,
        processes: sample.processes.map((pr) => ({
          ...pr,
          argv: argvOf.get(pr.pid)?.argv ?? [],
          executable: argvOf.get(pr.pid)?.executable ?? null,
        })),
        platform: process.platform,
        identity,
        unavailable: notes
          .filter((n) => n.kind === 'probe.unavailable')
          .map((n) => ({ field: n.data?.['field'], reason: n.data?.['reason'] })),
        problems: notes.filter((n) => n.kind === 'probe.failed').map((n) => n.message),
        exo,
        risk: { now: { level: now.level, reasons: now.reasons, score: now.score }, daemon: daemonRisk },
        guardMode,
        hold,
        daemon: {
          running: daemon !== null,
          pid: daemon?.pid ?? null,
          dataDir,
          lastSampleAt: lastStored?.time ?? null,
        },
        panics,
        storage,
      };
      // The level shown: the running daemon's (it has the history), else this reading's.
      const level = daemon && daemonRisk ? daemonRisk : { level: now.level, reasons: now.reasons };
      if (dbProblem) {
        process.stderr.write(`exo-sentinel: ${dbProblem}\n`);
        process.exitCode = EXIT_FAILURE;
      }
      if (flags.exitStatus) process.exitCode = exitCodeForLevel(level.level);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `level         ${level.level.toUpperCase()}${daemon && daemonRisk ? ' (daemon)' : ' (this reading, no history)'}\n`,
      );
      for (const r of level.reasons) process.stdout.write(`  ${r.level.padEnd(9)}${r.message}\n`);
      if (hold)
        process.stdout.write(
          `hold          post-panic hold since ${new Date(hold.since).toISOString()}: ${hold.reason} — end it with: exo-sentinel ack\n`,
        );
      process.stdout.write(`${renderSample(sample)}\n`);
      process.stdout.write(
        exo.reachable
          ? `exo           ${exo.url} node ${exo.nodeId}: ${exo.instances.length} instance(s) ${exo.instances.map((i) => i.modelId).join(', ')}; runners ${exo.runners.map((r) => r.status).join(', ') || 'none'}; ${exo.inFlight} request(s) in flight\n`
          : `exo           not reachable: ${exo.error}\n`,
      );
      for (const f of exo.failures)
        process.stdout.write(
          `exo failure   ${f.kind === 'runner-failed' ? `runner ${f.runnerId}: ${f.message}` : `instance ${f.instanceId} has no runner for ${f.missing.length} shard(s)`}\n`,
        );
      for (const u of out.unavailable)
        process.stdout.write(`note          ${String(u.field)}: ${String(u.reason)}\n`);
      for (const problem of out.problems) process.stdout.write(`problem       ${problem}\n`);
      if (panics) {
        const l = panics.latest;
        process.stdout.write(
          `panics        ${panics.total} recorded, ${panics.last72h} in the last 72 h${l ? `; latest ${l.kind} at ${new Date(l.panicTime ?? l.mtime).toISOString()} (exo-sentinel report ${l.id})` : ''}\n`,
        );
        for (const u of panics.unreadable)
          process.stdout.write(
            `unreadable    ${u.name} (${new Date(u.mtime).toISOString()}): ${u.problem}\n`,
          );
      }
      if (storage.state !== 'ok')
        process.stdout.write(
          `storage       ${storage.message}${storage.buffered ? ` (${storage.buffered} tick(s) held in memory)` : ''}\n`,
        );
      for (const n of storage.notes) process.stdout.write(`storage note  ${n}\n`);
      process.stdout.write(
        daemon
          ? `daemon        running (pid ${daemon.pid}), guard mode ${guardMode}, last sample ${lastStored ? new Date(lastStored.time).toISOString() : 'none yet'}\n`
          : `daemon        not running for ${dataDir}\n`,
      );
    });
}
