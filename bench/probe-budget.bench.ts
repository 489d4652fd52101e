/**
 * The sampling core's budget, with and without the native addon, side by side in one run: the headless daemon
 * idle (nothing to watch; guard and API on, as `npm start`) and watching EXO (an EXO-shaped process tree and
 * a fake EXO API, guard and API on), each as native and as fallback (EXO_SENTINEL_NATIVE=0), against an idle
 * Node with a 1 s timer measured in the same window. CPU % of one core and RSS/peak RSS from /proc over
 * BENCH_SECONDS (default 60) after a 5 s warm-up; then processes spawned over BENCH_STRACE_SECONDS (default 20)
 * counted with `strace -f -e trace=execve` attached to each daemon (when strace is installed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { startDaemon, waitForExit } from '../test/support/cli-runner.js';
import { startFakeExo } from '../test/support/fake-exo-server.js';
import { startFakeExoTree } from '../test/support/fake-exo-tree.js';
import { tempDir } from '../test/support/temp-dir.js';
import { fmt, saveResult } from './bench-util.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const STRACE_SECONDS = Number(process.env['BENCH_STRACE_SECONDS'] ?? 20);
const TICK = 100; // USER_HZ
const BUDGET = { idle: { cpu: 0.3, peakMiB: 60 }, watching: { cpu: 0.5, peakMiB: 64 } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function memory(pid: number): { rss: number; hwm: number; private: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (text: string, k: string): number =>
    Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  // RSS counts the pages of Node's own executable the process has touched: shared with every Node process
  // and clean (the kernel drops them under pressure), about 40 MiB of Node 26's. What the daemon itself
  // holds is its private memory (USS): Private_Clean + Private_Dirty.
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    rss: kb(s, 'VmRSS'),
    hwm: kb(s, 'VmHWM'),
    private: kb(rollup, 'Private_Clean') + kb(rollup, 'Private_Dirty'),
  };
}

interface Figures {
  cpuPercent: number;
  rssMiB: number;
  peakMiB: number;
  privateMiB: number;
  spawned: number | null;
}

async function straceExecs(pid: number, seconds: number): Promise<number | null> {
  if (!existsSync('/usr/bin/strace')) return null;
  const out: Buffer[] = [];
  const st = spawn('/usr/bin/strace', ['-f', '-qq', '-e', 'trace=execve', '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  st.stderr.on('data', (b: Buffer) => out.push(b));
  await sleep(seconds * 1000);
  st.kill('SIGINT');
  await new Promise((r) => st.once('exit', r));
  return Buffer.concat(out)
    .toString()
    .split('\n')
    .filter((l) => /execve\(/.test(l)).length;
}

async function main(): Promise<void> {
  const dir = tempDir('exo-sentinel-bench-');
  const exo = await startFakeExo();
  const tree = await startFakeExoTree(`${dir.path}/exo`, { runners: 2, runnerMiB: 32 });
  const children: Record<string, ChildProcess> = {};
  try {
    children['baseline'] = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    const unreachable = 'http://127.0.0.1:9'; // idle: no EXO answers
    for (const [name, native, exoUrl] of [
      ['idle native', true, unreachable],
      ['idle fallback', false, unreachable],
      ['watching native', true, exo.url],
      ['watching fallback', false, exo.url],
    ] as const) {
      children[name] = await startDaemon(
        ['--data-dir', `${dir.path}/${name.replace(' ', '-')}`, '--interval', '1', '--exo-url', exoUrl],
        native ? {} : { EXO_SENTINEL_NATIVE: '0' },
      );
    }
    await sleep(5000); // start-up is not the steady state
    const c0 = Object.fromEntries(Object.entries(children).map(([k, c]) => [k, cpuTicks(c.pid!)]));
    const t0 = Date.now();
    await sleep(SECONDS * 1000);
    const wall = (Date.now() - t0) / 1000;
    const figures: Record<string, Figures> = {};
    for (const [k, c] of Object.entries(children)) {
      const m = memory(c.pid!);
      figures[k] = {
        cpuPercent: (100 * (cpuTicks(c.pid!) - c0[k]!)) / TICK / wall,
        rssMiB: m.rss / 2 ** 20,
        peakMiB: m.hwm / 2 ** 20,
        privateMiB: m.private / 2 ** 20,
        spawned: null,
      };
    }
    for (const k of Object.keys(children).filter((n) => n !== 'baseline'))
      figures[k]!.spawned = await straceExecs(children[k]!.pid!, STRACE_SECONDS);

    const b = figures['baseline']!;
    console.log(
      `sampling budget over ${SECONDS} s at 1 Hz (node ${process.version}, same window for every row)`,
    );
    console.log(
      '  run                  CPU % core   RSS MiB   peak MiB   private MiB   CPU vs baseline   spawned/' +
        `${STRACE_SECONDS}s   budget`,
    );
    for (const [k, f] of Object.entries(figures)) {
      const budget = k.startsWith('idle') ? BUDGET.idle : k.startsWith('watching') ? BUDGET.watching : null;
      const met = budget
        ? f.cpuPercent <= budget.cpu && f.peakMiB <= budget.peakMiB
          ? 'met'
          : 'NOT met'
        : '';
      console.log(
        `  ${k.padEnd(20)} ${fmt(f.cpuPercent, 2).padStart(9)}   ${fmt(f.rssMiB, 1).padStart(7)}   ${fmt(f.peakMiB, 1).padStart(8)}   ${fmt(f.privateMiB, 1).padStart(11)}   ${`${fmt(f.cpuPercent / Math.max(b.cpuPercent, 0.01), 1)}x`.padStart(15)}   ${String(f.spawned ?? '—').padStart(10)}   ${budget ? `≤ ${budget.cpu} %, ≤ ${budget.peakMiB} MiB: ${met}` : ''}`,
      );
    }
    console.log(
      `  saved ${saveResult('probe-budget', { seconds: SECONDS, node: process.version, budget: BUDGET, figures })}`,
    );
  } finally {
    for (const [k, c] of Object.entries(children)) {
      c.kill(k === 'baseline' ? 'SIGKILL' : 'SIGTERM');
      if (k !== 'baseline') await waitForExit(c).catch(() => undefined);
    }
    await tree.stop();
    await exo.close();
    dir.cleanup();
  }
}

await main();
