import {
  levelRank,
  maxLevel,
  type PostPanicHold,
  type RiskLevel,
  type RiskReason,
} from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import { estimateShare } from '../probes/ceiling-estimate.js';
import { formatBytes } from '../util/format.js';
import type { RiskThresholds } from './risk-thresholds.js';

/** Everything the judgement looks at for one tick. */
export interface RiskInputs {
  now: number;
  sample: Sample;
  exo: {
    reachable: boolean;
    inFlight: number;
    /** Largest in-flight prompt, in tokens (estimated from its length). */
    largestPromptTokens: number | null;
    /** EXO wired the Metal working set (its log said "Wired limit set to" since it started). */
    wiredLimitActive: boolean;
  };
  recent: {
    /** KV-cache evictions in the last 2 minutes. */
    evictions: number;
    /** Model loads or unloads in the last 2 minutes. */
    modelChanges: number;
    /** The last wake from sleep, epoch ms. */
    lastWake: number | null;
    /** Swap used 5 minutes ago. */
    swapUsed5mAgo: number | null;
    /** When the GPU's recovery counter last went up (a GPU hang and reset), epoch ms. Optional: older callers. */
    lastGpuRecovery?: number | null;
    /** GPU recoveries in the last hour. */
    gpuRecoveries1h?: number;
  };
  /** IOGPU-kind panics on this machine in the last 72 h. */
  iogpuPanics72h: number;
  /**
   * Since when the report directories' first scan runs (null or absent: done): until it ends, a panic from
   * before this start may be missing from `iogpuPanics72h` and `hold`.
   */
  reportsScanning?: number | null;
  hold: PostPanicHold | null;
  /** KV the in-flight requests may still add on this node, and the room left under the ceiling. */
  kv: { inFlightBytes: number | null; headroomBytes: number | null };
}

export interface Evaluation {
  level: RiskLevel;
  reasons: RiskReason[];
  score: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Records a reason unless its level is ok. */
type Add = (signal: string, level: RiskLevel, message: string) => void;

/**
 * How far every threshold moves toward "worse" in a relaxed evaluation (hysteresis): `ratio` for fractions,
 * `points` for percentages. Zero when not relaxed.
 */
interface Margin {
  relaxed: boolean;
  ratio: number;
  points: number;
}

/** The GPU side of the memory gauge: in use, the MLX processes' footprint and wired memory against the ceiling. */
function gpuReasons(inp: RiskInputs, t: RiskThresholds, { ratio }: Margin, add: Add): void {
  const m = inp.sample.memory;
  const g = inp.sample.gpu;
  // An estimated ceiling still drives the signals (it is the low side of every published default), and says so.
  const ceilingName =
    g.ceilingSource === 'estimate'
      ? `${formatBytes(g.ceilingBytes)} Metal ceiling (estimated from RAM)`
      : `${formatBytes(g.ceilingBytes)} Metal ceiling`;
  if (g.inUseBytes !== null && g.ceilingBytes) {
    const r = g.inUseBytes / g.ceilingBytes;
    const lvl: RiskLevel =
      r >= t.gpuHard - ratio
        ? 'critical'
        : r >= t.gpuSoft - ratio
          ? 'high'
          : r >= t.gpuElevated - ratio
            ? 'elevated'
            : 'ok';
    add(
      'gpu-in-use',
      lvl,
      `GPU in use ${formatBytes(g.inUseBytes)} = ${pct(r)} of the ${ceilingName} (soft ${pct(t.gpuSoft)}, hard ${pct(t.gpuHard)})`,
    );
  }
  const runners = inp.sample.processes.filter((p) => p.role === 'exo-runner' || p.role === 'mlx-server');
  const footprint = runners.reduce((s, p) => s + (p.physFootprint ?? 0), 0);
  if (footprint > 0 && g.ceilingBytes) {
    const r = footprint / g.ceilingBytes;
    const lvl: RiskLevel = r >= t.gpuHard - ratio ? 'critical' : r >= t.gpuSoft - ratio ? 'high' : 'ok';
    add(
      'runner-footprint',
      lvl,
      `MLX processes' footprint ${formatBytes(footprint)} = ${pct(r)} of the ${g.ceilingSource === 'estimate' ? 'estimated ' : ''}Metal ceiling`,
    );
  }
  if (m.wired !== null && g.ceilingBytes) {
    // MLX wires its buffers up to the working-set ceiling: wired memory at the ceiling is the range before the panic.
    const r = m.wired / g.ceilingBytes;
    const lvl: RiskLevel = r >= t.gpuHard - ratio ? 'critical' : r >= t.gpuSoft - ratio ? 'high' : 'ok';
    add('wired-ceiling', lvl, `wired ${formatBytes(m.wired)} = ${pct(r)} of the ${ceilingName}`);
  }
}

/** The RAM side of the memory gauge: wired share, free percentage, pressure and swap. */
function ramReasons(inp: RiskInputs, t: RiskThresholds, { relaxed, ratio, points }: Margin, add: Add): void {
  const m = inp.sample.memory;
  const ram = m.usable ?? m.total;
  if (m.wired !== null && ram) {
    const r = m.wired / ram;
    const lvl: RiskLevel =
      r >= t.wiredHigh - ratio ? 'high' : r >= t.wiredElevated - ratio ? 'elevated' : 'ok';
    add(
      'wired',
      lvl,
      `wired ${formatBytes(m.wired)} = ${pct(r)} of RAM (elevated ${pct(t.wiredElevated)}, high ${pct(t.wiredHigh)})`,
    );
  }
  if (m.freePercent !== null) {
    const f = m.freePercent;
    const lvl: RiskLevel =
      f <= t.freeCritical + points
        ? 'critical'
        : f <= t.freeHigh + points
          ? 'high'
          : f <= t.freeElevated + points
            ? 'elevated'
            : 'ok';
    add(
      'free-percent',
      lvl,
      `memory free ${f}% (elevated ≤ ${t.freeElevated}%, high ≤ ${t.freeHigh}%, critical ≤ ${t.freeCritical}%)`,
    );
  }
  if (m.pressureLevel === 4) add('pressure', 'high', 'memory pressure is critical (level 4)');
  else if (m.pressureLevel === 2) add('pressure', 'elevated', 'memory pressure is warn (level 2)');
  if (m.swapUsed !== null && inp.recent.swapUsed5mAgo !== null) {
    const growth = m.swapUsed - inp.recent.swapUsed5mAgo;
    if (growth >= t.swapGrowthBytes * (relaxed ? 1 - ratio : 1))
      add('swap-growth', 'elevated', `swap grew ${formatBytes(growth)} in 5 minutes`);
  }
  if (m.swapUsed !== null && m.swapTotal) {
    const r = m.swapUsed / m.swapTotal;
    if (r >= t.swapUsedHigh - ratio)
      add(
        'swap-used',
        'high',
        `swap ${pct(r)} used (${formatBytes(m.swapUsed)} of ${formatBytes(m.swapTotal)})`,
      );
  }
}

/** The KV cache the in-flight requests may still add, against the room left under the ceiling. */
function kvReason(inp: RiskInputs, { relaxed, ratio }: Margin, add: Add): void {
  if (
    inp.kv.inFlightBytes !== null &&
    inp.kv.headroomBytes !== null &&
    inp.kv.inFlightBytes > inp.kv.headroomBytes * (relaxed ? 1 - ratio : 1)
  ) {
    add(
      'kv-headroom',
      'high',
      `in-flight requests may add ${formatBytes(inp.kv.inFlightBytes)} of KV cache; ${formatBytes(inp.kv.headroomBytes)} is left under the ceiling`,
    );
  }
}

/** The IOGPU trigger score: the weight of each best-evidenced completeMemory trigger present now, and its terms. */
function triggerScore(inp: RiskInputs, t: RiskThresholds): { score: number; parts: string[] } {
  const m = inp.sample.memory;
  const ram = m.usable ?? m.total;
  let score = 0;
  const parts: string[] = [];
  const w = t.weights;
  const term = (points: number, text: string): void => {
    if (points <= 0) return;
    score += points;
    parts.push(`${text} (+${points})`);
  };
  if (inp.exo.wiredLimitActive) term(w.wiredLimit, 'EXO wired the Metal working set');
  if (inp.exo.inFlight >= 2) term(w.concurrency, `${inp.exo.inFlight} requests in flight`);
  if (inp.recent.evictions + inp.recent.modelChanges > 0)
    term(
      w.churn,
      `${inp.recent.evictions} KV-cache eviction(s) and ${inp.recent.modelChanges} model load/unload(s) in 2 min`,
    );
  if (
    inp.exo.largestPromptTokens !== null &&
    ram &&
    inp.exo.largestPromptTokens / (ram / 1e9) > t.promptTokensPerGb
  )
    term(w.longPrompt, `a ${Math.round(inp.exo.largestPromptTokens / 1000)}K-token prompt`);
  if (
    inp.recent.lastWake !== null &&
    inp.now - inp.recent.lastWake < t.wakeWindowSeconds * 1000 &&
    (inp.exo.wiredLimitActive || (m.wired !== null && ram && m.wired / ram > 0.5))
  )
    term(
      w.wake,
      `woke from sleep ${Math.round((inp.now - inp.recent.lastWake) / 1000)} s ago with GPU memory wired`,
    );
  if (inp.iogpuPanics72h > 0) term(w.recentPanic, `${inp.iogpuPanics72h} IOGPU panic(s) in 72 h`);
  const lastRecovery = inp.recent.lastGpuRecovery ?? null;
  if (lastRecovery !== null && inp.now - lastRecovery < t.gpuRecoveryWindowSeconds * 1000)
    term(
      w.gpuRecovery,
      `the GPU recovered from a hang ${Math.round((inp.now - lastRecovery) / 1000)} s ago (IOAccelerator recoveryCount; ${inp.recent.gpuRecoveries1h ?? 1} in the last hour)`,
    );
  return { score, parts };
}

/**
 * Two gauges, the higher wins. The memory gauge catches exhaustion (OOM, watchdog panics, the wired range
 * before the IOGPU panic); the trigger score follows the best-evidenced completeMemory triggers. With
 * `relaxed`, every threshold moves by the hysteresis margin toward "worse": a level is only left when
 * even the relaxed evaluation is lower.
 */
export function evaluateRisk(inp: RiskInputs, t: RiskThresholds, relaxed = false): Evaluation {
  const margin: Margin = {
    relaxed,
    ratio: relaxed ? t.hysteresisRatio : 0,
    points: relaxed ? t.hysteresisPercent : 0,
  };
  const reasons: RiskReason[] = [];
  const add: Add = (signal, level, message) => {
    if (level !== 'ok') reasons.push({ signal, level, message });
  };

  // Memory gauge (the order of the reasons is kept: the sort below is stable).
  gpuReasons(inp, t, margin, add);
  ramReasons(inp, t, margin, add);
  kvReason(inp, margin, add);

  // IOGPU trigger score.
  const { score, parts } = triggerScore(inp, t);
  const s = relaxed ? score + t.scoreHysteresis : score;
  const scoreLevel: RiskLevel =
    s >= t.scoreCritical ? 'critical' : s >= t.scoreHigh ? 'high' : s >= t.scoreElevated ? 'elevated' : 'ok';
  add('trigger-score', scoreLevel, `IOGPU trigger score ${score}: ${parts.join(', ')}`);

  const ceiling = ceilingReason(inp.sample);
  if (ceiling) reasons.push(ceiling);

  if (inp.hold)
    add(
      'post-panic-hold',
      'elevated',
      `post-panic hold since ${new Date(inp.hold.since).toISOString()}: ${inp.hold.reason}; end it with \`exo-sentinel ack\``,
    );

  if (inp.reportsScanning != null)
    reasons.push({
      signal: 'reports-scanning',
      level: 'ok',
      message: `the report directories are still being scanned (since ${new Date(inp.reportsScanning).toISOString()}): a kernel panic from before this start may not be counted yet; judged again as soon as the scan finds one or ends`,
    });

  reasons.sort((a, b) => levelRank(b.level) - levelRank(a.level));
  return { level: maxLevel(...reasons.map((r) => r.level)), reasons, score };
}

/**
 * "The ceiling is estimated / unknown" as a reason of its own, at level ok: it raises nothing by itself (no
 * evidence ties an estimated ceiling to a panic), but the level and the guard then rest on a guess, and the
 * person should know how to make it exact. None when the ceiling was read (or its source was not recorded).
 */
export function ceilingReason(sample: Sample): RiskReason | null {
  const g = sample.gpu;
  const ram = sample.memory.total;
  const fix =
    'to read the exact figure on a Mac build the native addon (npm run build:native) and check it with exo-sentinel doctor --probes, or set gpu.ceilingBytes';
  if (g.ceilingSource === 'estimate' && g.ceilingBytes !== null)
    return {
      signal: 'ceiling-estimated',
      level: 'ok',
      message: `Metal ceiling estimated: ${formatBytes(g.ceilingBytes)}${ram ? ` = ${estimateShare(ram)} of ${formatBytes(ram)} RAM` : ''}, since neither Metal, iogpu.wired_limit_mb nor a Python told it; the GPU signals and the guard use this estimate; ${fix}`,
    };
  if (g.ceilingBytes === null && g.ceilingSource !== undefined)
    return {
      signal: 'ceiling-unknown',
      level: 'ok',
      message: `Metal ceiling unknown: the GPU-in-use, runner-footprint and wired-ceiling signals and the guard's KV check are off; ${fix}`,
    };
  return null;
}
