import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ReportIngester } from '../../src/main/core/panics/report-ingester.js';
import { scanDirectory } from '../../src/main/core/panics/report-scan.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { ReportStore } from '../../src/main/core/store/report-store.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { cliPath, runCli } from '../support/cli-runner.js';
import { fixture, listFixtures } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { makeSample } from '../support/sample-factory.js';
import { tempDir } from '../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

function stores(name: string) {
  const db = openDatabase(`${dir.path}/${name}.db`);
  const timeline = new TimelineStore(db);
  const reports = new ReportStore(db);
  return {
    db,
    timeline,
    reports,
    ingester: new ReportIngester(reports, timeline, () => Date.UTC(2026, 3, 23, 12)),
  };
}

describe('report ingestion (real files, real SQLite)', () => {
  it('ingests every fixture panic, wrapped as macOS writes it, exactly once across rescans and moves', async () => {
    const reportDir = `${dir.path}/reports-a`;
    mkdirSync(`${reportDir}/Retired`, { recursive: true });
    const files = listFixtures('panics');
    // The fixtures are panicString excerpts: each goes into the .panic container macOS writes, except
    // itlwm-1010-1, which already is one (Intel layout).
    files.forEach((f, i) => {
      const name = `panic-full-2026-04-23-1000${String(i).padStart(2, '0')}.0002.panic`;
      const text = f.includes('itlwm')
        ? fixture(f)
        : wrapAsPanicFile(fixture(f), { time: Date.UTC(2026, 3, 23, 10, 0, i) });
      writeFileSync(`${reportDir}/${name}`, text);
    });
    writeFileSync(`${reportDir}/notes.txt`, 'not a report');
    const s = stores('a');
    const first = await scanDirectory(s.ingester, reportDir);
    assert.equal(first.error, null);
    assert.equal(first.files, files.length);
    assert.equal(first.added.length, files.length);
    const kinds = first.added.map((r) => r.kind).sort();
    assert.deepEqual(
      Object.entries(
        kinds.reduce<Record<string, number>>((m, k) => {
          m[k!] = (m[k!] ?? 0) + 1;
          return m;
        }, {}),
      ),
      [
        ['completeMemory', 13],
        ['iogpuSibling', 1],
        ['other', 3],
        ['watchdogTimeout', 1],
      ],
    );
    assert.ok(
      first.added.every((r) => r.status === 'ingested' && r.category === 'panic' && r.bugType === '210'),
    );
    // Panic time from the body date, not the file name.
    const exo = first.added.find((r) => r.info?.['osBuild'] === '25C56')!;
    assert.equal(
      exo.panicTime,
      Date.UTC(
        2026,
        3,
        23,
        10,
        0,
        files.findIndex((f) => f.includes('exo-1348')),
      ),
    );
    // Rescan: nothing new. Move one to Retired/: same content, not added again.
    assert.equal((await scanDirectory(s.ingester, reportDir)).added.length, 0);
    execFileSync('mv', [`${reportDir}/panic-full-2026-04-23-100000.0002.panic`, `${reportDir}/Retired/`]);
    assert.equal((await scanDirectory(s.ingester, `${reportDir}/Retired`)).added.length, 0);
    assert.equal(s.reports.list().length, files.length);
    s.db.close();
  });

  it('attributes a panic to the EXO runner from the pid map recorded before it', async () => {
    const s = stores('b');
    const panicAt = Date.UTC(2026, 3, 23, 10, 0, 0);
    const runner = {
      pid: 1577,
      ppid: 500,
      argv: ['/Applications/EXO.app/Contents/Resources/exo/exo', '--multiprocessing-fork'],
      executable: '/Applications/EXO.app/Contents/Resources/exo/exo',
      name: 'exo',
      startTime: panicAt - 3_600_000,
    };
    for (let t = panicAt - 120_000; t < panicAt; t += 1000) {
      s.timeline.writeTick(makeSample(t));
      s.timeline.recordProcess(runner, 'exo-runner', t);
    }
    const reportDir = `${dir.path}/reports-b`;
    mkdirSync(reportDir);
    // The fixture is an excerpt (the first block of the panicString); the panicked-task lines a full report
    // carries are added here, and the whole goes into the .panic container macOS writes.
    const text = fixture('panics/exo-1348-1.panic.txt').replace(
      'TXM load address: 0xfffffe002dd7c000',
      'TXM load address: 0xfffffe002dd7c000\nPanicked task 0xfffffe2adb458ec0: 127674 pages, 31 threads: pid 1577: exo\nPanicked thread: 0xfffffe2f99fbb3c8, backtrace: 0xfffffe8de993ec80, tid: 18654',
    );
    writeFileSync(
      `${reportDir}/panic-full-2026-04-23-100035.0002.panic`,
      wrapAsPanicFile(text, { time: panicAt }),
    );
    const [rec] = (await scanDirectory(s.ingester, reportDir)).added;
    assert.equal(rec?.pid, 1577);
    assert.equal(rec?.processName, 'exo');
    assert.equal(rec?.attribution?.verdict, 'exo-runner');
    assert.equal(rec?.attribution?.confidence, 'exact');
    assert.deepEqual(rec?.attribution?.process?.argv, runner.argv);
    assert.equal(rec?.info?.['tid'], 18654);
    s.db.close();
  });

  it('does not follow symlinks out of the directory, never opens a FIFO, and reads only the head of a huge file', async () => {
    const reportDir = `${dir.path}/reports-c`;
    mkdirSync(reportDir);
    // The fixtures are panicString excerpts, wrapped in the .panic container macOS writes.
    writeFileSync(`${dir.path}/outside.panic`, wrapAsPanicFile(fixture('panics/omlx-300-5.panic.txt')));
    symlinkSync(`${dir.path}/outside.panic`, `${reportDir}/link-out.panic`);
    execFileSync('mkfifo', [`${reportDir}/fifo.panic`]);
    const big = `${wrapAsPanicFile(fixture('panics/omlx-300-6.panic.txt'))}\n${'x'.repeat(1023)}\n`.padEnd(
      50 * 1024 * 1024,
      'y',
    );
    writeFileSync(`${reportDir}/panic-full-2026-05-04-000000.0001.panic`, big);
    const s = stores('c');
    const r = await scanDirectory(s.ingester, reportDir);
    const byName = Object.fromEntries(r.added.map((x) => [x.name, x]));
    assert.equal(byName['link-out.panic']?.status, 'skipped');
    assert.match(byName['link-out.panic']?.problem ?? '', /links outside .*not followed/);
    assert.equal(byName['fifo.panic']?.status, 'skipped');
    assert.match(byName['fifo.panic']?.problem ?? '', /not a regular file/);
    const huge = byName['panic-full-2026-05-04-000000.0001.panic'];
    assert.equal(huge?.status, 'ingested');
    assert.equal(huge?.kind, 'completeMemory');
    assert.equal(huge?.size, 50 * 1024 * 1024);
    assert.equal(huge?.info?.['truncatedRead'], true);
    s.db.close();
  });

  // Root reads every file, so as root the scan runs as `nobody`; that needs the checkout (Node, the CLI)
  // reachable by `nobody`, which a clone under a private directory (/root, a 0700 temp dir) is not.
  const asRoot = process.getuid?.() === 0;
  const nobodyCanRun =
    !asRoot ||
    spawnSync(process.execPath, [cliPath, '--version'], { uid: 65534, gid: 65534, encoding: 'utf8' })
      .status === 0;
  it('records a report it cannot read as present but unreadable, with advice, and completes it once readable', {
    skip: nobodyCanRun
      ? false
      : `running as root and user nobody cannot run ${cliPath} (a parent directory is private)`,
  }, async () => {
    const reportDir = `${dir.path}/reports-d`;
    const dataDir = `${dir.path}/data-d`;
    mkdirSync(reportDir, { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    const file = `${reportDir}/panic-full-2026-04-23-100035.0002.panic`;
    // The fixture is an excerpt of a panicString; wrapAsPanicFile puts it in the .panic container macOS writes.
    writeFileSync(file, wrapAsPanicFile(fixture('panics/omlx-300-2.panic.txt')));
    utimesSync(file, new Date(Date.UTC(2026, 3, 23, 10, 0, 35)), new Date(Date.UTC(2026, 3, 23, 10, 0, 35)));
    chmodSync(file, 0o600);
    // Tests run as root in CI, and root reads everything: scan as `nobody` there.
    for (const p of [dir.path, reportDir, dataDir]) chmodSync(p, 0o777);
    if (!asRoot) chmodSync(file, 0o000);
    const scan = spawnSync(
      process.execPath,
      [cliPath, 'panics', 'scan', '--dir', reportDir, '--data-dir', dataDir, '--json'],
      {
        encoding: 'utf8',
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
        env: { ...process.env, HOME: dataDir },
      },
    );
    assert.equal(scan.status, 0, scan.stderr || String(scan.error));
    const [res] = JSON.parse(scan.stdout) as Array<{
      added: Array<{ status: string; problem: string; name: string; mtime: number }>;
    }>;
    assert.equal(res?.added[0]?.status, 'unreadable');
    assert.match(res?.added[0]?.problem ?? '', /not readable by this user|_analyticsusers/);
    assert.equal(res?.added[0]?.mtime, Date.UTC(2026, 3, 23, 10, 0, 35), 'name and mtime still say when');
    // `status` says so, with what would make it readable.
    const status = JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout);
    assert.equal(status.panics.unreadable.length, 1);
    assert.equal(status.panics.unreadable[0].name, 'panic-full-2026-04-23-100035.0002.panic');
    assert.match(status.panics.unreadable[0].problem, /not readable by this user|_analyticsusers/);
    assert.equal(status.panics.total, 0);
    // Once readable, the same row is completed (not a second report).
    chmodSync(file, 0o644);
    const again = await runCli(['panics', 'scan', '--dir', reportDir, '--data-dir', dataDir, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const list = JSON.parse(
      (await runCli(['panics', 'list', '--json', '--data-dir', dataDir])).stdout,
    ) as Array<{ status: string; kind: string; id: number }>;
    assert.deepEqual(
      list.map((r) => [r.id, r.status, r.kind]),
      [[1, 'ingested', 'completeMemory']],
    );
  });

  it('a report read while macOS still wrote it is completed in its row when read again: one panic, one row', () => {
    const { reports, ingester } = stores('growing');
    const reportDir = `${dir.path}/reports-growing`;
    mkdirSync(reportDir, { recursive: true });
    const file = `${reportDir}/panic-full-2026-04-23-100040.0002.panic`;
    const whole = wrapAsPanicFile(fixture('panics/omlx-300-2.panic.txt'));
    // Half written: the panic text is cut, but what it says is already there.
    writeFileSync(file, whole.slice(0, Math.floor(whole.length * 0.6)));
    const first = ingester.ingestFile(file, reportDir);
    assert.equal(first?.kind, 'completeMemory');
    writeFileSync(file, whole);
    assert.equal(ingester.ingestFile(file, reportDir), null, 'the same panic: nothing new to say');
    const rows = reports.list({});
    assert.deepEqual(
      rows.map((r) => [r.id, r.kind, r.size]),
      [[first!.id, 'completeMemory', Buffer.byteLength(whole)]],
    );
    assert.equal(reports.countPanics('completeMemory'), 1);
    // Only the header when first read: then it says something new, and that is news to the caller.
    const late = `${reportDir}/panic-full-2026-04-23-100041.0002.panic`;
    writeFileSync(late, `${whole.slice(0, whole.indexOf('\n'))}\n`);
    const headerOnly = ingester.ingestFile(late, reportDir);
    assert.notEqual(headerOnly?.kind, 'completeMemory');
    writeFileSync(late, whole.replace('100035', '100041').replace('C0DE', 'C0DF'));
    const completed = ingester.ingestFile(late, reportDir);
    assert.deepEqual([completed?.id, completed?.kind], [headerOnly?.id, 'completeMemory']);
    assert.equal(reports.countPanics('completeMemory'), 2);
    // Another report under a name already read (another panic time): a row of its own.
    writeFileSync(
      file,
      wrapAsPanicFile(fixture('panics/omlx-300-2.panic.txt'), { time: Date.UTC(2026, 4, 1) }),
    );
    assert.ok(ingester.ingestFile(file, reportDir));
    assert.equal(reports.countPanics('completeMemory'), 3);
  });

  it('a stored panic whose file is rewritten keeps its row: junk, {} or another text is a row of its own', () => {
    const whole = wrapAsPanicFile(fixture('panics/omlx-300-2.panic.txt'));
    for (const [label, replacement] of [
      ['a header and junk (no panic time)', '{"bug_type":"210"}\nnothing here\n'],
      ['an empty object', '{}\n'],
      [
        'the same panic time, another kind, longer',
        `${whole.replace(/completeMemory|IOGPU|GPU/g, 'xyz')}${' '.repeat(200)}`,
      ],
    ] as const) {
      const { reports, ingester } = stores(`rewritten-${label.replace(/\W/g, '')}`);
      const reportDir = `${dir.path}/reports-rewritten-${label.replace(/\W/g, '')}`;
      mkdirSync(reportDir, { recursive: true });
      const file = `${reportDir}/panic-full-2026-04-23-100040.0002.panic`;
      writeFileSync(file, whole);
      const first = ingester.ingestFile(file, reportDir);
      assert.equal(first?.kind, 'completeMemory', label);
      writeFileSync(file, replacement);
      ingester.ingestFile(file, reportDir);
      // Before, the stored row was overwritten: the panic erased from the count and the risk.
      assert.equal(reports.countPanics('completeMemory'), 1, label);
      assert.equal(reports.get(first!.id)?.kind, 'completeMemory', label);
      assert.equal(reports.list({}).length, 2, `${label}: the rewritten file is a row of its own`);
    }
  });

  it('says what is wrong with a directory it cannot list', async () => {
    const s = stores('e');
    const r = await scanDirectory(s.ingester, `${dir.path}/no-such-dir`);
    assert.match(r.error ?? '', /does not exist/);
    s.db.close();
  });
});
