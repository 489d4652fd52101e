/**
 * The guard against a direct connection to the fake EXO, in one run (fake EXO, daemon with its guard and
 * this client are three processes on loopback):
 *   - time to first byte of a small streamed chat completion: p50/p99 direct vs through the guard;
 *   - streaming throughput of a long stream (tokens as fast as the fake can write them): ratio;
 *   - requests per second for small requests (GET /node_id, 8 in parallel): ratio.
 */
import { Agent, request } from 'node:http';
import { startDaemon, startFakeExoProcess, waitForExit } from '../test/support/cli-runner.js';
import { tempDir } from '../test/support/temp-dir.js';
import { fmt, quantile, saveResult } from './bench-util.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 300);
const RPS_SECONDS = Number(process.env['BENCH_RPS_SECONDS'] ?? 3);
const STREAM_ROUNDS = Number(process.env['BENCH_STREAM_ROUNDS'] ?? 9);
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function call(
  base: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ ttfb: number; total: number; bytes: number; status: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const t0 = process.hrtime.bigint();
    const r = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname,
        agent,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        let ttfb = -1;
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          if (ttfb < 0) ttfb = Number(process.hrtime.bigint() - t0) / 1e6;
          bytes += c.length;
        });
        res.on('end', () =>
          resolve({
            ttfb,
            total: Number(process.hrtime.bigint() - t0) / 1e6,
            bytes,
            status: res.statusCode ?? 0,
          }),
        );
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

const chat = (maxTokens: number): string =>
  JSON.stringify({
    model: 'mlx-community/Qwen3-Coder-Next-4bit',
    stream: true,
    max_tokens: maxTokens,
    messages: [{ role: 'user', content: 'hello there, how are you today?' }],
  });

async function rps(base: string): Promise<number> {
  const end = Date.now() + RPS_SECONDS * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        await call(base, 'GET', '/node_id');
        n++;
      }
    }),
  );
  return n / RPS_SECONDS;
}

async function main(): Promise<void> {
  const dir = tempDir('exo-sentinel-bench-');
  const fake = await startFakeExoProcess([
    '--token-ms',
    '0',
    '--prefill-tps',
    '100000000',
    '--max-gen',
    '20000',
    '--bytes-per-token',
    '16',
  ]);
  const daemon = await startDaemon([
    '--data-dir',
    `${dir.path}/data`,
    '--exo-url',
    fake.url,
    '--interval',
    '1',
  ]);
  const guard = daemon.guardUrl()!;
  try {
    // Warm up both paths (connections, JIT).
    for (let i = 0; i < 30; i++) {
      await call(fake.url, 'POST', '/v1/chat/completions', chat(2));
      await call(guard, 'POST', '/v1/chat/completions', chat(2));
    }
    const direct: number[] = [];
    const viaGuard: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate so drift in the machine's load hits both equally.
      direct.push((await call(fake.url, 'POST', '/v1/chat/completions', chat(2))).ttfb);
      viaGuard.push((await call(guard, 'POST', '/v1/chat/completions', chat(2))).ttfb);
    }
    // Long streams, alternating direct and guarded so that drift in the machine's load hits both alike.
    const rates = { direct: [] as number[], guard: [] as number[] };
    for (let i = 0; i < STREAM_ROUNDS; i++) {
      for (const [k, base] of [
        ['direct', fake.url],
        ['guard', guard],
      ] as const) {
        const r = await call(base, 'POST', '/v1/chat/completions', chat(20_000));
        rates[k].push(r.bytes / (r.total / 1000));
      }
    }
    const tDirect = quantile(rates.direct, 0.5);
    const tGuard = quantile(rates.guard, 0.5);
    const rDirect = await rps(fake.url);
    const rGuard = await rps(guard);
    const result = {
      rounds: ROUNDS,
      ttfbMs: {
        direct: { p50: quantile(direct, 0.5), p99: quantile(direct, 0.99) },
        guard: { p50: quantile(viaGuard, 0.5), p99: quantile(viaGuard, 0.99) },
        addedP50: quantile(viaGuard, 0.5) - quantile(direct, 0.5),
        addedP99: quantile(viaGuard, 0.99) - quantile(direct, 0.99),
      },
      streamBytesPerSecond: { direct: tDirect, guard: tGuard, ratio: tGuard / tDirect },
      requestsPerSecond: { direct: rDirect, guard: rGuard, ratio: rGuard / rDirect },
    };
    console.log(
      `guard vs direct to the fake EXO (${ROUNDS} rounds each, alternating; loopback; 3 processes)`,
    );
    console.log(
      `  TTFB direct  p50 ${fmt(result.ttfbMs.direct.p50)} ms  p99 ${fmt(result.ttfbMs.direct.p99)} ms`,
    );
    console.log(
      `  TTFB guard   p50 ${fmt(result.ttfbMs.guard.p50)} ms  p99 ${fmt(result.ttfbMs.guard.p99)} ms`,
    );
    console.log(
      `  added        p50 ${fmt(result.ttfbMs.addedP50)} ms  p99 ${fmt(result.ttfbMs.addedP99)} ms   (targets < 1 ms p50, < 5 ms p99)`,
    );
    console.log(
      `  stream       direct ${fmt(tDirect / 2 ** 20, 1)} MiB/s, guard ${fmt(tGuard / 2 ** 20, 1)} MiB/s, ratio ${fmt(result.streamBytesPerSecond.ratio, 3)} (target ≥ 0.98)`,
    );
    console.log(
      `  small req/s  direct ${fmt(rDirect, 0)}, guard ${fmt(rGuard, 0)}, ratio ${fmt(result.requestsPerSecond.ratio, 3)}`,
    );
    console.log(`  saved ${saveResult('guard', result)}`);
  } finally {
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    await fake.stop();
    agent.destroy();
    dir.cleanup();
  }
}

await main();
