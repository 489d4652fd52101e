import { basename } from 'node:path';
import { type ReplayConfig, type ReplayResult, replay } from './replay-engine.js';
import { loadScenario, scenarioFiles } from './scenario-loader.js';
import type { Scenario } from './scenario-schema.js';

export interface BacktestScenario {
  file: string;
  name: string;
  kind: Scenario['kind'];
  hours: number;
  /** Incidents: the level was high or above `warnBySeconds` before the panic. */
  warned: boolean | null;
  warnBySeconds: number | null;
  leadSeconds: number | null;
  falseAlarms: number;
  levels: ReplayResult['levels'];
  maxScore: number;
}

export interface BacktestResult {
  incidents: number;
  warned: number;
  leadSeconds: { min: number | null; median: number | null };
  healthyHours: number;
  /** Stretches at high or above in healthy scenarios. */
  falseAlarms: number;
  falseAlarmsPer24h: number;
  /** Every incident warned and at most one false alarm per 24 h of healthy time. */
  targetsMet: boolean;
  scenarios: BacktestScenario[];
}

export type BacktestOutcome = { ok: true; result: BacktestResult } | { ok: false; errors: string[] };

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Replays every scenario of a directory and summarises warnings, lead times and false alarms. */
export function backtest(dir: string, config: ReplayConfig): BacktestOutcome {
  let files: string[];
  try {
    files = scenarioFiles(dir);
  } catch (e) {
    return {
      ok: false,
      errors: [`${dir}: cannot list (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`],
    };
  }
  if (files.length === 0) return { ok: false, errors: [`${dir}: no scenario files (*.json)`] };
  const errors: string[] = [];
  const scenarios: BacktestScenario[] = [];
  for (const file of files) {
    const loaded = loadScenario(file);
    if (!loaded.ok) {
      errors.push(...loaded.errors);
      continue;
    }
    const s = loaded.scenario;
    const r = replay(loaded.source, config);
    const panic = r.panics[0];
    const lead = panic?.leadSeconds ?? null;
    scenarios.push({
      file: basename(file),
      name: s.name,
      kind: s.kind,
      // Time the machine was awake (ticks), not the wall-clock span: a night asleep is not healthy hours.
      hours: round2(Object.values(r.levels).reduce((a, x) => a + x, 0) / 3600),
      warned: s.kind === 'incident' ? lead !== null && lead >= s.warnBySeconds : null,
      warnBySeconds: s.kind === 'incident' ? s.warnBySeconds : null,
      leadSeconds: lead,
      falseAlarms: r.falseAlarms,
      levels: r.levels,
      maxScore: r.maxScore,
    });
  }
  if (errors.length) return { ok: false, errors };
  const incidents = scenarios.filter((s) => s.kind === 'incident');
  const healthy = scenarios.filter((s) => s.kind === 'healthy');
  const leads = incidents.filter((s) => s.warned).map((s) => s.leadSeconds!);
  const healthyHours = round2(healthy.reduce((a, s) => a + s.hours, 0));
  const falseAlarms = healthy.reduce((a, s) => a + s.falseAlarms, 0);
  const per24h = healthyHours > 0 ? round2((falseAlarms * 24) / healthyHours) : 0;
  const warned = incidents.filter((s) => s.warned).length;
  return {
    ok: true,
    result: {
      incidents: incidents.length,
      warned,
      leadSeconds: { min: leads.length ? Math.min(...leads) : null, median: median(leads) },
      healthyHours,
      falseAlarms,
      falseAlarmsPer24h: per24h,
      targetsMet: warned === incidents.length && healthyHours >= 24 && per24h <= 1,
      scenarios,
    },
  };
}
