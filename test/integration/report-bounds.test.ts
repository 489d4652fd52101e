import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NOT_A_PANIC } from '../../src/main/core/panics/report-ingester.js';
import { scanDirectory } from '../../src/main/core/panics/report-scan.js';
import { fixture, repoRoot } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { reportStores } from '../support/report-stores.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;
const dir = tempDir();
after(dir.cleanup);

const stores = (name: string) => reportStores(`${dir.path}/${name}.db`, Date.UTC(2026, 3, 23));

/** The CLI from source (tsx), as a real child process: no build needed for this file. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src', 'main', 'headless', 'cli.ts'), ...args],
      { cwd: repoRoot, stdio: 'pipe' },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`exo-sentinel ${args.join(' ')} did not finish\n${stderr}`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a 60 MB report costs a few MiB (child process, real file, real store)', () => {
  const panicText = fixture('panics/omlx-300-1.panic.txt');
  const stackshot = 'QUJD'.repeat(15 * MiB);
  const layouts = {
    // Apple silicon: panicString near the start, then 60 MB of body.
    'apple-silicon': `${wrapAsPanicFile(panicText).slice(0, -1)},"stackshot":"${stackshot}"}`,
    // Intel: the panic string comes after a 60 MB stackshot.
    intel: wrapAsPanicFile(panicText, { intel: true }).replace('c3RhY2tzaG90', stackshot),
  };
  for (const [layout, text] of Object.entries(layouts)) {
    it(`${layout}: RSS grows by at most 64 MiB and the panic is still classified`, () => {
      const reportDir = `${dir.path}/big-${layout}`;
      const dataDir = `${dir.path}/big-data-${layout}`;
      mkdirSync(reportDir);
      mkdirSync(dataDir);
      const file = `${reportDir}/panic-full-2026-04-23-100000.0001.panic`;
      writeFileSync(file, text);
      const r = spawnSync(
        process.execPath,
        [
          '--expose-gc',
          '--import',
          'tsx',
          join(repoRoot, 'test', 'support', 'ingest-rss-child.ts'),
          file,
          dataDir,
        ],
        { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        rssBefore: number;
        peakAfter: number;
        ms: number;
        status: string;
        kind: string;
        truncatedRead: boolean;
      };
      const growth = m.peakAfter - m.rssBefore;
      assert.ok(text.length > 60 * MiB);
      assert.ok(growth <= 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
      assert.deepEqual([m.status, m.kind, m.truncatedRead], ['ingested', 'completeMemory', true]);
      assert.ok(m.ms < 10_000, `took ${m.ms} ms`);
    });
  }
});

describe('a file with no panic text is not a kernel panic', () => {
  it('is kept in the ledger (never re-read) and never counted or listed as a panic', async () => {
    const reportDir = `${dir.path}/not-panics`;
    mkdirSync(reportDir);
    const header =
      '{"bug_type":"210","timestamp":"2026-04-23 10:00:00.00 +0000","os_version":"macOS 26.4.1 (25E253)"}';
    const files = {
      'panic-full-2026-04-23-100001.0001.panic': `${header}\n`,
      'panic-full-2026-04-23-100002.0001.panic': `${header}\n{"build":"macOS 26.4.1 (25E253)","panicString":""}`,
      'panic-full-2026-04-23-100003.0001.panic': 'the disk was full when this was written\n',
      'panic-full-2026-04-23-100004.0001.panic': wrapAsPanicFile(fixture('panics/omlx-300-2.panic.txt')),
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(`${reportDir}/${name}`, text);
    const s = stores('not-panics');
    const first = await scanDirectory(s.ingester, reportDir);
    assert.equal(first.added.length, 4);
    const notPanics = first.added.filter((r) => r.problem === NOT_A_PANIC);
    assert.deepEqual(
      notPanics.map((r) => [r.name, r.status, r.category, r.kind]),
      Object.keys(files)
        .slice(0, 3)
        .reverse() // Panic-named files are read newest first.
        .map((n) => [n, 'skipped', 'other', null]),
    );
    assert.equal((await scanDirectory(s.ingester, reportDir)).added.length, 0, 'never read again');
    assert.deepEqual(
      s.reports.list({ category: 'panic' }).map((r) => r.kind),
      ['completeMemory'],
    );
    assert.equal(s.reports.countPanics('unknown'), 0);
    assert.equal(s.reports.countPanics('completeMemory'), 1);
    assert.equal(s.reports.countPanics(['iogpuSibling', 'completeMemory']), 1, 'any of several kinds');
    assert.equal(s.reports.countPanics(['iogpuSibling', 'other']), 0);
    assert.equal(s.reports.countPanics([]), 0);
    assert.equal(s.reports.countPanics(['completeMemory'], Date.UTC(2099, 0, 1)), 0, 'none since then');
    s.db.close();
  });

  it('a mid-report excerpt with panic log fields but no panic line is still a panic of kind unknown', async () => {
    const reportDir = `${dir.path}/unknown`;
    mkdirSync(reportDir);
    writeFileSync(
      `${reportDir}/panic-full-2026-04-23-100005.0001.panic`,
      wrapAsPanicFile(
        'Compressor Info: 100% of compressed pages limit (BAD) and 100% of segments limit (BAD) with 78 swapfiles and BAD swap space\nPanicked task 0xfffffe0: 0 pages, 1 threads: pid 0: kernel_task\n',
      ),
    );
    const s = stores('unknown');
    const [r] = (await scanDirectory(s.ingester, reportDir)).added;
    assert.deepEqual([r?.status, r?.category, r?.kind], ['ingested', 'panic', 'unknown']);
    s.db.close();
  });
});

describe('pasted copies (.txt) through the CLI', () => {
  it('panics scan --dir reads *.txt, says which names it read, and inspect tells a non-panic apart', async () => {
    const reportDir = `${dir.path}/pasted`;
    const dataDir = `${dir.path}/pasted-data`;
    mkdirSync(reportDir);
    writeFileSync(`${reportDir}/omlx-300-1.panic.txt`, fixture('panics/omlx-300-1.panic.txt'));
    // A watchdog panic pasted from a web page, its panic line wrapped mid-phrase.
    writeFileSync(
      `${reportDir}/watchdog-pasted.txt`,
      'panic(cpu 0 caller 0xfffffe00427add7c): watchdog timeout: no checkins from\nwatchdogd in 93 seconds (224 total checkins since monitoring last enabled)\nDebugger message: panic\nPanicked task 0xfffffe1: 0 pages, 1 threads: pid 0: kernel_task\n',
    );
    writeFileSync(`${reportDir}/notes.txt`, 'remember to file the radar\n');
    writeFileSync(`${reportDir}/ignored.log`, 'panic(cpu 1 caller 0x1): "x" @IOGPUMemory.cpp:550\n');

    const help = await cli(['panics', 'scan', '--help']);
    assert.match(help.stdout, /\*\.panic, \*\.ips, \*\.txt/);
    const inspectHelp = await cli(['panics', 'inspect', '--help']);
    assert.match(inspectHelp.stdout, /pasted copy of one \(\.txt/);

    const scan = await cli(['panics', 'scan', '--dir', reportDir, '--data-dir', dataDir]);
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stdout, /: 3 files \(\*\.panic, \*\.ips, \*\.txt\), 3 new, 1 not a kernel panic/);
    const list = JSON.parse(
      (await cli(['panics', 'list', '--json', '--data-dir', dataDir])).stdout,
    ) as Array<{
      name: string;
      kind: string;
      pid: number | null;
    }>;
    assert.deepEqual(list.map((r) => [r.name, r.kind]).sort(), [
      ['omlx-300-1.panic.txt', 'completeMemory'],
      ['watchdog-pasted.txt', 'watchdogTimeout'],
    ]);

    const notes = await cli(['panics', 'inspect', `${reportDir}/notes.txt`]);
    assert.equal(notes.code, 0, notes.stderr);
    assert.match(notes.stdout, /notes\.txt: not a kernel panic: no panic line/);
    const notesJson = JSON.parse(
      (await cli(['panics', 'inspect', '--json', `${reportDir}/notes.txt`])).stdout,
    );
    assert.deepEqual([notesJson.category, notesJson.hasPanicText], ['other', false]);
    const wd = await cli(['panics', 'inspect', `${reportDir}/watchdog-pasted.txt`]);
    assert.match(wd.stdout, /^kind {10}watchdogTimeout$/m);
  });
});
