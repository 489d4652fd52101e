import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadConfig } from '../../core/config/config-loader.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { type BacktestResult, backtest } from '../../core/risk/replay/backtest.js';
import { dbSource } from '../../core/risk/replay/db-source.js';
import { type ReplayConfig, type ReplayResult, replay } from '../../core/risk/replay/replay-engine.js';
import { loadScenario } from '../../core/risk/replay/scenario-loader.js';
import { openDatabase } from '../../core/store/database.js';
import { table } from '../output.js';
import { describeStoreProblem } from '../store-problem.js';
import { duration, EXIT_FAILURE, EXIT_USAGE, timestamp } from '../usage-error.js';

/** The corpus shipped with exo-sentinel (test/scenarios, four levels above this module in src and dist). */
export const DEFAULT_SCENARIO_DIR = fileURLToPath(new URL('../../../../test/scenarios', import.meta.url));

interface ReplayFlags {
  db?: string;
  scenario?: string;
  from?: number;
  to?: number;
  since?: number;
  config?: string;
  json?: boolean;
  dataDir?: string;
}

const fail = (message: string, code = EXIT_FAILURE): void => {
  process.stderr.write(`exo-sentinel: ${message}\n`);
  process.exitCode = code;
};

/** `--config FILE` (required to exist), else the data directory's config.json (absent: the defaults). */
function replayConfig(
  file: string | undefined,
  dataDir: string,
): { config: ReplayConfig; label: string } | null {
  const path = file ?? paths(dataDir).config;
  const r = loadConfig(path, {}, file !== undefined);
  if (!r.ok) {
    fail(r.errors.join('\n'));
    return null;
  }
  return {
    config: { risk: r.config.risk, actions: r.config.actions, guard: r.config.guard },
    label: file ?? (existsSync(path) ? path : 'defaults'),
  };
}

const iso = (t: number | null): string => (t === null ? '—' : new Date(t).toISOString());
const hms = (s: number): string =>
  s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s} s`;

function renderReplay(r: ReplayResult, configLabel: string): string {
  const out: string[] = [
    `replay of ${r.source} from ${iso(r.from)} to ${iso(r.to)} (${r.ticks} ticks), config: ${configLabel}`,
    '',
  ];
  if (r.changes.length === 0) out.push('no level or guard-mode change');
  else
    out.push(
      table(
        ['time', 'level', 'guard', 'score', 'reason'],
        r.changes.map((c) => [
          iso(c.time),
          c.from === c.to ? c.to : `${c.from} → ${c.to}`,
          c.guardMode,
          String(c.score),
          c.reasons[0]?.message ?? 'all signals within limits',
        ]),
      ),
    );
  out.push(
    '',
    `levels: ${(['ok', 'elevated', 'high', 'critical'] as const).map((l) => `${l} ${hms(r.levels[l])}`).join(', ')}`,
    `guard:  ${Object.entries(r.guardModes)
      .filter(([, s]) => s > 0)
      .map(([m, s]) => `${m} ${hms(s)}`)
      .join(', ')}`,
  );
  for (const p of r.panics)
    out.push(
      p.leadSeconds === null
        ? `panic (${p.kind}) at ${iso(p.time)}: NOT warned (level ${p.levelAtPanic})`
        : `panic (${p.kind}) at ${iso(p.time)}: warned ${p.leadSeconds} s before (high since ${iso(p.firstWarning)})`,
    );
  out.push(`false alarms (high or above, no panic followed): ${r.falseAlarms}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

function renderBacktest(b: BacktestResult, configLabel: string): string {
  const rows = b.scenarios.map((s) => [
    s.name,
    s.kind,
    s.hours.toFixed(2),
    s.kind === 'incident' ? (s.warned ? 'warned' : 'MISSED') : '',
    s.leadSeconds === null ? '—' : `${s.leadSeconds} s`,
    String(s.falseAlarms),
    String(s.maxScore),
  ]);
  return [
    `backtest, config: ${configLabel}`,
    '',
    table(['scenario', 'kind', 'hours', 'incident', 'lead', 'false alarms', 'max score'], rows),
    '',
    `incidents warned: ${b.warned} of ${b.incidents}; lead min ${b.leadSeconds.min ?? '—'} s, median ${b.leadSeconds.median ?? '—'} s`,
    `healthy: ${b.healthyHours} h, ${b.falseAlarms} false alarm(s) = ${b.falseAlarmsPer24h} per 24 h`,
    `targets (every incident warned, ≤ 1 false alarm per 24 h over ≥ 24 h): ${b.targetsMet ? 'met' : 'NOT met'}`,
  ].join('\n');
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'run the risk engine and action policy over a recorded timeline or a scenario: levels, guard modes, changes, panics',
    )
    .option('--db <file>', "a timeline database (default: this machine's, read only)")
    .option('--scenario <file>', 'a scenario file (see test/scenarios/README.md)')
    .option('--from <time>', 'start (ISO 8601 or epoch ms; default 24 h before --to)', timestamp)
    .option('--to <time>', 'end (ISO 8601 or epoch ms; default now)', timestamp)
    .option('--since <duration>', 'how far back from --to: 90s, 15m, 2h, 7d', duration)
    .option('--config <file>', "a config file to try (default: the data directory's config.json)")
    .option('--json', 'print JSON')
    .action((_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<ReplayFlags>();
      if (f.db && f.scenario) return fail('replay: use --db or --scenario, not both', EXIT_USAGE);
      if (f.scenario && (f.from !== undefined || f.to !== undefined || f.since !== undefined))
        return fail('replay: --from, --to and --since apply to a timeline, not a scenario', EXIT_USAGE);
      if (f.since !== undefined && f.from !== undefined)
        return fail('replay: use --since or --from, not both', EXIT_USAGE);
      const dataDir = resolveDataDir(f.dataDir);
      const cfg = replayConfig(f.config, dataDir);
      if (!cfg) return;
      let result: ReplayResult;
      if (f.scenario) {
        const loaded = loadScenario(f.scenario);
        if (!loaded.ok) return fail(loaded.errors.join('\n'));
        result = replay(loaded.source, cfg.config);
      } else {
        const dbPath = f.db ?? paths(dataDir).database;
        if (!existsSync(dbPath))
          return fail(
            f.db
              ? `${dbPath}: no such file`
              : `no timeline in ${dataDir} yet; start it with: exo-sentinel daemon`,
          );
        const to = f.to ?? Date.now();
        const from = f.from ?? to - (f.since ?? 24 * 3_600_000);
        if (from > to) return fail(`replay: --from (${iso(from)}) is after --to (${iso(to)})`, EXIT_USAGE);
        let db: ReturnType<typeof openDatabase>;
        try {
          db = openDatabase(dbPath, { readonly: true });
        } catch (e) {
          return fail(describeStoreProblem(e, dbPath) ?? `cannot open ${dbPath}: ${(e as Error).message}`);
        }
        try {
          result = replay(dbSource(db, `db:${dbPath}`, from, to), cfg.config);
        } finally {
          db.close();
        }
      }
      process.stdout.write(
        f.json
          ? `${JSON.stringify({ ...result, config: cfg.label })}\n`
          : `${renderReplay(result, cfg.label)}\n`,
      );
    });
}

export function registerBacktest(program: Command): void {
  program
    .command('backtest')
    .description(
      'replay every scenario of a directory: incidents warned, lead times, false alarms per 24 h of healthy time',
    )
    .option('--dir <dir>', 'scenario directory (default: the corpus shipped in test/scenarios)')
    .option('--config <file>', "a config file to try (default: the data directory's config.json)")
    .option('--json', 'print JSON')
    .action((_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ dir?: string; config?: string; json?: boolean; dataDir?: string }>();
      const cfg = replayConfig(f.config, resolveDataDir(f.dataDir));
      if (!cfg) return;
      const r = backtest(f.dir ?? DEFAULT_SCENARIO_DIR, cfg.config);
      if (!r.ok) return fail(r.errors.join('\n'));
      process.stdout.write(
        f.json
          ? `${JSON.stringify({ ...r.result, config: cfg.label })}\n`
          : `${renderBacktest(r.result, cfg.label)}\n`,
      );
    });
}
