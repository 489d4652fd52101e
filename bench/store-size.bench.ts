/**
 * Bytes per day of the timeline with five watched processes at 1 Hz, through the real store API
 * (TimelineStore.writeTick, events, the audit store and applyRetention every 10 min as the daemon does).
 * Writes BENCH_HOURS (default 6) of realistic rows, measures each table with SQLite's dbstat, and
 * extrapolates the steady-state size of the database under the default retention.
 */
import { AuditStore } from '../src/main/core/actions/audit-store.js';
import { openDatabase } from '../src/main/core/store/database.js';
import { applyRetention, DEFAULT_RETENTION, EVENT_RULES } from '../src/main/core/store/retention.js';
import { TimelineStore } from '../src/main/core/store/timeline-store.js';
import type { TimelineEvent } from '../src/shared/events.js';
import { emptyGpu, emptyMemory, type ProcessReading, type Sample } from '../src/shared/sample.js';
import { tempDir } from '../test/support/temp-dir.js';
import { saveResult } from './bench-util.js';

const HOURS = Number(process.env['BENCH_HOURS'] ?? 6);
/** One gated request every REQUEST_EVERY seconds (a busy single-user node). */
const REQUEST_EVERY = Number(process.env['BENCH_REQUEST_EVERY'] ?? 20);
const GiB = 1024 ** 3;
const PAGE = 16_384;
const DAY = 86_400_000;

/** Deterministic noise so runs are comparable. */
let seed = 42;
const rand = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pages = (bytes: number): number => Math.round(bytes / PAGE) * PAGE;

const ROLES: Array<ProcessReading['role']> = [
  'exo-main',
  'exo-runner',
  'exo-runner',
  'exo-macmon',
  'exo-resource-tracker',
];

function sample(time: number, i: number): Sample {
  const memory = emptyMemory();
  const wired = 60 * GiB + Math.sin(i / 600) * 8 * GiB + rand() * 64 * 1024 * 1024;
  Object.assign(memory, {
    total: 128 * GiB,
    usable: 127 * GiB,
    free: pages(12 * GiB + rand() * GiB),
    active: pages(30 * GiB + rand() * 2 * GiB),
    inactive: pages(20 * GiB + rand() * GiB),
    speculative: pages(rand() * 512 * 1024 * 1024),
    wired: pages(wired),
    compressed: pages(GiB + rand() * 100 * 1024 * 1024),
    swapUsed: pages(rand() * 256 * 1024 * 1024),
    swapTotal: 2 * GiB,
    pressureLevel: 1,
    freePercent: Math.round(40 + rand() * 10),
  });
  const slowAt = time - (i % 5) * 1000;
  const gpu = {
    ...emptyGpu(),
    inUseBytes: pages(50 * GiB + rand() * GiB),
    allocBytes: pages(60 * GiB + rand() * GiB),
    ceilingBytes: 96 * GiB,
    utilization: Math.round(rand() * 100),
    sampledAt: slowAt,
  };
  const processes: ProcessReading[] = ROLES.map((role, k) => ({
    pid: 1500 + k,
    ppid: k === 0 ? 1 : 1500,
    role,
    startTime: 1_700_000_000_000 + k,
    rss: pages((k === 1 || k === 2 ? 2 : 0.3) * GiB + rand() * 10 * 1024 * 1024),
    physFootprint: pages((k === 1 || k === 2 ? 40 : 0.5) * GiB + rand() * 100 * 1024 * 1024),
    cpuPercent: Math.round(rand() * 1000) / 10,
    threads: 10 + Math.floor(rand() * 30),
  }));
  return {
    time,
    memory,
    gpu,
    processes,
    exo: { reachable: true, inFlight: Math.floor(rand() * 3) },
    riskLevel: rand() < 0.9 ? 0 : 1,
  };
}

function requestEvent(time: number, i: number): TimelineEvent {
  const data = {
    decision: 'admit',
    endpoint: '/v1/chat/completions',
    model: 'mlx-community/Qwen3-30B-A3B-4bit',
    promptTokensEstimated: 1200 + (i % 5000),
    maxTokens: 2048,
    kvBytesEstimated: 400_000_000 + i,
    status: 200,
    reason: 'level ok, 1 in flight',
    waitedMs: Math.round(rand() * 50),
    durationMs: Math.round(rand() * 30_000),
  };
  return {
    time,
    kind: 'guard.request',
    severity: 'info',
    message: `admit /v1/chat/completions ${data.model}: ≈${data.promptTokensEstimated}+2048 tokens, KV ≈381 MiB, 200 — ${data.reason}`,
    data,
  };
}

function tableBytes(db: ReturnType<typeof openDatabase>): Record<string, number> {
  const rows = db
    .prepare(
      `SELECT coalesce(m.tbl_name, d.name) AS t, sum(d.pgsize) AS bytes
       FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY t`,
    )
    .all() as Array<{ t: string; bytes: number }>;
  return Object.fromEntries(rows.map((r) => [r.t, r.bytes]));
}

function main(): void {
  const dir = tempDir('exo-sentinel-store-size-');
  try {
    const db = openDatabase(`${dir.path}/timeline.db`);
    const store = new TimelineStore(db);
    const audit = new AuditStore(db);
    const start = Date.UTC(2026, 10, 1);
    const ticks = HOURS * 3600;
    const wallStart = performance.now();
    for (let i = 0; i < ticks; i++) {
      const now = start + i * 1000;
      const events: TimelineEvent[] = [];
      if (i % REQUEST_EVERY === 0) events.push(requestEvent(now, i));
      if (i % 300 === 0)
        events.push({
          time: now,
          kind: 'exo.kv-evicted',
          severity: 'info',
          message: 'prefix cache evicted 1.2 GiB',
          data: { bytes: 1_288_490_188 },
        });
      store.writeTick(sample(now, i), events);
      if (i % 1800 === 0)
        audit.record({
          time: now,
          action: 'guard-mode',
          level: 'elevated',
          reason: 'wired 82 % of RAM',
          result: 'done',
          dryRun: false,
          detail: { from: 'open', to: 'serialise' },
        });
      if (i % 600 === 599) applyRetention(db, now + 1000);
    }
    const writeSeconds = (performance.now() - wallStart) / 1000;
    db.pragma('wal_checkpoint(TRUNCATE)');
    const bytes = tableBytes(db);
    const perDay = (t: string): number => ((bytes[t] ?? 0) * 24) / HOURS;
    const rawPerDay = perDay('samples') + perDay('process_samples');
    const minutePerDay = perDay('samples_minute') + perDay('process_samples_minute');
    const requestRule = EVENT_RULES.find((r) => r.prefix === 'guard.request')!;
    const kvRule = EVENT_RULES.find((r) => r.prefix === 'exo.kv-')!;
    const eventsPerDay = perDay('events');
    // Split the events table by kind in proportion to their row bytes.
    const split = db
      .prepare(
        "SELECT sum(kind = 'guard.request' ) * 1.0 / count(*) AS share FROM events WHERE length(message) > 0",
      )
      .get() as { share: number };
    const rawDays = DEFAULT_RETENTION.rawMs / DAY;
    const minuteDays = DEFAULT_RETENTION.minuteMs / DAY;
    const steady =
      rawPerDay * rawDays +
      minutePerDay * minuteDays +
      eventsPerDay * split.share * (requestRule.ms / DAY) +
      eventsPerDay * (1 - split.share) * (kvRule.ms / DAY) +
      perDay('actions') * minuteDays +
      (bytes['reports'] ?? 0) +
      (bytes['meta'] ?? 0) +
      (bytes['processes'] ?? 0);
    const MB = 1_000_000;
    const result = {
      hours: HOURS,
      watchedProcesses: ROLES.length,
      requestEverySeconds: REQUEST_EVERY,
      writeSecondsPerSimulatedHour: writeSeconds / HOURS,
      tableBytes: bytes,
      mbPerDay: {
        raw: rawPerDay / MB,
        minute: minutePerDay / MB,
        events: eventsPerDay / MB,
        audit: perDay('actions') / MB,
      },
      retentionDays: { raw: rawDays, minute: minuteDays },
      steadyStateMB: steady / MB,
      fileMB: ((db.pragma('page_count', { simple: true }) as number) * 4096) / MB,
      before: {
        rawDays: 7,
        minuteDays: 90,
        steadyMB: (rawPerDay * 7 + minutePerDay * 90 + eventsPerDay * 90) / MB,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`saved to ${saveResult('store-size', result)}`);
    db.close();
  } finally {
    dir.cleanup();
  }
}

main();
