import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { reportWatchingDaemon } from '../support/local-daemon.js';
import { writeFlood } from '../support/report-flood.js';
import { tempDir } from '../support/temp-dir.js';

interface Line {
  level: number;
  msg: string;
}

/** Junk of every kind a scan skips, named `j-…` (FIFOs and links out of the directory: `not-a-file`). */
function junk(reports: string, n: number, tag: string): number {
  mkdirSync(reports, { recursive: true });
  for (let i = 0; i < n; i++) {
    const id = `${tag}${String(i).padStart(6, '0')}`;
    if (i % 3 === 0) writeFileSync(join(reports, `j-${id}.panic`), `junk ${id}\n`);
    else if (i % 3 === 1)
      writeFileSync(join(reports, `j-${id}.ips`), `{"bug_type":"288","name":"${id}"}\n{}`);
    else writeFileSync(join(reports, `j-${id}.ips`), `{"bug_type":"309","name":"${id}"}\n{}`);
  }
  for (let i = 0; i < 10; i++) {
    execFileSync('mkfifo', [join(reports, `j-${tag}fifo-${i}.panic`)]);
    symlinkSync('/etc/passwd', join(reports, `j-${tag}link-${i}.ips`));
  }
  return n + 20;
}

const KINDS = 4; // not-a-panic, other-report, unwatched-crash, not-a-file

describe('a report directory an outsider filled with junk (the daemon in-process, its log captured)', () => {
  it('logs one line per kind of skip per scan, not one per file, and says nothing again on rescans', async () => {
    const dir = tempDir('exo-sentinel-log-flood-');
    const reports = join(dir.path, 'reports');
    const files = junk(reports, 6000, 'a');
    // 120 distinct kernel panics: the first 50 of a scan are told one by one, the rest summed up.
    writeFlood(reports, { panics: 120, others: 0 });
    const lines: Line[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
    const dataDir = join(dir.path, 'data');
    const daemon = await reportWatchingDaemon({
      dataDir,
      reports,
      config: { intervalSeconds: 0.5, api: { enabled: false } },
      logger,
    });
    const junkLines = (level: (l: number) => boolean): Line[] =>
      lines.filter((l) => level(l.level) && /\bj-a|\bj-b/.test(l.msg));
    const info = (l: number): boolean => l >= 30;
    try {
      const begun = await daemon.begin();
      assert.ok(begun.ok, begun.ok ? '' : begun.error);
      daemon.start();
      await daemon.reportsScanned();
      const first = junkLines(info);
      assert.equal(first.length, KINDS, first.map((l) => l.msg).join('\n'));
      for (const l of first) assert.ok(l.msg.split('j-').length - 1 <= 5, `at most 5 names: ${l.msg}`);
      const counted = first.map((l) => Number(/^(\d+) report file/.exec(l.msg)?.[1]));
      assert.equal(
        counted.reduce((a, b) => a + b, 0),
        files,
        'every file counted',
      );
      assert.ok(junkLines((l) => l === 20).length >= files, 'each file is still told at debug level');

      // A rescan of the same files reads none of them again (the ledger has each): nothing more is said.
      const said = lines.length;
      await daemon.service.scanPanics();
      assert.deepEqual(
        lines
          .slice(said)
          .filter((l) => info(l.level) && /report/.test(l.msg))
          .map((l) => l.msg),
        [],
      );

      // More junk while the daemon runs (the directory watch, then a rescan): one line per kind again.
      junk(reports, 3000, 'b');
      await sleep(1500);
      const before = junkLines(info).length;
      await daemon.service.scanPanics();
      const more = junkLines(info).slice(before);
      assert.ok(more.length <= KINDS, more.map((l) => l.msg).join('\n'));
    } finally {
      await daemon.stop('test');
    }
    const db = openDatabase(join(dataDir, 'timeline.db'), { readonly: true });
    const store = new TimelineStore(db);
    const kinds = (prefix: string) => store.events(0, Date.now() + 1000, prefix).map((e) => e.kind);
    const reportEvents = kinds('report.');
    const panicEvents = kinds('panic.');
    db.close();
    dir.cleanup();
    assert.ok(
      reportEvents.filter((k) => k === 'report.not-read').length <= 2,
      `FIFOs and links out of the directory: one event per scan that found some (${reportEvents.join(', ')})`,
    );
    assert.equal(reportEvents.filter((k) => k === 'report.more').length, 1, '70 panics past the first 50');
    assert.equal(panicEvents.length, 50, 'the first 50 panics of the scan each have their event');
  });
});
