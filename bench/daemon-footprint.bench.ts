/**
 * The headless daemon's own cost: CPU (% of one core) and RSS over BENCH_SECONDS (default 60) at 1 Hz,
 * read from /proc, against a baseline measured in the same run: an idle Node process with a 1 s timer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cliPath, sleep, startDaemon, waitForExit } from '../test/support/cli-runner.js';
import { startFakeExoTree } from '../test/support/fake-exo-tree.js';
import { tempDir } from '../test/support/temp-dir.js';
import { fmt, saveResult } from './bench-util.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const TICK = 100; // USER_HZ

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function memory(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

async function measure(
  child: ChildProcess,
  seconds: number,
): Promise<{ cpuPercent: number; rssMiB: number; peakMiB: number }> {
  await sleep(2000); // start-up is not the steady state
  const c0 = cpuTicks(child.pid!);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const c1 = cpuTicks(child.pid!);
  const wall = (Date.now() - t0) / 1000;
  const m = memory(child.pid!);
  return { cpuPercent: (100 * (c1 - c0)) / TICK / wall, rssMiB: m.rss / 2 ** 20, peakMiB: m.hwm / 2 ** 20 };
}

async function main(): Promise<void> {
  const dir = tempDir('exo-sentinel-bench-');
  const tree = await startFakeExoTree(`${dir.path}/exo`, { runners: 2, runnerMiB: 32 });
  try {
    const baseline = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const daemon = await startDaemon(['--data-dir', `${dir.path}/data`, '--interval', '1']);
    const [b, d] = await Promise.all([measure(baseline, SECONDS), measure(daemon, SECONDS)]);
    baseline.kill('SIGKILL');
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    const result = {
      seconds: SECONDS,
      cli: cliPath,
      baseline: b,
      daemon: d,
      cpuRatio: d.cpuPercent / Math.max(b.cpuPercent, 0.01),
      rssRatio: d.rssMiB / b.rssMiB,
    };
    console.log(`daemon footprint over ${SECONDS} s at 1 Hz (EXO-shaped tree of 5 processes watched)`);
    console.log(`  baseline idle node:  CPU ${fmt(b.cpuPercent, 2)}% of a core, RSS ${fmt(b.rssMiB, 1)} MiB`);
    console.log(
      `  exo-sentinel daemon: CPU ${fmt(d.cpuPercent, 2)}% of a core, RSS ${fmt(d.rssMiB, 1)} MiB (peak ${fmt(d.peakMiB, 1)} MiB)`,
    );
    console.log(`  ratio daemon/baseline: CPU ${fmt(result.cpuRatio, 1)}x, RSS ${fmt(result.rssRatio, 2)}x`);
    console.log(
      `  targets (< 1% of a core, < 80 MB RSS): ${d.cpuPercent < 1 && d.rssMiB * 2 ** 20 < 80e6 ? 'met' : 'NOT met'}`,
    );
    console.log(`  saved ${saveResult('daemon-footprint', result)}`);
  } finally {
    await tree.stop();
    dir.cleanup();
  }
}

await main();
