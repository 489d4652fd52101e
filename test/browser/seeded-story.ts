import { openDatabase } from '../../src/main/core/store/database.js';
import { applyRetention } from '../../src/main/core/store/retention.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import type { PressureLevel, ProcessReading, Sample } from '../../src/shared/sample.js';

const GiB = 1024 ** 3;
const MIN = 60_000;

/**
 * A day on a 128 GiB Mac running EXO, written into a data directory's timeline before its daemon starts,
 * so the charts draw the same story in every run: a model loads, GPU memory climbs through elevated and
 * high to a kernel panic 30 minutes ago, a gap while the machine restarts, then a quiet recovery. The
 * last 70 minutes are 1 s samples (what 15 m and 1 h draw), the rest of the day one sample a minute
 * (rolled up for 6 h, 24 h and 7 d), with an elevated hour six hours ago.
 */
export interface Story {
  /** When the panic happened (a report with this time puts a marker on the charts). */
  panicTime: number;
  samples: number;
  minutes: number;
}

/** What the story has at `ago` ms before its end: GPU share of the ceiling, level, pressure. */
function shape(ago: number): { gpu: number; level: number; pressure: PressureLevel; runner: number } | null {
  const m = ago / MIN;
  if (m >= 26 && m < 30) return null; // the machine is restarting after the panic
  if (m < 26) return { gpu: 0.25 + (0.25 * (26 - m)) / 26, level: 0, pressure: 1, runner: 1720 };
  if (m < 34) return { gpu: 0.97, level: 2, pressure: 2, runner: 1601 };
  if (m < 45) return { gpu: 0.9, level: 1, pressure: 1, runner: 1601 };
  if (m < 60) return { gpu: 0.55 + (0.35 * (60 - m)) / 15, level: 0, pressure: 1, runner: 1601 };
  if (m >= 360 && m < 420) return { gpu: 0.91, level: 1, pressure: 1, runner: 1433 };
  return { gpu: 0.5, level: 0, pressure: 1, runner: 1433 };
}

function sampleAt(time: number, ago: number): Sample | null {
  const s = shape(ago);
  if (!s) return null;
  const ceiling = 96 * GiB;
  const inUse = Math.round(s.gpu * ceiling);
  // A little movement so lines are not flat, the same in every run.
  const wobble = Math.sin(time / 47_000) * 0.01;
  const processes: ProcessReading[] = [
    {
      pid: 1577,
      ppid: 1,
      role: 'exo-main',
      startTime: 1000,
      rss: 2 * GiB,
      physFootprint: 3 * GiB,
      cpuPercent: 6,
      threads: 31,
    },
    {
      pid: s.runner,
      ppid: 1577,
      role: 'exo-runner',
      startTime: 2000 + s.runner,
      rss: GiB,
      physFootprint: Math.round(inUse * (0.96 + wobble)),
      cpuPercent: 90,
      threads: 12,
    },
  ];
  return {
    time,
    memory: {
      total: 128 * GiB,
      usable: 128 * GiB,
      free: Math.round((1 - s.gpu * 0.8) * 40 * GiB),
      active: 30 * GiB,
      inactive: 10 * GiB,
      speculative: GiB,
      wired: Math.round((12 + s.gpu * 90 * (1 + wobble)) * GiB),
      compressed: GiB,
      swapUsed: 0,
      swapTotal: 0,
      pressureLevel: s.pressure,
      freePercent: Math.round(1000 * (0.75 - s.gpu * 0.6 + wobble)) / 10,
    },
    gpu: {
      inUseBytes: Math.round(inUse * (1 + wobble)),
      allocBytes: inUse + 2 * GiB,
      ceilingBytes: ceiling,
      ceilingSource: 'metal',
      utilization: Math.round(60 + s.gpu * 35),
      sampledAt: time,
    },
    processes,
    exo: { reachable: true, inFlight: s.level > 0 ? 3 : 1 },
    riskLevel: s.level,
  };
}

/** Writes the story ending at `end` (ms) into `<dataDir>/timeline.db` and rolls up its minutes. */
export function seedStory(dataDir: string, end: number): Story {
  const db = openDatabase(`${dataDir}/timeline.db`);
  const store = new TimelineStore(db);
  let samples = 0;
  const write = (time: number): void => {
    const s = sampleAt(time, end - time);
    if (!s) return;
    store.writeTick(s);
    samples++;
  };
  db.transaction(() => {
    for (let t = end - 24 * 60 * MIN; t < end - 70 * MIN; t += MIN) write(t);
    for (let t = end - 70 * MIN; t <= end; t += 1000) write(t);
    // The guard's decisions: a chat request every 2 minutes, held back as the level rose.
    for (let t = end - 58 * MIN; t <= end; t += 2 * MIN) {
      const s = shape(end - t);
      if (!s) continue;
      const tokens = 2000 + (Math.floor(t / MIN) % 7) * 1500;
      const r =
        s.level >= 2
          ? { decision: 'refuse', status: 503, reason: 'level high: refuse-new' }
          : s.level === 1
            ? { decision: 'queue', status: 200, reason: 'level elevated: serialise (1 in flight)' }
            : { decision: 'admit', status: 200, reason: 'level ok' };
      store.writeEvent({
        time: t,
        kind: 'guard.request',
        severity: r.decision === 'admit' ? 'info' : 'warning',
        message: `${r.decision} /v1/chat/completions: ${r.status} — ${r.reason}`,
        data: {
          ...r,
          endpoint: '/v1/chat/completions',
          model: 'mlx-community/Qwen3-Coder-Next-4bit',
          promptTokensEstimated: tokens,
          kvBytesEstimated: tokens * 196_608,
        },
      });
    }
  })();
  applyRetention(db, end);
  const minutes = (db.prepare('SELECT count(*) AS c FROM samples_minute').get() as { c: number }).c;
  db.close();
  return { panicTime: end - 30 * MIN, samples, minutes };
}
