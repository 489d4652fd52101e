/**
 * BENCH_SCENARIO=flood (default): a report directory stuffed by an outsider: BENCH_PANICS distinct panic reports among BENCH_FILES files
 * (the rest small `.ips` reports of another bug_type, which a scan reads, hashes and keeps as skipped; and
 * BENCH_COPIES identical copies of one more panic, read once and dropped as duplicates). An in-process
 * daemon (API on, guard off, its logger writing its file at `info`) starts on it. Measured while it takes
 * the directory in (its first scan, then POST /api/v1/panics/scan until no scan is limited), and for one
 * more rescan (nothing new): the time, the event loop's longest stall (monitorEventLoopDelay and a 10 ms
 * timer) and the slowest answer to GET /api/v1/status asked every 100 ms; and how long after the start the
 * first sample was taken. The corpus is kept in the OS temp dir between runs.
 *
 * BENCH_SCENARIO=hidden: one real panic among BENCH_FILES junk files whose names sort before it
 * (bench/panic-hidden.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../src/main/core/logger.js';
import type { PanicScanView } from '../src/shared/api-contracts.js';
import { freePort } from '../test/support/free-port.js';
import { reportWatchingDaemon } from '../test/support/local-daemon.js';
import { watchLoopDelay } from '../test/support/loop-delay.js';
import { writeFlood } from '../test/support/report-flood.js';
import { tempDir } from '../test/support/temp-dir.js';
import { saveResult } from './bench-util.js';
import { hiddenPanic } from './panic-hidden.js';

const PANICS = Number(process.env['BENCH_PANICS'] ?? 5000);
const FILES = Number(process.env['BENCH_FILES'] ?? 100_000);
const COPIES = Number(process.env['BENCH_COPIES'] ?? 0);

function corpus(): string {
  const dir = join(tmpdir(), `exo-sentinel-scan-flood-${PANICS}-${FILES}-${COPIES}`);
  if (existsSync(`${dir}.complete`)) return dir;
  writeFlood(dir, { panics: PANICS, copies: COPIES, others: FILES - PANICS - COPIES });
  writeFileSync(`${dir}.complete`, '');
  return dir;
}

/** GET /api/v1/status every 100 ms until stopped: the slowest answer. */
function askStatus(api: string): { stop(): Promise<{ answers: number; slowestMs: number }> } {
  let asking = true;
  const times: number[] = [];
  const loop = (async () => {
    while (asking) {
      const t = performance.now();
      // Refused until begin() has the API listening.
      const ok = await fetch(`${api}/status`).then(
        (r) => r.arrayBuffer().then(() => true),
        () => false,
      );
      if (ok) times.push(performance.now() - t);
      await sleep(100);
    }
  })();
  return {
    async stop() {
      asking = false;
      await loop;
      return { answers: times.length, slowestMs: Math.round(Math.max(0, ...times)) };
    },
  };
}

async function measured<T>(api: string, run: () => Promise<T>) {
  const delay = watchLoopDelay();
  const status = askStatus(api);
  const t = performance.now();
  const value = await run();
  const ms = Math.round(performance.now() - t);
  const d = delay.stop();
  const s = await status.stop();
  const stall = { eldMaxMs: Math.round(d.eldMaxMs), timerLateMaxMs: Math.round(d.timerLateMaxMs) };
  return { value, ms, ...stall, statusAnswers: s.answers, statusSlowestMs: s.slowestMs };
}

async function scan(api: string): Promise<PanicScanView> {
  const r = await fetch(`${api}/panics/scan`, { method: 'POST', body: '{}' });
  return (await r.json()) as PanicScanView;
}

async function main(): Promise<void> {
  const dir = corpus();
  const data = tempDir('exo-sentinel-scan-bench-');
  const port = await freePort();
  const { logger, close } = await createLogger({
    level: 'info',
    file: join(data.path, 'daemon.log'),
    terminal: false,
  });
  const daemon = await reportWatchingDaemon({
    dataDir: data.path,
    reports: dir,
    config: { intervalSeconds: 1, api: { enabled: true, listen: `127.0.0.1:${port}` } },
    logger,
  });
  const api = `http://127.0.0.1:${port}/api/v1`;
  const t0 = performance.now();
  let firstSampleMs: number | null = null;
  daemon.onPublish = (m) => {
    if (m.event === 'sample') firstSampleMs ??= Math.round(performance.now() - t0);
  };
  // The API listens before the first scan: it is asked during begin() too.
  const first = await measured(api, async () => {
    const begun = await daemon.begin();
    if (!begun.ok) throw new Error(begun.error);
    daemon.start();
    await daemon.reportsScanned();
  });
  let scans = 1;
  const rest = await measured(api, async () => {
    for (let r = await scan(api); r.results.some((d) => d.limited); r = await scan(api)) scans++;
  });
  const rescan = await measured(api, () => scan(api));
  const status = (await (await fetch(`${api}/status`)).json()) as { panics: { total: number } };
  await daemon.stop('bench');
  await close();
  data.cleanup();
  const result = {
    panics: PANICS,
    files: FILES,
    copies: COPIES,
    panicsRegistered: status.panics.total,
    firstSampleMs,
    firstScan: { ...first, value: undefined },
    untilTakenIn: { ...rest, value: undefined, scans: scans + 1 },
    rescan: { ...rescan, value: undefined, new: rescan.value.new },
  };
  console.log(JSON.stringify(result, null, 2));
  saveResult(`panic-scan-${PANICS}-${FILES}`, result);
}

if (process.env['BENCH_SCENARIO'] === 'hidden') {
  const result = await hiddenPanic(FILES);
  console.log(JSON.stringify(result, null, 2));
  saveResult(`panic-hidden-${FILES}`, result);
} else await main();
