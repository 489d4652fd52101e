/**
 * Load through the guard against the same load sent direct, in one run: LOAD_CLIENTS (default 200) concurrent
 * clients each streaming chat completions back to back for LOAD_SECONDS (default 60), first straight to the
 * fake EXO, then through the daemon's guard. Reports completed streams, statuses (the guard's policy refusals,
 * 503 with Retry-After, apart from any other failure), TTFB p50/p99 for each, and the daemon's RSS peak while
 * the guard carried the load (sampled from /proc every 250 ms; VmHWM as a cross-check).
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { sleep, startDaemon, startFakeExoProcess, waitForExit } from '../test/support/cli-runner.js';
import { tempDir } from '../test/support/temp-dir.js';
import { fmt, quantile, saveResult } from './bench-util.js';

const CLIENTS = Number(process.env['LOAD_CLIENTS'] ?? 200);
const SECONDS = Number(process.env['LOAD_SECONDS'] ?? 60);
const MiB = 2 ** 20;

const body = JSON.stringify({
  model: 'mlx-community/Qwen3-Coder-Next-4bit',
  stream: true,
  max_tokens: 16,
  messages: [{ role: 'user', content: 'a short question about memory' }],
});

interface Outcome {
  status: number;
  ttfb: number;
  complete: boolean;
  error: string | null;
}

function stream(port: number, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
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
        let ttfb = -1;
        let tail = '';
        res.on('data', (c: Buffer) => {
          if (ttfb < 0) ttfb = performance.now() - t0;
          tail = (tail + c.toString()).slice(-64);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ttfb,
            complete: res.statusCode !== 200 || tail.includes('data: [DONE]'),
            error: null,
          }),
        );
        res.on('error', (e) =>
          resolve({ status: res.statusCode ?? 0, ttfb, complete: false, error: e.message }),
        );
      },
    );
    r.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: 0, ttfb: -1, complete: false, error: e.code ?? e.message }),
    );
    r.end(body);
  });
}

async function load(port: number, pid: number | null) {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const outcomes: Outcome[] = [];
  const end = Date.now() + SECONDS * 1000;
  let peak = 0;
  const rss = (): number =>
    pid === null
      ? 0
      : Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const before = rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 250);
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < end) {
        const o = await stream(port, agent);
        outcomes.push(o);
        // A refused client honours Retry-After (shortened to 1 s here, so the run keeps pressure on).
        if (o.status === 503) await sleep(1000);
      }
    }),
  );
  clearInterval(sampler);
  agent.destroy();
  const ok = outcomes.filter((o) => o.status === 200 && o.complete && o.error === null);
  const policy = outcomes.filter((o) => o.status === 503 || o.status === 400);
  const other = outcomes.filter((o) => !ok.includes(o) && !policy.includes(o));
  const ttfbs = ok.map((o) => o.ttfb);
  const statuses: Record<string, number> = {};
  for (const o of other)
    statuses[o.error ?? String(o.status)] = (statuses[o.error ?? String(o.status)] ?? 0) + 1;
  return {
    requests: outcomes.length,
    completed: ok.length,
    policyRefusals: policy.length,
    otherFailures: other.length,
    otherByKind: statuses,
    ttfbMs: { p50: quantile(ttfbs, 0.5), p99: quantile(ttfbs, 0.99) },
    rssBeforeMiB: before / MiB,
    rssPeakMiB: peak / MiB,
    hwmMiB:
      pid === null
        ? 0
        : Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
  };
}

async function main(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log('guard-load: reads the daemon RSS from /proc; run it on Linux');
    return;
  }
  const dir = tempDir('exo-sentinel-load-');
  const fake = await startFakeExoProcess(['--token-ms', '20', '--max-gen', '16', '--bytes-per-token', '16']);
  const daemon = await startDaemon([
    '--data-dir',
    `${dir.path}/data`,
    '--exo-url',
    fake.url,
    '--interval',
    '1',
  ]);
  try {
    const guardPort = Number(new URL(daemon.guardUrl()!).port);
    const fakePort = Number(new URL(fake.url).port);
    await sleep(2000);
    const direct = await load(fakePort, null);
    // The guard as a proxy only (pinned open by hand), then as configured (the level decides: 200 requests in
    // flight raise it, so the guard serialises and refuses; those refusals are its policy, not failures).
    const pin = (mode: string) =>
      fetch(`${daemon.apiUrl()}/api/v1/guard/mode`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode }),
      });
    await pin('open');
    await sleep(2000);
    const open = await load(guardPort, daemon.pid!);
    await pin('auto');
    await sleep(2000);
    const guarded = await load(guardPort, daemon.pid!);
    const result = { clients: CLIENTS, seconds: SECONDS, direct, guardOpen: open, guard: guarded };
    console.log(
      `${CLIENTS} concurrent streaming clients for ${SECONDS} s, direct then through the guard (loopback)`,
    );
    for (const [name, r] of [
      ['direct              ', direct],
      ['guard pinned open   ', open],
      ['guard by risk level ', guarded],
    ] as const) {
      console.log(
        `  ${name}  ${r.requests} requests: ${r.completed} streams completed, ${r.policyRefusals} refused by policy (503/400), ${r.otherFailures} other failures ${JSON.stringify(r.otherByKind)}; TTFB p50 ${fmt(r.ttfbMs.p50, 2)} ms p99 ${fmt(r.ttfbMs.p99, 2)} ms`,
      );
    }
    console.log(
      `  daemon RSS: ${fmt(open.rssBeforeMiB, 1)} MiB before, peak ${fmt(Math.max(open.rssPeakMiB, guarded.rssPeakMiB), 1)} MiB under load (VmHWM ${fmt(guarded.hwmMiB, 1)} MiB)`,
    );
    console.log(
      `  TTFB added by the guard as a proxy: p50 ${fmt(open.ttfbMs.p50 - direct.ttfbMs.p50, 2)} ms, p99 ${fmt(open.ttfbMs.p99 - direct.ttfbMs.p99, 2)} ms`,
    );
    console.log(`  saved ${saveResult('guard-load', result)}`);
  } finally {
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    await fake.stop();
    dir.cleanup();
  }
}

await main();
