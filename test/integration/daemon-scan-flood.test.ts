import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PanicScanView } from '../../src/shared/api-contracts.js';
import { freePort } from '../support/free-port.js';
import { reportWatchingDaemon } from '../support/local-daemon.js';
import { watchLoopDelay } from '../support/loop-delay.js';
import { writeFlood } from '../support/report-flood.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Before scans shared the event loop, this scan held it 9.8 s: two status answers in 10.5 s, the tick
 * stalled. Now the loop waits at most a few tens of ms.
 */
const MAX_ANSWER_MS = 500;

describe('the daemon while it scans a stuffed report directory', () => {
  it('answers its API and keeps ticking during the scan, and the scan answers every report', async () => {
    const dir = tempDir('exo-sentinel-scan-flood-');
    const reports = join(dir.path, 'reports');
    const staged = join(dir.path, 'staged');
    const files = writeFlood(staged, { panics: 300, others: 9_700 });
    const port = await freePort();
    // The report directory is absent at start (so not watched): it appears whole, as if filled while the
    // daemon ran.
    const daemon = await reportWatchingDaemon({
      dataDir: join(dir.path, 'data'),
      reports,
      config: { intervalSeconds: 0.25, api: { enabled: true, listen: `127.0.0.1:${port}` } },
    });
    const api = `http://127.0.0.1:${port}/api/v1`;
    try {
      const begun = await daemon.begin();
      assert.ok(begun.ok, begun.ok ? '' : begun.error);
      daemon.start();
      await sleep(600);
      renameSync(staged, reports);

      const answers: number[] = [];
      let scanning = true;
      const asking = (async () => {
        while (scanning) {
          const t = performance.now();
          const r = await fetch(`${api}/status`);
          await r.json();
          answers.push(performance.now() - t);
          await sleep(50);
        }
      })();
      const ticksBefore = daemon.tickCount;
      const delay = watchLoopDelay();
      const t = performance.now();
      const res = await fetch(`${api}/panics/scan`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      const scan = (await res.json()) as PanicScanView;
      const took = performance.now() - t;
      const d = delay.stop();
      scanning = false;
      await asking;
      const ticks = daemon.tickCount - ticksBefore;

      assert.equal(res.status, 200);
      assert.equal(scan.found, files);
      assert.equal(scan.new, files);
      assert.equal(scan.results[0]?.added.filter((r) => r.category === 'panic').length, 300);
      assert.equal(scan.results[0]?.limited, undefined);
      const slowest = Math.max(...answers);
      assert.ok(
        answers.length >= 3 && slowest < MAX_ANSWER_MS,
        `${answers.length} status answers during a ${Math.round(took)} ms scan, the slowest ${Math.round(slowest)} ms`,
      );
      assert.ok(
        ticks >= Math.floor(took / 250 / 2),
        `${ticks} ticks at 4 Hz during a ${Math.round(took)} ms scan (event loop held at most ${Math.round(d.timerLateMaxMs)} ms)`,
      );
      assert.ok(
        d.cpuHeldMaxMs < 100 && d.eldMaxMs < 300,
        `event loop held ${Math.round(d.cpuHeldMaxMs)} ms of CPU, delayed ${Math.round(d.eldMaxMs)} ms`,
      );
      const status = (await (await fetch(`${api}/status`)).json()) as { panics: { total: number } };
      assert.equal(status.panics.total, 300);
    } finally {
      await daemon.stop('test');
      dir.cleanup();
    }
  });
});
