import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod/v3';
import type { PressureLevel, Sample } from '../../../../shared/sample.js';
import { formatIssues } from '../../config/config-loader.js';
import { parseDuration } from '../../util/format.js';
import { jsonErrorText } from '../../util/json-error.js';
import type { ReplayEvent, ReplaySource, ReplayTick } from './replay-source.js';
import { type Scenario, ScenarioSchema, type Segment, SegmentGroupSchema } from './scenario-schema.js';

const GiB = 1024 ** 3;
const DEFAULT_START = Date.UTC(2026, 0, 1);

export type ScenarioResult =
  | { ok: true; scenario: Scenario; source: ReplaySource }
  | { ok: false; errors: string[] };

type Ramp = number | [number, number];

/** Where every value starts before the first segment sets it (an idle Mac with nothing loaded). */
const INITIAL = {
  wiredGiB: 3,
  gpuInUseGiB: 0.5,
  freePercent: 70,
  swapUsedGiB: 0,
  pressure: 1 as PressureLevel,
  reachable: true,
  inFlight: 0,
  instances: 0,
  promptTokens: null as number | null,
  kvInFlightGiB: null as number | null,
};
type State = typeof INITIAL;

interface ExpandedSegment {
  segment: Segment;
  start: number;
  end: number;
  /** Value at fraction f (0..1) of the segment. */
  at: (f: number) => State;
}

const ms = (d: string): number => parseDuration(d) ?? 0;
const endOf = (r: Ramp): number => (Array.isArray(r) ? r[1] : r);
const lerp = (r: Ramp, f: number): number => (Array.isArray(r) ? r[0] + (r[1] - r[0]) * f : r);

/** Checks that need the whole file: values within the machine, events inside their segment. */
function crossCheck(s: Scenario, file: string): string[] {
  const errors: string[] = [];
  if (s.machine.ceilingGiB > s.machine.ramGiB)
    errors.push(
      `${file}: "machine.ceilingGiB" is ${s.machine.ceilingGiB}: the Metal ceiling cannot exceed ramGiB (${s.machine.ramGiB})`,
    );
  const check = (seg: Segment, where: string): void => {
    const len = ms(seg.duration);
    if (len <= 0) errors.push(`${file}: "${where}.duration" is "${seg.duration}": must be longer than 0`);
    for (const key of ['wiredGiB', 'gpuInUseGiB'] as const) {
      const v = seg.memory?.[key];
      if (v === undefined) continue;
      const hi = Math.max(...(Array.isArray(v) ? v : [v]));
      if (hi > s.machine.ramGiB)
        errors.push(
          `${file}: "${where}.memory.${key}" is ${JSON.stringify(v)}: more than the machine's ${s.machine.ramGiB} GiB`,
        );
    }
    seg.events?.forEach((e, j) => {
      const at = e.at ? ms(e.at) : 0;
      if (at >= len && len > 0)
        errors.push(
          `${file}: "${where}.events.${j}.at" is "${e.at}": past the end of the segment (${seg.duration})`,
        );
      if (e.every !== undefined && ms(e.every) <= 0)
        errors.push(`${file}: "${where}.events.${j}.every" is "${e.every}": must be longer than 0`);
    });
  };
  s.segments.forEach((g, i) => {
    if ('repeat' in g)
      g.segments.forEach((seg, j) => {
        check(seg, `segments.${i}.segments.${j}`);
      });
    else check(g, `segments.${i}`);
  });
  return errors;
}

/** Groups unrolled: the plain list of segments in order. */
export function flatSegments(s: Scenario): Segment[] {
  return s.segments.flatMap((g) =>
    'repeat' in g ? Array.from({ length: g.repeat }, () => g.segments).flat() : [g],
  );
}

function expandSegments(s: Scenario, start: number): ExpandedSegment[] {
  let state: State = { ...INITIAL };
  let t = start;
  return flatSegments(s).map((segment) => {
    const from = state;
    const m = segment.memory ?? {};
    const x = segment.exo ?? {};
    const pick = (r: Ramp | undefined, prev: number): Ramp => r ?? prev;
    const wired = pick(m.wiredGiB, from.wiredGiB);
    const gpu = pick(m.gpuInUseGiB, from.gpuInUseGiB);
    const free = pick(m.freePercent, from.freePercent);
    const swap = pick(m.swapUsedGiB, from.swapUsedGiB);
    const kv = x.kvInFlightGiB === undefined ? from.kvInFlightGiB : x.kvInFlightGiB;
    const fixed = {
      pressure: m.pressure ?? from.pressure,
      reachable: x.reachable ?? from.reachable,
      inFlight: x.inFlight ?? from.inFlight,
      instances: x.instances ?? from.instances,
      promptTokens: x.promptTokens === undefined ? from.promptTokens : x.promptTokens,
    };
    const at = (f: number): State => ({
      ...fixed,
      wiredGiB: lerp(wired, f),
      gpuInUseGiB: lerp(gpu, f),
      freePercent: lerp(free, f),
      swapUsedGiB: lerp(swap, f),
      kvInFlightGiB: kv === null ? null : lerp(kv, f),
    });
    state = {
      ...fixed,
      wiredGiB: endOf(wired),
      gpuInUseGiB: endOf(gpu),
      freePercent: endOf(free),
      swapUsedGiB: endOf(swap),
      kvInFlightGiB: kv === null ? null : endOf(kv),
    };
    const seg = { segment, start: t, end: t + ms(segment.duration), at };
    t = seg.end;
    return seg;
  });
}

function sampleOf(s: Scenario, time: number, v: State): Sample {
  const ram = s.machine.ramGiB * GiB;
  return {
    time,
    memory: {
      total: ram,
      usable: ram,
      free: Math.round((ram * v.freePercent) / 100),
      active: null,
      inactive: null,
      speculative: null,
      wired: Math.round(v.wiredGiB * GiB),
      compressed: null,
      swapUsed: Math.round(v.swapUsedGiB * GiB),
      swapTotal: Math.round(s.machine.swapTotalGiB * GiB),
      pressureLevel: v.pressure,
      freePercent: Math.round(v.freePercent * 10) / 10,
    },
    gpu: {
      inUseBytes: Math.round(v.gpuInUseGiB * GiB),
      allocBytes: null,
      ceilingBytes: Math.round(s.machine.ceilingGiB * GiB),
      utilization: null,
      sampledAt: time,
    },
    processes: [],
    exo: { reachable: v.reachable, inFlight: v.reachable ? v.inFlight : null },
  };
}

/** Expands a validated scenario into a replay source (ticks generated lazily). */
export function scenarioSource(s: Scenario, label: string): ReplaySource {
  const start = s.start ? Date.parse(s.start) : DEFAULT_START;
  const segs = expandSegments(s, start);
  const end = segs[segs.length - 1]!.end;
  const step = s.tickSeconds * 1000;
  const events: ReplayEvent[] = [];
  for (const { segment, start: t0, end: t1 } of segs) {
    if (segment.sleep) events.push({ time: t1, kind: 'power.wake' });
    for (const e of segment.events ?? []) {
      const first = t0 + (e.at ? ms(e.at) : 0);
      const every = e.every ? ms(e.every) : 0;
      if (every > 0) for (let t = first; t < t1; t += every) events.push({ time: t, kind: e.kind });
      else events.push({ time: first, kind: e.kind });
    }
  }
  events.sort((a, b) => a.time - b.time);
  const ticks = function* (): Generator<ReplayTick> {
    for (const { segment, start: t0, end: t1, at } of segs) {
      if (segment.sleep) continue;
      // Ticks at t0, t0 + step, … before the segment's end (a panic comes at the end of the last one).
      for (let t = t0; t < t1; t += step) {
        const v = at(t1 > t0 ? (t - t0) / (t1 - t0) : 1);
        yield {
          time: t,
          sample: sampleOf(s, t, v),
          exo: {
            reachable: v.reachable,
            inFlight: v.reachable ? v.inFlight : 0,
            instances: v.instances,
            largestPromptTokens: v.inFlight > 0 ? v.promptTokens : null,
            kvInFlightBytes: v.kvInFlightGiB === null || v.inFlight === 0 ? null : v.kvInFlightGiB * GiB,
          },
        };
      }
    }
  };
  return {
    label,
    from: start,
    to: end,
    ticks,
    events,
    panics: s.panic ? [{ time: end, kind: s.panic.kind }] : [],
    priorIogpuPanics: s.priorPanicsHoursAgo.map((h) => start - h * 3_600_000).sort((a, b) => a - b),
    holds: [],
    // Every scenario is an Apple-silicon Mac; no macOS is documented to fix the panic (platform-advisory.ts).
    platformAffected: true,
    maxTickGapMs: Math.max(30_000, 2 * step),
    notes: ['scenarios model no per-process readings: the runner-footprint signal is not exercised'],
  };
}

type Issue = z.ZodIssue;

/**
 * A value that fits no branch of a union fails as a whole ("invalid input" at its key); the first branch's
 * problems (a plain segment's, a constant's rather than a ramp's) name the field instead. A group's are
 * groupIssues'.
 */
function unionIssues(issues: Issue[]): Issue[] {
  return issues.flatMap((i) => {
    if (i.code !== 'invalid_union' || i.unionErrors.length !== 2) return [i];
    // Each branch's issues carry their whole path from the file's top.
    const nested = i.unionErrors[0]!.issues;
    return nested.length ? unionIssues(nested) : [i];
  });
}

const isGroup = (v: unknown): boolean => v !== null && typeof v === 'object' && 'repeat' in v;

/**
 * A segment with `repeat` is a group, and its problems are a group's. Where both branches nearly fit (a group
 * with a `duration` too), zod reports the first branch's, and the message would say to remove the group's
 * own keys.
 */
function groupIssues(issues: Issue[], input: unknown): Issue[] {
  const segments = (input as { segments?: unknown }).segments;
  if (!Array.isArray(segments)) return issues;
  const judged = new Set<number>();
  return issues.flatMap((i) => {
    const n = i.path[0] === 'segments' ? i.path[1] : undefined;
    if (typeof n !== 'number' || !isGroup(segments[n])) return [i];
    if (judged.has(n)) return [];
    judged.add(n);
    const r = SegmentGroupSchema.safeParse(segments[n], { path: ['segments', n] });
    return r.success ? [i] : r.error.issues;
  });
}

/** Parses and validates scenario text; every message names the file and the field. */
export function parseScenario(text: string, file: string): ScenarioResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`${file}: not valid JSON (${jsonErrorText(e, text)})`] };
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return { ok: false, errors: [`${file}: must hold a JSON object`] };
  const r = ScenarioSchema.safeParse(input);
  if (!r.success)
    return {
      ok: false,
      errors: formatIssues(groupIssues(unionIssues(r.error.issues), input), input, file),
    };
  const errors = crossCheck(r.data, file);
  if (errors.length) return { ok: false, errors };
  return { ok: true, scenario: r.data, source: scenarioSource(r.data, `scenario:${basename(file)}`) };
}

export function loadScenario(file: string): ScenarioResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return {
      ok: false,
      errors: [`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`],
    };
  }
  return parseScenario(text, file);
}

/** The scenario files of a directory (`*.json`, not the schema), sorted by name. */
export function scenarioFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'))
    .sort()
    .map((f) => join(dir, f));
}
