import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { type ScanLimited, scanDirectory } from '../../src/main/core/panics/report-scan.js';
import { ReportWatcher } from '../../src/main/core/panics/report-watcher.js';
import { ScanMemory } from '../../src/main/core/panics/scan-memory.js';
import { fixture } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { writeFlood } from '../support/report-flood.js';
import { reportStores } from '../support/report-stores.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

const stores = (name: string) => reportStores(`${dir.path}/${name}.db`, Date.UTC(2026, 3, 23, 12));

describe('what one scan may take in (real files, real SQLite)', () => {
  it('reads at most maxReads files a scan, says what it left, and the next scan goes on from there', async () => {
    const reports = `${dir.path}/budget`;
    // Reports not named as macOS names panics (those are read first: report-scan-order.test.ts).
    writeFlood(reports, { panics: 0, others: 30 });
    const s = stores('budget');
    const memory = new ScanMemory();
    const scan = () => scanDirectory(s.ingester, reports, { memory, limits: { maxReads: 10 } });
    const a = await scan();
    assert.equal(a.added.length, 10);
    assert.deepEqual(a.limited, { deferred: 20, unlisted: 0, maxReads: 10, maxNames: 100_000 });
    const b = await scan();
    assert.equal(b.added.length, 10);
    assert.equal(
      b.limited?.deferred,
      20,
      'not looked at: the ten after it and, wrapping around, the first ten',
    );
    assert.ok(
      b.added.every((r) => !a.added.some((x) => x.path === r.path)),
      'the next ten, not the first ten again',
    );
    // A report that sorts first (a pasted panic, not named as macOS names one), dropped between scans, is
    // reached when the scan wraps around.
    writeFileSync(`${reports}/aaa.panic`, wrapAsPanicFile(fixture('panics/mlx-3186-1.panic.txt')));
    const c = await scan();
    assert.equal(c.added.length, 10);
    const d = await scan();
    assert.deepEqual(
      d.added.map((r) => r.name),
      ['aaa.panic'],
    );
    assert.equal(d.limited, undefined);
    assert.equal(s.reports.list().length, 31);
    s.db.close();
  });

  it('lists at most maxNames names a directory and counts the rest', async () => {
    const reports = `${dir.path}/names`;
    writeFlood(reports, { panics: 8, others: 0 });
    const s = stores('names');
    const r = await scanDirectory(s.ingester, reports, { limits: { maxNames: 5 } });
    assert.equal(r.files, 8);
    assert.equal(r.added.length, 5);
    assert.deepEqual(r.limited, { deferred: 0, unlisted: 3, maxReads: 20_000, maxNames: 5 });
    s.db.close();
  });

  it('reads a copy of a known report once: later scans skip it, so copies cannot hold the budget forever', async () => {
    const reports = `${dir.path}/copies`;
    writeFlood(reports, { panics: 0, others: 0, copies: 20 });
    const s = stores('copies');
    const memory = new ScanMemory();
    const limited: Array<ScanLimited | undefined> = [];
    for (let i = 0; i < 5; i++)
      limited.push((await scanDirectory(s.ingester, reports, { memory, limits: { maxReads: 5 } })).limited);
    assert.deepEqual(
      limited.map((l) => l?.deferred),
      [15, 15, 15, 15, undefined],
      'four scans read the 20 copies five at a time, the fifth reads none',
    );
    assert.equal(s.reports.list().length, 1, 'one row for one content');
    // Without the memory every copy is read again and the budget runs out again.
    const fresh = await scanDirectory(s.ingester, reports, { limits: { maxReads: 5 } });
    assert.equal(fresh.limited?.deferred, 14, 'the first copy has the row (not read), five more read');
    s.db.close();
  });
});

describe('the report watcher', () => {
  it('runs scans one at a time, reports a bounded scan as such, and a stop ends a scan at its next slice', async () => {
    const a = `${dir.path}/watch-a`;
    const b = `${dir.path}/watch-b`;
    writeFlood(a, { panics: 40, others: 0 });
    writeFlood(b, { panics: 0, others: 40 });
    const s = stores('watch');
    const seen: string[] = [];
    const limited: Array<{ dir: string; deferred: number }> = [];
    const watcher = new ReportWatcher(
      [a],
      s.ingester,
      {
        onReport: (r) => seen.push(r.dir),
        onDirectoryProblem: (d, p) => assert.fail(`${d}: ${p}`),
        onScanLimited: (d, l) => limited.push({ dir: d, deferred: l.deferred }),
      },
      60_000,
      { maxReads: 30, sliceMs: 0 },
    );
    const [first, other] = await Promise.all([
      watcher.scanAll(),
      watcher.scanOther([b], { pattern: /\.ips$/, globs: ['*.ips'] }),
    ]);
    assert.equal(first[0]?.added.length, 30);
    assert.equal(other[0]?.added.length, 30);
    assert.deepEqual(
      seen,
      [...Array(30).fill(a), ...Array(30).fill(b)],
      'the second scan waited for the first',
    );
    assert.deepEqual(limited, [
      { dir: a, deferred: 10 },
      { dir: b, deferred: 10 },
    ]);
    // A stop while a scan runs: the scan ends at its next slice, before the ledger is closed.
    const big = `${dir.path}/watch-big`;
    writeFlood(big, { panics: 0, others: 3000 });
    const stopping = new ReportWatcher(
      [big],
      s.ingester,
      {
        onReport: () => undefined,
        onDirectoryProblem: () => undefined,
        onScanLimited: () => undefined,
      },
      60_000,
      { sliceMs: 1 },
    );
    const running = stopping.scanAll();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await stopping.stop();
    const [r] = await running;
    assert.ok(r?.limited && r.limited.deferred > 0, `stopped early: ${JSON.stringify(r?.limited)}`);
    s.db.close();
  });

  it('files written while it watches are read one at a time; a flood past the queue goes to a scan, a panic in it is found', async () => {
    const live = `${dir.path}/watch-live`;
    mkdirSync(live, { recursive: true });
    const s = stores('live');
    const panics: string[] = [];
    const watcher = new ReportWatcher(
      [live],
      s.ingester,
      {
        onReport: (r) => {
          if (r.category === 'panic') panics.push(r.path);
        },
        onDirectoryProblem: (d, p) => assert.fail(`${d}: ${p}`),
        onScanLimited: () => undefined,
      },
      600_000,
    );
    await watcher.start();
    const t0 = performance.now();
    writeFlood(live, { panics: 0, others: 2500 });
    const panic = `${live}/Kernel-2026-04-23-120000.panic`;
    writeFileSync(
      panic,
      wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time: Date.UTC(2026, 3, 23, 11) }),
    );
    // The event loop's worst lag while the flood is taken in (a timer every 10 ms; the writes above are
    // this test's own, not the watcher's).
    let worst = 0;
    let last = performance.now();
    const lag = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
    }, 10);
    try {
      const deadline = performance.now() + 30_000;
      while (!panics.includes(panic) && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(panics, [panic], 'the panic written among 2500 files is taken in');
      // The re-scan after the queue overflowed reads panic-named files first, so the panic can be in before
      // the queue's files are: they are read too, by the same deadline.
      const rows = (): number => (s.db.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n;
      while (rows() < 1000 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const count = rows();
      assert.ok(count >= 1000, `the live files were read too (${count} rows)`);
      // Each ledger row is an fsync'd commit on the event loop: right after 2500 files are written the first
      // ones wait on the file system's journal (100-350 ms here), which no pacing can split. Before reads were
      // queued, 2500 reads and commits started at once and held it 0.5-1 s.
      assert.ok(
        worst < 1500,
        `event loop held ${worst.toFixed(0)} ms at most (found in ${(performance.now() - t0).toFixed(0)} ms)`,
      );
    } finally {
      clearInterval(lag);
      await watcher.stop();
      s.db.close();
    }
  });
});
