import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ReportIngester } from '../../src/main/core/panics/report-ingester.js';
import { scanDirectory } from '../../src/main/core/panics/report-scan.js';
import { ScanMemory } from '../../src/main/core/panics/scan-memory.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { ReportStore } from '../../src/main/core/store/report-store.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { type LoopDelay, watchLoopDelay } from '../support/loop-delay.js';
import { writeFlood } from '../support/report-flood.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

/**
 * Before scans shared the loop, this directory held it about 15 s (one synchronous pass, a commit per
 * row). Now a turn of the loop holds about 10 ms of work and its commit: 35-65 ms at most on two idle
 * cores. On a loaded machine the wall-clock delays also count the time the process waits for a core, so
 * they get a looser bound than the main thread's CPU time between two firings of a 10 ms timer.
 */
const MAX_CPU_HELD_MS = 100;
const MAX_LOOP_DELAY_MS = 300;

function assertShared(d: LoopDelay, what: string): void {
  const said = `${what}: the event loop delayed ${Math.round(d.eldMaxMs)} ms (monitorEventLoopDelay), ${Math.round(d.timerLateMaxMs)} ms (a 10 ms timer), held ${Math.round(d.cpuHeldMaxMs)} ms of CPU`;
  assert.ok(d.cpuHeldMaxMs < MAX_CPU_HELD_MS, said);
  assert.ok(d.eldMaxMs < MAX_LOOP_DELAY_MS && d.timerLateMaxMs < MAX_LOOP_DELAY_MS, said);
}

describe('a report directory stuffed by an outsider (real files, real SQLite)', () => {
  it('is scanned without holding the event loop: 1000 panics among 20k files, two large files, 200 copies', async () => {
    const reports = `${dir.path}/flood`;
    const files = writeFlood(reports, { panics: 1000, others: 18_798, copies: 200, largeMiB: [24, 24] });
    assert.equal(files, 20_000);
    const db = openDatabase(`${dir.path}/flood.db`);
    const store = new ReportStore(db);
    const ingester = new ReportIngester(store, new TimelineStore(db), () => Date.UTC(2026, 3, 23, 12));
    const memory = new ScanMemory();
    let slices = 0;
    const delay = watchLoopDelay();
    const t = performance.now();
    const first = await scanDirectory(ingester, reports, { memory, onAdded: () => slices++ });
    const took = performance.now() - t;
    assertShared(delay.stop(), `a ${Math.round(took)} ms scan`);
    assert.equal(first.error, null);
    assert.equal(first.limited, undefined, JSON.stringify(first.limited));
    assert.equal(first.files, files);
    // Every file has its row but 199 of the copies; every panic is recognised.
    assert.equal(first.added.length, files - 199);
    assert.deepEqual(store.panicsByKind(), [{ kind: 'completeMemory', n: 1001 }]);
    assert.ok(slices > 10, `rows went out a slice at a time (${slices} slices)`);

    // A rescan reads nothing (the ledger has every file, the memory every copy): quick, nothing added.
    const again = watchLoopDelay();
    const t2 = performance.now();
    const second = await scanDirectory(ingester, reports, { memory, limits: { maxReads: 1 } });
    const rescan = performance.now() - t2;
    assertShared(again.stop(), `a ${Math.round(rescan)} ms rescan`);
    assert.equal(second.added.length, 0);
    assert.equal(second.limited, undefined, 'not one file needed reading');
    assert.ok(rescan < took, `rescan ${Math.round(rescan)} ms, first scan ${Math.round(took)} ms`);
    db.close();
  });
});
