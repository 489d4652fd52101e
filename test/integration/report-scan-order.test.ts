import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listReportNames } from '../../src/main/core/panics/report-listing.js';
import { panicNameStamp } from '../../src/main/core/panics/report-priority.js';
import { scanDirectory } from '../../src/main/core/panics/report-scan.js';
import { ScanMemory } from '../../src/main/core/panics/scan-memory.js';
import type { ReportRecord } from '../../src/shared/reports.js';
import { fixture } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { reportStores } from '../support/report-stores.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

const stores = (name: string) => reportStores(`${dir.path}/${name}.db`, Date.UTC(2026, 3, 23, 12));
const REAL = 'panic-full-2026-04-23-100035.0002.panic';
const realPanic = (): string =>
  wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time: Date.UTC(2026, 3, 23, 10, 0, 35) });

/** What an outsider who can write to the directory drops: names that sort before any panic report. */
function junk(reports: string, n: number): void {
  mkdirSync(reports, { recursive: true });
  for (let i = 0; i < n; i++) {
    const id = String(i).padStart(6, '0');
    if (i % 2 === 0) writeFileSync(join(reports, `a-${id}.panic`), `junk ${id}\n`);
    else writeFileSync(join(reports, `A-${id}.ips`), `{"bug_type":"288","name":"a${id}"}\n{}`);
  }
}

describe('the order a scan reads a directory in (real files, real SQLite)', () => {
  it('knows the names macOS gives panic reports, and the time in them', () => {
    assert.equal(panicNameStamp(REAL), '2026-04-23-100035');
    assert.equal(panicNameStamp('panic-base-2026-04-23-100035.panic'), '2026-04-23-100035');
    assert.equal(panicNameStamp('Kernel_2019-05-01-123456_Mac-Studio.panic'), '2019-05-01-123456');
    assert.equal(panicNameStamp('Kernel-2019-05-01-123456.panic'), '2019-05-01-123456');
    for (const other of [
      'a-000001.panic',
      'panic-full-2026-04-23.panic',
      'panic-full-2026-04-23-100035.0002.ips',
      'JetsamEvent-2026-04-23-100035.ips',
      'xpanic-full-2026-04-23-100035.panic',
    ])
      assert.equal(panicNameStamp(other), null, other);
  });

  it('reads the one real panic among 100k junk files in the first scan, before any junk', async () => {
    const reports = `${dir.path}/hidden`;
    junk(reports, 100_000);
    // Junk with panic names but older than the real one does not come first either.
    for (let i = 0; i < 100; i++)
      writeFileSync(
        join(reports, `panic-full-2001-01-01-${String(i).padStart(6, '0')}.panic`),
        'not a panic\n',
      );
    writeFileSync(join(reports, REAL), realPanic());
    const s = stores('hidden');
    const memory = new ScanMemory();
    let firstSlice: ReportRecord[] | null = null;
    const t = performance.now();
    const first = await scanDirectory(s.ingester, reports, {
      memory,
      onAdded: (records) => {
        firstSlice ??= records;
      },
    });
    const took = performance.now() - t;
    assert.equal(first.files, 100_101);
    assert.equal(
      (firstSlice as ReportRecord[] | null)?.[0]?.name,
      REAL,
      'the first file read is the newest panic-named one',
    );
    const panics = first.added.filter((r) => r.category === 'panic' && r.status === 'ingested');
    assert.deepEqual(
      panics.map((r) => [r.name, r.kind]),
      [[REAL, 'completeMemory']],
    );
    // 100k names are listed at most: the panic-named ones are kept, 101 junk names left for later scans.
    assert.deepEqual(first.limited, { deferred: 80_000, unlisted: 101, maxReads: 20_000, maxNames: 100_000 });
    // With a budget of one read, the one read is the panic.
    const t2 = stores('hidden-one');
    const one = await scanDirectory(t2.ingester, reports, { limits: { maxReads: 1 } });
    assert.deepEqual(
      one.added.map((r) => r.name),
      [REAL],
    );
    s.db.close();
    t2.db.close();
    console.log(`# first scan of 100,101 files: ${Math.round(took)} ms`);
  });

  it('reads panic-named files newest first, then the rest from where the last scan stopped', async () => {
    const reports = `${dir.path}/order`;
    junk(reports, 6);
    const names = [
      'panic-full-2026-04-21-090000.0002.panic',
      'Kernel_2019-05-01-123456_Mac.panic',
      'panic-full-2026-04-23-100035.0002.panic',
      'panic-base-2026-04-22-000000.panic',
    ];
    for (const [i, n] of names.entries())
      writeFileSync(
        join(reports, n),
        wrapAsPanicFile(fixture('panics/omlx-300-1.panic.txt'), { time: i * 1000 }),
      );
    const s = stores('order');
    const memory = new ScanMemory();
    const scan = () => scanDirectory(s.ingester, reports, { memory, limits: { maxReads: 3 } });
    const read = async (): Promise<string[]> => (await scan()).added.map((r) => r.name);
    assert.deepEqual(await read(), [
      'panic-full-2026-04-23-100035.0002.panic',
      'panic-base-2026-04-22-000000.panic',
      'panic-full-2026-04-21-090000.0002.panic',
    ]);
    assert.deepEqual(await read(), ['Kernel_2019-05-01-123456_Mac.panic', 'A-000001.ips', 'A-000003.ips']);
    // A new panic dropped meanwhile comes before the rest, which goes on after A-000003.ips.
    writeFileSync(join(reports, 'panic-full-2026-04-24-000000.0002.panic'), realPanic());
    assert.deepEqual(await read(), [
      'panic-full-2026-04-24-000000.0002.panic',
      'A-000005.ips',
      'a-000000.panic',
    ]);
    assert.deepEqual(await read(), ['a-000002.panic', 'a-000004.panic']);
    assert.deepEqual(await read(), []);
    s.db.close();
  });

  it('keeps panic-named files when the listing cap is reached, whatever came before them', async () => {
    const reports = `${dir.path}/cap`;
    junk(reports, 50);
    writeFileSync(join(reports, REAL), realPanic());
    const l = await listReportNames(reports, /\.(panic|ips)$/, 10);
    assert.ok(l.ok);
    assert.deepEqual(l.first, [REAL]);
    assert.equal(l.names.length, 9);
    assert.equal(l.unlisted, 41);
  });
});
