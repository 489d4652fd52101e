/**
 * `exo-sentinel status`: the object `--json` prints and the lines the terminal shows, one function per
 * section. Reading the machine, EXO and the data directory is status-command.ts's job; this only shapes.
 */
import type { TimelineEvent } from '../../../shared/events.js';
import type { PostPanicHold, RiskLevel, RiskReason, RiskState } from '../../../shared/risk.js';
import type {
  ConfigReloadState,
  PanicSummary,
  ProbeDescription,
  StorageStatus,
  WakeHoldStatusView,
} from '../../../shared/status-view.js';
import type { ExoSnapshot } from '../../core/exo/exo-monitor.js';
import type { MachineIdentity } from '../../core/probes/probe-types.js';
import type { Evaluation } from '../../core/risk/risk-signals.js';
import type { TickResult } from '../../core/sampler.js';
import { renderSample } from '../output.js';

/** What the running daemon's status says about itself, as `status` shows it. */
export interface DaemonLine {
  running: boolean;
  pid: number | null;
  dataDir: string;
  lastSampleAt: number | null;
  /** The running daemon's configuration reloads (file, restart-required keys, last error). */
  config: ConfigReloadState | null;
}

export interface StatusParts {
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
  wakeHold: WakeHoldStatusView | null;
  daemon: DaemonLine;
  panics: PanicSummary | null;
  storage: StorageStatus;
}

/** The JSON object `status --json` prints (without `probes` and `level`, added by the caller). */
export function statusObject(r: StatusParts) {
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

export type StatusObject = ReturnType<typeof statusObject> & {
  probes: ProbeDescription | null;
  level: RiskLevel;
};

/** One status: the JSON object `--json` prints, the level shown, and a database problem if any. */
export interface CliStatus {
  /** The JSON object, with `level`: the level shown (the running daemon's, else this reading's). */
  out: StatusObject;
  level: { level: RiskLevel; reasons: RiskReason[] };
  fromDaemon: boolean;
  dbProblem: string | null;
}

const iso = (t: number): string => new Date(t).toISOString();

function levelLines(view: CliStatus): string[] {
  const { out, level } = view;
  const lines = [
    `level         ${level.level.toUpperCase()}${view.fromDaemon ? ' (daemon)' : ' (this reading, no history)'}`,
  ];
  for (const r of level.reasons) lines.push(`  ${r.level.padEnd(9)}${r.message}`);
  if (out.hold)
    lines.push(
      `hold          post-panic hold since ${iso(out.hold.since)}: ${out.hold.reason} — end it with: exo-sentinel ack`,
    );
  if (out.wakeHold) lines.push(`wake hold     ${out.wakeHold.reason}`);
  return lines;
}

function exoLines(exo: ExoSnapshot): string[] {
  const lines = [
    exo.reachable
      ? `exo           ${exo.url} node ${exo.nodeId}: ${exo.instances.length} instance(s) ${exo.instances.map((i) => i.modelId).join(', ')}; runners ${exo.runners.map((r) => r.status).join(', ') || 'none'}; ${exo.inFlight} request(s) in flight`
      : `exo           not reachable: ${exo.error}`,
  ];
  for (const f of exo.failures)
    lines.push(
      `exo failure   ${f.kind === 'runner-failed' ? `runner ${f.runnerId}: ${f.message}` : `instance ${f.instanceId} has no runner for ${f.missing.length} shard(s)`}`,
    );
  return lines;
}

function probeLines(out: StatusObject): string[] {
  const lines: string[] = [];
  const p = out.probes;
  if (p)
    lines.push(
      `probes        ${p.backend}${p.native.loaded ? ` (addon ${p.native.version})` : p.native.error ? ` (addon not used: ${p.native.error})` : ''}`,
    );
  for (const u of out.unavailable) lines.push(`note          ${String(u.field)}: ${String(u.reason)}`);
  for (const problem of out.problems) lines.push(`problem       ${problem}`);
  return lines;
}

/** Unreadable reports named one per line in the text status. */
export const UNREADABLE_SHOWN = 5;

function panicLines(panics: PanicSummary | null): string[] {
  if (!panics) return [];
  const l = panics.latest;
  const lines = [
    `panics        ${panics.total} recorded, ${panics.last72h} in the last 72 h${l ? `; latest ${l.kind} at ${iso(l.panicTime ?? l.mtime)} (exo-sentinel report ${l.id})` : ''}`,
  ];
  // Anyone who can write a report directory can leave unreadable files there: a few by name, the rest counted
  // (`status --json` has the list, `panics list` every one).
  for (const u of panics.unreadable.slice(0, UNREADABLE_SHOWN))
    lines.push(`unreadable    ${u.name} (${iso(u.mtime)}): ${u.problem}`);
  const more = panics.unreadable.length - UNREADABLE_SHOWN;
  if (more > 0) lines.push(`unreadable    and ${more} more (status --json lists them)`);
  return lines;
}

function storageLines(storage: StorageStatus): string[] {
  const lines: string[] = [];
  if (storage.state !== 'ok')
    lines.push(
      `storage       ${storage.message}${storage.buffered ? ` (${storage.buffered} tick(s) held in memory)` : ''}`,
    );
  for (const n of storage.notes) lines.push(`storage note  ${n}`);
  return lines;
}

function daemonLines(out: StatusObject): string[] {
  const { daemon } = out;
  const lines = [
    daemon.running
      ? `daemon        running (pid ${daemon.pid}), guard mode ${out.guardMode}${out.guardOverride ? ' (pinned)' : ''}, last sample ${daemon.lastSampleAt ? iso(daemon.lastSampleAt) : 'none yet'}`
      : `daemon        not running for ${daemon.dataDir}`,
  ];
  if (daemon.config?.error)
    lines.push(`config        ${daemon.config.path} not applied: ${daemon.config.error.errors.join('; ')}`);
  if (daemon.config?.restartRequired.length)
    lines.push(`config        restart the daemon to apply ${daemon.config.restartRequired.join(', ')}`);
  return lines;
}

/** The status as text, the lines `exo-sentinel status` prints. */
export function renderStatus(view: CliStatus): string {
  const { out } = view;
  const lines = [
    ...levelLines(view),
    renderSample(out),
    ...exoLines(out.exo),
    ...probeLines(out),
    ...panicLines(out.panics),
    ...storageLines(out.storage),
    ...daemonLines(out),
  ];
  return `${lines.join('\n')}\n`;
}
