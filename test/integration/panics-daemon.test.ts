import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { startFakeExoTree } from '../support/fake-exo-tree.js';
import { fixture } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';

interface Listed {
  id: number;
  kind: string;
  pid: number;
  panicTime: number;
  status: string;
  attribution: { verdict: string; confidence: string } | null;
}

const list = async (dataDir: string): Promise<Listed[]> =>
  JSON.parse((await runCli(['panics', 'list', '--json', '--data-dir', dataDir])).stdout) as Listed[];

/**
 * The exo-1348 header with the panicked-task lines a full report carries, naming `pid`. The fixture is an
 * excerpt of a panicString (the reporter posted the first block only); the tests wrap it in the .panic
 * container macOS writes.
 */
const panicNaming = (pid: number): string =>
  fixture('panics/exo-1348-1.panic.txt').replace(
    'TXM load address: 0xfffffe002dd7c000',
    `TXM load address: 0xfffffe002dd7c000\nCompressor Info: 0% of compressed pages limit (OK) and 0% of segments limit (OK) with 0 swapfiles and OK swap space\nPanicked task 0xfffffe2adb458ec0: 127674 pages, 31 threads: pid ${pid}: exo\nPanicked thread: 0xfffffe2f99fbb3c8, backtrace: 0xfffffe8de993ec80, tid: 18654`,
  );

describe('panic reports with the daemon running', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('ingests a dropped report within 5 s, attributes it, and writes the crash report with the minutes before', async () => {
    const reports = `${dir.path}/DiagnosticReports`;
    const dataDir = `${dir.path}/data`;
    mkdirSync(reports);
    const tree = await startFakeExoTree(`${dir.path}/exo`, { runners: 1, runnerMiB: 48 });
    const runnerPid = tree.children.runners[0]!;
    const daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--reports-dir', reports]);
    try {
      await sleep(3000);
      const panicAt = Date.now();
      const dropped = Date.now();
      writeFileSync(
        `${reports}/panic-full-2026-11-26-000000.0002.panic`,
        wrapAsPanicFile(panicNaming(runnerPid), { time: panicAt }),
      );
      let found: Listed[] = [];
      while (Date.now() - dropped < 5000) {
        found = await list(dataDir);
        if (found.length) break;
        await sleep(200);
      }
      const latency = Date.now() - dropped;
      assert.equal(found.length, 1, `not listed within 5 s (${latency} ms)`);
      assert.equal(found[0]?.kind, 'completeMemory');
      assert.equal(found[0]?.pid, runnerPid);
      assert.equal(
        found[0]?.panicTime,
        Math.floor(panicAt / 10) * 10,
        'panic time from the body (centiseconds)',
      );
      assert.deepEqual(
        found[0]?.attribution && [found[0].attribution.verdict, found[0].attribution.confidence],
        ['exo-runner', 'exact'],
      );

      const report = await runCli(['report', '--latest', '--data-dir', dataDir]);
      assert.equal(report.code, 0, report.stderr);
      const md = report.stdout;
      assert.match(md, /^# Kernel panic on .+: IOGPUFamily completeMemory\(\) prepare count underflow$/m);
      assert.match(
        md,
        new RegExp(
          `\\*\\*Panicked task:\\*\\* pid ${runnerPid} \`exo\` — pid ${runnerPid} \\(exo\\) was exo-runner, last seen \\d+ s before the panic \\(exact\\)`,
        ),
      );
      assert.match(md, /\| macOS \| .* \(25C56\) \|/);
      assert.match(md, /\| Darwin \/ xnu \| 25\.2\.0 \/ xnu-12377\.61\.12~1 \|/);
      assert.match(md, /\| Kernel family \| T6041 /);
      assert.match(md, /\| EXO version \| unknown \|/);
      assert.match(md, /Compressor Info: 0% of compressed pages limit/);
      // The pre-panic table: the last minute rows hold the recorded figures.
      const rows = md.split('\n').filter((l) => /^\| \d\d:\d\d \|/.test(l));
      assert.equal(rows.length, 15);
      const withData = rows.filter((l) => !/^\| \d\d:\d\d \| — \|/.test(l));
      assert.ok(withData.length >= 1 && withData.length <= 2, `rows with data: ${withData.length}`);
      assert.match(
        withData[withData.length - 1]!,
        /\| 0\.\d GiB \|$/,
        'runner footprint (48 MiB) is in the row',
      );
      assert.match(md, /\*\*process\.started\*\* exo-runner pid/);
      assert.match(md, /wired % of RAM\s+\|[ ▁▂▃▄▅▆▇█]{30}\|/);
      assert.match(md, /this machine has had 1 panic of this kind \(1 in the last 72 h\)/);
      assert.doesNotMatch(md, /hf_[A-Za-z0-9]{8}|Bearer /);

      // A recent IOGPU panic puts the node in the post-panic hold: requests serialised until a person acknowledges.
      const held = async () => JSON.parse((await runCli(['status', '--json', '--data-dir', dataDir])).stdout);
      let st = await held();
      for (let i = 0; i < 20 && st.guardMode !== 'serialise'; i++) {
        await sleep(250);
        st = await held();
      }
      assert.match(st.hold?.reason ?? '', /^completeMemory kernel panic at .* \(report 1\)$/);
      assert.equal(st.guardMode, 'serialise');
      assert.ok(st.risk.daemon.reasons.some((r: { signal: string }) => r.signal === 'post-panic-hold'));
      const ack = await runCli(['ack', '--data-dir', dataDir]);
      assert.equal(ack.code, 0, ack.stderr);
      assert.match(ack.stdout, /^post-panic hold ended \(it began .*: completeMemory kernel panic at/);
      assert.equal((await held()).hold, null);
      assert.equal((await runCli(['ack', '--data-dir', dataDir])).stdout, 'no post-panic hold is active\n');
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
      await tree.stop();
    }
  });

  it('ingests a report written while the daemon was down at the next start, exactly once across restarts', async () => {
    const reports = `${dir.path}/DiagnosticReports2`;
    const dataDir = `${dir.path}/data2`;
    mkdirSync(reports);
    const first = await startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--reports-dir', reports]);
    await sleep(800);
    first.kill('SIGTERM');
    await waitForExit(first);
    // Written "after the reboot", before anything of ours runs. The fixture is an excerpt of a
    // panicString; wrapAsPanicFile puts it in the .panic container macOS writes.
    writeFileSync(
      `${reports}/panic-full-2026-05-23-101500.0002.panic`,
      wrapAsPanicFile(fixture('panics/omlx-1372-1.panic.txt'), { date: '2026-05-23 10:14:40.00 +0200' }),
    );
    for (let i = 0; i < 2; i++) {
      const d = await startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--reports-dir', reports]);
      await sleep(1200);
      d.kill('SIGTERM');
      assert.equal((await waitForExit(d)).code, 0);
    }
    const found = await list(dataDir);
    assert.deepEqual(
      found.map((r) => [r.kind, r.panicTime]),
      [['watchdogTimeout', Date.UTC(2026, 4, 23, 8, 14, 40)]],
    );
    const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
    const events = new TimelineStore(db).events(0, Date.now() + 1000, 'panic.');
    db.close();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.severity, 'warning', 'a watchdog panic is not an IOGPU panic');
    assert.match(events[0]?.message ?? '', /kernel panic \(watchdogTimeout\) at 2026-05-23T08:14:40\.000Z/);
  });
});
