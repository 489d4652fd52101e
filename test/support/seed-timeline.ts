import type { Db } from '../../src/main/core/store/database.js';

export interface SeedOptions {
  /** Last sample time (ms); samples run back `days` at `stepMs`. */
  now: number;
  days: number;
  stepMs?: number;
  /** Watched processes per sample. */
  processes?: number;
  /** guard.request events spread over the range, plus one other event per 10 of them. */
  guardRequests?: number;
}

export interface SeedCounts {
  samples: number;
  processSamples: number;
  minutes: number;
  events: number;
}

/**
 * A full timeline written straight with SQL (recursive CTEs, one transaction): as many rows as a daemon
 * would leave after `days` at 1 Hz, in seconds instead of days. Values vary so pages are not all alike.
 */
export function seedTimeline(db: Db, o: SeedOptions): SeedCounts {
  const step = o.stepMs ?? 1000;
  const n = Math.floor((o.days * 86_400_000) / step);
  const start = o.now - (n - 1) * step;
  const procs = o.processes ?? 3;
  const requests = o.guardRequests ?? 0;
  const GiB = 1024 ** 3;
  db.transaction(() => {
    db.prepare(
      `WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < ?)
       INSERT INTO samples (ts, mem_total, mem_usable, mem_free, mem_active, mem_inactive, mem_speculative,
         mem_wired, mem_compressed, swap_used, swap_total, pressure_level, free_percent, gpu_in_use, gpu_alloc,
         gpu_ceiling, gpu_util, gpu_sampled_at, exo_reachable, exo_in_flight, risk_level)
       SELECT ? + i * ?, ${128 * GiB}, ${127 * GiB}, ${20 * GiB} + (i % 1000) * 1048576, ${40 * GiB}, ${10 * GiB},
         ${GiB}, ${60 * GiB} + (i % 777) * 4096, ${GiB}, 0, 0, 1, 15.5 + (i % 50) / 10.0, ${50 * GiB} + (i % 333) * 65536,
         ${60 * GiB}, ${96 * GiB}, 80 + (i % 20), ? + i * ?, 1, i % 3, i % 2
       FROM t`,
    ).run(n - 1, start, step, start, step);
    for (let p = 0; p < procs; p++) {
      db.prepare(
        `WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < ?)
         INSERT INTO process_samples (ts, pid, start_time, role, rss, phys_footprint, cpu_percent, threads)
         SELECT ? + i * ?, ?, 1000, ?, ${GiB} + (i % 100) * 4096, ${40 * GiB} + (i % 500) * 8192, 50 + (i % 40), 12
         FROM t`,
      ).run(n - 1, start, step, 1600 + p, p === 0 ? 'exo-main' : 'exo-runner');
    }
    db.prepare(
      `INSERT INTO samples_minute (ts, n, mem_total_min, mem_total_avg, mem_total_max, mem_wired_min, mem_wired_avg,
         mem_wired_max, free_percent_min, free_percent_avg, free_percent_max, gpu_in_use_min, gpu_in_use_avg, gpu_in_use_max)
       SELECT (ts / 60000) * 60000 AS m, count(*), min(mem_total), avg(mem_total), max(mem_total), min(mem_wired),
         avg(mem_wired), max(mem_wired), min(free_percent), avg(free_percent), max(free_percent), min(gpu_in_use),
         avg(gpu_in_use), max(gpu_in_use)
       FROM samples GROUP BY m`,
    ).run();
    if (requests > 0) {
      const gap = Math.max(1, Math.floor((n * step) / requests));
      db.prepare(
        `WITH RECURSIVE t(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM t WHERE i < ?)
         INSERT INTO events (ts, kind, severity, message, data)
         SELECT ? + i * ?, CASE WHEN i % 11 = 10 THEN 'exo.kv-eviction' ELSE 'guard.request' END, 'info',
           'POST /v1/chat/completions admitted (open)',
           json_object('decision', CASE WHEN i % 7 = 0 THEN 'refused' ELSE 'admitted' END, 'status', 200,
             'endpoint', '/v1/chat/completions', 'promptTokensEstimated', 1000 + i % 9000,
             'kvBytesEstimated', 1048576 * (i % 4000), 'reason', 'level ok', 'seq', i)
         FROM t`,
      ).run(Math.floor(requests * 1.1) - 1, start, Math.floor(gap / 1.1));
    }
  })();
  const count = (t: string): number =>
    (db.prepare(`SELECT count(*) AS c FROM ${t}`).get() as { c: number }).c;
  return {
    samples: count('samples'),
    processSamples: count('process_samples'),
    minutes: count('samples_minute'),
    events: count('events'),
  };
}
