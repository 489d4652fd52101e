/**
 * Soak: the daemon sampling at 10 Hz for SOAK_SECONDS (default 600) while the fake EXO changes state (its
 * tasks come and go with the requests, KV-eviction and wired-limit log lines every few seconds, a 3 s
 * outage halfway in which EXO drops every connection) and SOAK_RPS (default 50) streaming requests a second go
 * through the guard. Reports, from /proc and the data directory: RSS growth per hour (least-squares slope
 * over the second half, after warm-up), CPU (% of one core), database bytes per day extrapolated from the
 * growth over the run, and the requests' outcomes. Against a baseline measured in the same run: an idle
 * Node process with a 100 ms timer.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { sleep, startDaemon, startFakeExoProcess, waitForExit } from '../test/support/cli-runner.js';
import { tempDir } from '../test/support/temp-dir.js';
import { fmt, saveResult } from './bench-util.js';

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 600);
const RPS = Number(process.env['SOAK_RPS'] ?? 50);
const MiB = 2 ** 20;
const TICK = 100; // USER_HZ

const cpuTicks = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
const rss = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const dbBytes = (dir: string): number =>
  ['timeline.db', 'timeline.db-wal'].reduce((n, f) => {
    try {
      return n + statSync(`${dir}/${f}`).size;
    } catch {
      return n;
    }
  }, 0);

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const body = JSON.stringify({
  model: 'mlx-community/Qwen3-Coder-Next-4bit',
  stream: true,
  max_tokens: 4,
  messages: [{ role: 'user', content: 'soak' }],
});

function send(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const r = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/chat/completions',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(-1));
      },
    );
    r.on('error', () => resolve(0));
    r.end(body);
  });
}

async function main(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log('soak: reads /proc; run it on Linux');
    return;
  }
  const dir = tempDir('exo-sentinel-soak-');
  const dataDir = `${dir.path}/data`;
  const exoHome = `${dir.path}/exo-home`;
  const fake = await startFakeExoProcess([
    '--log',
    `${exoHome}/exo_log/exo.log`,
    '--token-ms',
    '10',
    '--max-gen',
    '4',
    '--bytes-per-token',
    '16',
  ]);
  const daemon = await startDaemon(['--data-dir', dataDir, '--exo-url', fake.url, '--interval', '0.1']);
  const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 100)'], { stdio: 'ignore' });
  const guardPort = Number(new URL(daemon.guardUrl()!).port);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const statuses = new Map<number, number>();
  try {
    // Pin the guard open: the soak measures the daemon carrying load, not the policy refusing it.
    await fetch(`${daemon.apiUrl()}/api/v1/guard/mode`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'open' }),
    });
    await sleep(5000);
    const pid = daemon.pid!;
    const t0 = Date.now();
    const c0 = cpuTicks(pid);
    const b0 = cpuTicks(baseline.pid!);
    const db0 = dbBytes(dataDir);
    const samples: Array<[number, number]> = [];
    let stop = false;
    // 50 requests a second, each on its own (they finish in ~50 ms, so a few are in flight at a time).
    const load = (async () => {
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; !stop; i++) {
        const p = send(guardPort, agent).then((s) => {
          statuses.set(s, (statuses.get(s) ?? 0) + 1);
          inFlight.delete(p);
        });
        inFlight.add(p);
        const next = t0 + ((i + 1) * 1000) / RPS;
        await sleep(Math.max(0, next - Date.now()));
      }
      await Promise.all(inFlight);
    })();
    // EXO changes: log lines every 5 s, and a 3 s outage halfway.
    const changes = (async () => {
      for (let s = 0; !stop; s += 5) {
        await sleep(5000);
        if (stop) break;
        const line =
          s % 15 === 0
            ? 'KV cache evicted LRU entry (4096 tokens) due to memory usage'
            : 'Wired limit set to 96.00 GB.';
        await fetch(`${fake.control}/__fake/log`, { method: 'POST', body: line }).catch(() => {});
      }
    })();
    const outage = (async () => {
      await sleep((SECONDS * 1000) / 2);
      if (stop) return;
      await fetch(`${fake.control}/__fake/mode/drop`).catch(() => {});
      await sleep(3000);
      await fetch(`${fake.control}/__fake/mode/normal`).catch(() => {});
    })();
    // The JS heap in use (prom-client's default metrics) tells a leak from a heap still growing to its size.
    const heap: Array<[number, number]> = [];
    const heapUsed = async (): Promise<number | null> => {
      const text = await (await fetch(`${daemon.apiUrl()}/metrics`)).text().catch(() => '');
      const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
      return m ? Number(m[1]) : null;
    };
    while (Date.now() - t0 < SECONDS * 1000) {
      await sleep(5000);
      const t = (Date.now() - t0) / 1000;
      samples.push([t, rss(pid)]);
      const h = await heapUsed();
      if (h !== null) heap.push([t, h]);
    }
    stop = true;
    await Promise.all([load, changes, outage]);
    const wall = (Date.now() - t0) / 1000;
    const cpu = (100 * (cpuTicks(pid) - c0)) / TICK / wall;
    const cpuBaseline = (100 * (cpuTicks(baseline.pid!) - b0)) / TICK / wall;
    const secondHalf = samples.filter(([t]) => t >= wall / 2);
    const growthPerHour = slope(secondHalf.length >= 2 ? secondHalf : samples) * 3600;
    const dbGrowth = dbBytes(dataDir) - db0;
    const heapSecondHalf = heap.filter(([t]) => t >= wall / 2);
    const heapGrowthPerHour = heapSecondHalf.length >= 2 ? slope(heapSecondHalf) * 3600 : Number.NaN;
    const requests = [...statuses.values()].reduce((a, b) => a + b, 0);
    const result = {
      seconds: wall,
      sampleHz: 10,
      requestsPerSecond: requests / wall,
      statuses: Object.fromEntries(statuses),
      cpuPercentOfOneCore: cpu,
      baselineCpuPercent: cpuBaseline,
      rssStartMiB: (samples[0]?.[1] ?? 0) / MiB,
      rssEndMiB: (samples.at(-1)?.[1] ?? 0) / MiB,
      rssPeakMiB: Math.max(...samples.map(([, r]) => r)) / MiB,
      rssGrowthMiBPerHour: growthPerHour / MiB,
      heapUsedStartMiB: (heap[0]?.[1] ?? 0) / MiB,
      heapUsedEndMiB: (heap.at(-1)?.[1] ?? 0) / MiB,
      heapGrowthMiBPerHour: heapGrowthPerHour / MiB,
      databaseBytesPerDay: (dbGrowth / wall) * 86_400,
    };
    console.log(
      `soak: ${fmt(wall, 0)} s at 10 Hz sampling, ${fmt(result.requestsPerSecond, 1)} requests/s through the guard`,
    );
    console.log(`  requests by status ${JSON.stringify(result.statuses)}`);
    console.log(`  CPU ${fmt(cpu, 2)} % of a core (idle-node baseline ${fmt(cpuBaseline, 2)} %)`);
    console.log(
      `  RSS ${fmt(result.rssStartMiB, 1)} → ${fmt(result.rssEndMiB, 1)} MiB (peak ${fmt(result.rssPeakMiB, 1)}), growth ${fmt(result.rssGrowthMiBPerHour, 2)} MiB/hour over the second half`,
    );
    console.log(
      `  JS heap in use ${fmt(result.heapUsedStartMiB, 1)} → ${fmt(result.heapUsedEndMiB, 1)} MiB, growth ${fmt(result.heapGrowthMiBPerHour, 2)} MiB/hour over the second half`,
    );
    console.log(
      `  database +${fmt(dbGrowth / MiB, 1)} MiB in the run → ${fmt(result.databaseBytesPerDay / MiB, 0)} MiB/day at this rate (10 Hz, ${RPS} req/s)`,
    );
    console.log(`  saved ${saveResult('soak', result)}`);
  } finally {
    agent.destroy();
    baseline.kill();
    daemon.kill('SIGTERM');
    await waitForExit(daemon, 30_000);
    await fake.stop();
    dir.cleanup();
  }
}

await main();
