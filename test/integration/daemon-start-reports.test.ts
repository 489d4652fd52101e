import assert from 'node:assert/strict';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixture } from '../support/fixtures.js';
import { reportWatchingDaemon } from '../support/local-daemon.js';
import { appleTimestamp, wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';

/** A published judgement: when (ms after the call to begin) and its reasons' signals. */
interface Judged {
  at: number;
  signals: string[];
}

/**
 * A report directory that takes seconds to scan: files of 256 MB (sparse: nothing on disk) with no panic
 * in them, each read to the end looking for one (about 0.5 s each on two loaded cores). Before, the daemon
 * took its first sample only after this scan (and after 6 s with 100k small files): a watchdog must
 * sample from its first second, which is right after the reboot that follows a panic.
 */
function slowDirectory(reports: string, panicName: string): void {
  mkdirSync(reports, { recursive: true });
  for (let i = 0; i < 8; i++) {
    const file = join(reports, `a-${i}.panic`);
    writeFileSync(file, '');
    truncateSync(file, 256 * 1024 * 1024);
  }
  const time = Date.now() - 60_000;
  writeFileSync(join(reports, panicName), wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time }));
}

async function run(panicName: string) {
  const dir = tempDir('exo-sentinel-start-reports-');
  const reports = join(dir.path, 'reports');
  slowDirectory(reports, panicName);
  const daemon = await reportWatchingDaemon({
    dataDir: join(dir.path, 'data'),
    reports,
    config: { intervalSeconds: 1, api: { enabled: false }, notifications: { desktop: 'off' } },
  });
  const judged: Judged[] = [];
  const t0 = performance.now();
  daemon.onPublish = (m) => {
    if (m.event === 'sample')
      judged.push({ at: performance.now() - t0, signals: m.data.reasons.map((r) => r.signal) });
  };
  let scannedAt = Number.NaN;
  try {
    const begun = await daemon.begin();
    assert.ok(begun.ok, begun.ok ? '' : begun.error);
    daemon.start();
    await daemon.reportsScanned();
    scannedAt = performance.now() - t0;
    const until = performance.now() + 5000;
    while (performance.now() < until && !judged.some((j) => j.at > scannedAt)) await sleep(50);
    const status = daemon.service.status();
    return { judged, scannedAt, hold: status.hold, reasons: status.risk.reasons.map((r) => r.signal) };
  } finally {
    await daemon.stop('test');
    dir.cleanup();
  }
}

const held = (j: Judged): boolean => j.signals.includes('post-panic-hold');

describe('the daemon starting on a report directory that takes seconds to scan', () => {
  it('samples within its first seconds, says reports are still being scanned, and holds once the scan reaches the panic', async () => {
    // Not named as macOS names panics: read after the slow files.
    const r = await run('zz-pasted-panic.panic');
    const first = r.judged[0];
    assert.ok(first, 'a sample was published');
    assert.ok(first.at < 2000, `first sample ${Math.round(first.at)} ms after the start`);
    assert.ok(
      first.at < r.scannedAt,
      `sampled before the scan ended (${Math.round(r.scannedAt)} ms): the test directory is slow enough`,
    );
    assert.ok(first.signals.includes('reports-scanning'), `first judgement: ${first.signals.join(', ')}`);
    assert.ok(!held(first), 'the panic was not read yet');
    const during = r.judged.filter((j) => j.at < r.scannedAt);
    assert.ok(during.length >= 2, `${during.length} samples during the scan`);
    // The scan reached the panic: the post-panic state, judged at once (the next tick at the latest).
    const hold = r.judged.find(held);
    assert.ok(hold, 'a judgement with the post-panic hold');
    assert.ok(
      hold.at < r.scannedAt + 1500,
      `held at ${Math.round(hold.at)} ms, scan ended ${Math.round(r.scannedAt)} ms`,
    );
    assert.match(r.hold?.reason ?? '', /^completeMemory kernel panic at /);
    assert.ok(r.reasons.includes('post-panic-hold'));
    assert.ok(!r.reasons.includes('reports-scanning'), 'no longer said once the scan ended');
  });

  it('reads a panic named as macOS names it first, and holds before the slow scan ends', async () => {
    const t = appleTimestamp(Date.now() - 60_000);
    const name = `panic-full-${t.slice(0, 10)}-${t.slice(11, 19).replaceAll(':', '')}.0002.panic`;
    const r = await run(name);
    assert.ok((r.judged[0]?.at ?? Number.POSITIVE_INFINITY) < 2000, 'first sample within 2 s');
    const hold = r.judged.find(held);
    assert.ok(
      hold && hold.at < r.scannedAt,
      `held at ${Math.round(hold?.at ?? -1)} ms, before the scan ended at ${Math.round(r.scannedAt)} ms`,
    );
    assert.ok(hold.signals.includes('reports-scanning'), 'the scan was still going on');
    assert.ok(r.hold);
  });
});
