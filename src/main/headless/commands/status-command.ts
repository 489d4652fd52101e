import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { TimelineEvent } from '../../../shared/events.js';
import type { ReportRecord } from '../../../shared/reports.js';
import type { Sample } from '../../../shared/sample.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { EventCollector } from '../../core/daemon.js';
import { readExoPidfile } from '../../core/exo/exo-pidfile.js';
import { DEFAULT_MLX_SERVER_PATTERNS } from '../../core/exo/process-classifier.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { createProbe } from '../../core/probes/create-probe.js';
import { Sampler, type TickResult } from '../../core/sampler.js';
import { openDatabase } from '../../core/store/database.js';
import { ReportStore } from '../../core/store/report-store.js';
import { TimelineStore } from '../../core/store/timeline-store.js';
import { renderSample } from '../output.js';
import { EXIT_FAILURE } from '../usage-error.js';

/** A one-shot reading of this machine: needs no running daemon. */
export async function takeReading(): Promise<{
  result: TickResult;
  notes: TimelineEvent[];
  identity: unknown;
}> {
  const events = new EventCollector(() => Date.now());
  const probe = createProbe(events);
  const sampler = new Sampler(probe, () => ({
    pidfilePid: readExoPidfile(),
    mlxServerPatterns: DEFAULT_MLX_SERVER_PATTERNS.map((p) => new RegExp(p)),
  }));
  const [identity] = await Promise.all([probe.identity().catch(() => null), sampler.tick(Date.now(), true)]);
  // A second reading a moment later gives CPU percentages (they are rates).
  await new Promise((r) => setTimeout(r, 250));
  const result = await sampler.tick(Date.now(), false);
  return { result, notes: events.drain(), identity };
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('read memory, GPU memory and the EXO processes now (no daemon needed)')
    .option('--json', 'print one JSON object')
    .action(async (_o: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const dataDir = resolveDataDir(flags.dataDir);
      let reading: Awaited<ReturnType<typeof takeReading>>;
      try {
        reading = await takeReading();
      } catch (e) {
        process.stderr.write(`exo-sentinel: cannot read this machine: ${(e as Error).message}\n`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const { result, notes, identity } = reading;
      const p = paths(dataDir);
      const daemon = runningDaemon(p.pidfile);
      let lastStored: Sample | null = null;
      let panics: PanicSummary | null = null;
      if (existsSync(p.database)) {
        try {
          const db = openDatabase(p.database, { readonly: true });
          lastStored = new TimelineStore(db).latestSample();
          panics = summarisePanics(new ReportStore(db), Date.now());
          db.close();
        } catch {
          lastStored = null;
        }
      }
      const argvOf = new Map(result.watched.map((w) => [w.entry.pid, w.entry]));
      const out = {
        ...result.sample,
        processes: result.sample.processes.map((pr) => ({
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
        daemon: {
          running: daemon !== null,
          pid: daemon?.pid ?? null,
          dataDir,
          lastSampleAt: lastStored?.time ?? null,
        },
        panics,
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${renderSample(result.sample)}\n`);
      for (const u of out.unavailable)
        process.stdout.write(`note          ${String(u.field)}: ${String(u.reason)}\n`);
      for (const problem of out.problems) process.stdout.write(`problem       ${problem}\n`);
      if (panics) {
        const l = panics.latest;
        process.stdout.write(
          `panics        ${panics.total} recorded, ${panics.last72h} in the last 72 h${l ? `; latest ${l.kind} at ${new Date(l.panicTime ?? l.mtime).toISOString()} (report ${l.id}: exo-sentinel report ${l.id})` : ''}\n`,
        );
        for (const u of panics.unreadable)
          process.stdout.write(
            `unreadable    ${u.name} (${new Date(u.mtime).toISOString()}): ${u.problem}\n`,
          );
      }
      process.stdout.write(
        daemon
          ? `daemon        running (pid ${daemon.pid}), last sample ${lastStored ? new Date(lastStored.time).toISOString() : 'none yet'}\n`
          : `daemon        not running for ${dataDir}\n`,
      );
    });
}

interface PanicSummary {
  total: number;
  last72h: number;
  byKind72h: Record<string, number>;
  latest: Pick<
    ReportRecord,
    'id' | 'kind' | 'panicTime' | 'mtime' | 'pid' | 'processName' | 'attribution'
  > | null;
  unreadable: Array<Pick<ReportRecord, 'id' | 'name' | 'mtime' | 'problem'>>;
}

function summarisePanics(reports: ReportStore, now: number): PanicSummary {
  const panics = reports.list({ category: 'panic', status: 'ingested' });
  const recent = panics.filter((r) => (r.panicTime ?? r.mtime) >= now - 72 * 3_600_000);
  const byKind72h: Record<string, number> = {};
  for (const r of recent) byKind72h[r.kind ?? 'unknown'] = (byKind72h[r.kind ?? 'unknown'] ?? 0) + 1;
  const l = panics[0];
  return {
    total: panics.length,
    last72h: recent.length,
    byKind72h,
    latest: l
      ? {
          id: l.id,
          kind: l.kind,
          panicTime: l.panicTime,
          mtime: l.mtime,
          pid: l.pid,
          processName: l.processName,
          attribution: l.attribution,
        }
      : null,
    unreadable: reports
      .list({ status: 'unreadable' })
      .map((r) => ({ id: r.id, name: r.name, mtime: r.mtime, problem: r.problem })),
  };
}
