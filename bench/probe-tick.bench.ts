/**
 * Per-tick cost of the probe set on this machine, with an EXO-shaped process tree running, against a
 * baseline measured in the same run (one read of /proc/meminfo, the cheapest useful probe).
 * Reports work per tick (fast and slow cadence), the SQLite write per tick, and spawns on the fast path.
 */
import { readFileSync } from 'node:fs';
import { EventCollector } from '../src/main/core/event-collector.js';
import { DEFAULT_MLX_SERVER_PATTERNS } from '../src/main/core/exo/process-classifier.js';
import { LinuxProbe } from '../src/main/core/probes/linux/linux-probe.js';
import { Sampler } from '../src/main/core/sampler.js';
import { openDatabase } from '../src/main/core/store/database.js';
import { TimelineStore } from '../src/main/core/store/timeline-store.js';
import { startFakeExoTree } from '../test/support/fake-exo-tree.js';
import { tempDir } from '../test/support/temp-dir.js';
import { countSpawns, fmt, quantile, saveResult } from './bench-util.js';

const TICKS = Number(process.env['BENCH_TICKS'] ?? 300);
const SLOW_EVERY = 5;

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('this benchmark reads procfs: run it on Linux');
  const dir = tempDir('exo-sentinel-bench-');
  const tree = await startFakeExoTree(`${dir.path}/exo`, { runners: 2, runnerMiB: 32 });
  const spawns = countSpawns();
  try {
    const events = new EventCollector(Date.now);
    const probe = new LinuxProbe(events);
    const patterns = DEFAULT_MLX_SERVER_PATTERNS.map((p) => new RegExp(p));
    const sampler = new Sampler(probe, () => ({ pidfilePid: null, mlxServerPatterns: patterns }));
    const store = new TimelineStore(openDatabase(`${dir.path}/timeline.db`));

    // Baseline: one /proc/meminfo read.
    const base: number[] = [];
    for (let i = 0; i < TICKS; i++) {
      const t = performance.now();
      readFileSync('/proc/meminfo', 'utf8');
      base.push(performance.now() - t);
    }

    await sampler.tick(Date.now(), true); // warm-up: first full table read
    const fast: number[] = [];
    const slow: number[] = [];
    const writes: number[] = [];
    let fastSpawns = 0;
    let watched = 0;
    for (let i = 0; i < TICKS; i++) {
      const isSlow = i % SLOW_EVERY === 0;
      const before = spawns.count;
      const r = await sampler.tick(Date.now(), isSlow);
      if (!isSlow) fastSpawns += spawns.count - before;
      (isSlow ? slow : fast).push(r.durationMs);
      watched = r.sample.processes.length;
      const t = performance.now();
      store.writeTick(r.sample, events.drain());
      writes.push(performance.now() - t);
    }
    store.db.close();

    // The whole daemon tick: probes, EXO view, risk judgement, actions and the SQLite transaction.
    const { Daemon } = await import('../src/main/core/daemon.js');
    const { ConfigSchema } = await import('../src/main/core/config/config-schema.js');
    const { default: pino } = await import('pino');
    const config = ConfigSchema.parse({
      guard: { enabled: false },
      reports: { dirs: [] },
      exo: { url: 'http://127.0.0.1:9', home: `${dir.path}/exo-home` },
    });
    const dEvents = new EventCollector(Date.now);
    const daemon = new Daemon({
      dataDir: `${dir.path}/daemon`,
      config,
      probe: new LinuxProbe(dEvents),
      events: dEvents,
      logger: pino({ level: 'silent' }),
    });
    await daemon.begin();
    const whole: number[] = [];
    for (let i = 0; i < TICKS; i++) {
      const t = performance.now();
      await daemon.tickOnce();
      whole.push(performance.now() - t);
    }
    await daemon.stop('bench');
    const procCount = (await probe.listProcesses(false)).length;
    const result = {
      machine: { processes: procCount, watched, cores: (await import('node:os')).cpus().length },
      ticks: TICKS,
      baselineMeminfoMs: { p50: quantile(base, 0.5), p99: quantile(base, 0.99) },
      fastTickMs: { p50: quantile(fast, 0.5), p99: quantile(fast, 0.99) },
      slowTickMs: { p50: quantile(slow, 0.5), p99: quantile(slow, 0.99) },
      sqliteWriteMs: { p50: quantile(writes, 0.5), p99: quantile(writes, 0.99) },
      wholeDaemonTickMs: { p50: quantile(whole, 0.5), p99: quantile(whole, 0.99) },
      spawnsOnFastPath: fastSpawns,
    };
    const ratio = (x: number): string => fmt(x / result.baselineMeminfoMs.p50, 1);
    console.log(
      `probe tick benchmark: ${TICKS} ticks, ${procCount} processes on the machine, ${watched} watched`,
    );
    console.log(`  baseline /proc/meminfo read   p50 ${fmt(result.baselineMeminfoMs.p50)} ms`);
    console.log(
      `  fast tick (1 s cadence)       p50 ${fmt(result.fastTickMs.p50)} ms  p99 ${fmt(result.fastTickMs.p99)} ms  (${ratio(result.fastTickMs.p50)}x baseline)`,
    );
    console.log(
      `  slow tick (5 s cadence)       p50 ${fmt(result.slowTickMs.p50)} ms  p99 ${fmt(result.slowTickMs.p99)} ms  (${ratio(result.slowTickMs.p50)}x baseline)`,
    );
    console.log(
      `  SQLite write (WAL, FULL)      p50 ${fmt(result.sqliteWriteMs.p50)} ms  p99 ${fmt(result.sqliteWriteMs.p99)} ms`,
    );
    console.log(
      `  whole daemon tick (probes + EXO view + risk + actions + write) p50 ${fmt(result.wholeDaemonTickMs.p50)} ms  p99 ${fmt(result.wholeDaemonTickMs.p99)} ms`,
    );
    console.log(`  processes spawned on the fast path: ${fastSpawns}`);
    const target = result.wholeDaemonTickMs.p50 < 5 && fastSpawns === 0;
    console.log(
      `  target (< 5 ms of work per tick, no spawn on the 1 s path): ${target ? 'met' : 'NOT met'}`,
    );
    console.log(`  saved ${saveResult('probe-tick', result)}`);
  } finally {
    await tree.stop();
    dir.cleanup();
  }
}

await main();
