import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ReportNotices } from '../../../src/main/core/daemon/report-notices.js';
import { EventCollector } from '../../../src/main/core/event-collector.js';
import { NOT_A_PANIC } from '../../../src/main/core/panics/report-ingester.js';
import { ReportTally, skipKind } from '../../../src/main/core/panics/report-tally.js';
import type { ReportRecord } from '../../../src/shared/reports.js';

let ids = 0;
const row = (r: Partial<ReportRecord>): ReportRecord => {
  const id = ++ids;
  return {
    id,
    path: `/reports/r-${id}.panic`,
    name: `r-${id}.panic`,
    dir: '/reports',
    size: 10,
    mtime: 0,
    status: 'skipped',
    problem: null,
    category: 'other',
    bugType: null,
    kind: null,
    panicTime: null,
    pid: null,
    processName: null,
    attribution: null,
    info: null,
    ingestedAt: 0,
    ...r,
  };
};

const panic = (): ReportRecord =>
  row({ status: 'ingested', category: 'panic', bugType: '210', kind: 'completeMemory' });
const unreadable = (): ReportRecord =>
  row({ status: 'unreadable', category: null, problem: '/reports is not readable by this user' });

describe('the tally of new ledger rows', () => {
  it('names why a row is not told on its own, from a fixed set', () => {
    assert.equal(skipKind(panic()), null);
    assert.equal(skipKind(row({ status: 'ingested', category: 'jetsam' })), null);
    assert.equal(skipKind(unreadable()), 'unreadable');
    assert.equal(
      skipKind(row({ category: null, problem: 'x is not a regular file: not read' })),
      'not-a-file',
    );
    assert.equal(skipKind(row({ problem: NOT_A_PANIC, bugType: '210' })), 'not-a-panic');
    assert.equal(skipKind(row({ problem: 'no report header and no panic line' })), 'not-a-panic');
    // An outsider chooses the bug_type: every one is the same kind.
    for (const bug of ['288', '999', 'x'.repeat(100)])
      assert.equal(
        skipKind(row({ bugType: bug, problem: `bug_type ${bug} is not a report` })),
        'other-report',
      );
    assert.equal(skipKind(row({ category: 'crash', bugType: '309' })), 'unwatched-crash');
  });

  it('counts 100k skipped rows in a few groups of five examples, and lets the first reports through', () => {
    const t = new ReportTally(2, 5);
    for (let i = 0; i < 100_000; i++) assert.equal(t.add(row({ problem: NOT_A_PANIC })), false);
    assert.equal(t.add(panic()), true);
    assert.equal(t.add(panic()), true);
    assert.equal(t.add(panic()), false, 'past the first two');
    t.add(unreadable());
    const groups = t.take();
    assert.deepEqual(
      groups.map((g) => [g.kind, g.count, g.examples.length]),
      [
        ['not-a-panic', 100_000, 5],
        ['more-reports', 1, 1],
        ['unreadable', 1, 1],
      ],
    );
    assert.equal(groups[2]?.problem, '/reports is not readable by this user');
    assert.ok(t.empty);
    assert.equal(t.add(panic()), true, 'a new scan tells its first reports again');
  });
});

describe('what the daemon says of new rows', () => {
  const capture = () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    return { lines, logger };
  };

  it('one line (and for unreadable files one event) per kind at the end of a scan; each file at debug', () => {
    const { lines, logger } = capture();
    const events = new EventCollector(() => 0);
    const n = new ReportNotices({ events, logger, scanning: () => true, own: 1 });
    for (let i = 0; i < 1000; i++) n.add(unreadable());
    n.add(panic());
    n.add(panic());
    assert.equal(lines.filter((l) => l.level >= 30).length, 1, 'the first panic only, so far');
    n.flush();
    const said = lines.filter((l) => l.level >= 30).map((l) => l.msg);
    assert.equal(said.length, 3);
    assert.match(
      said[1] ?? '',
      /^1000 report files present but unreadable: r-\d+\.panic(, r-\d+\.panic){4}, … \(995 more\): \/reports is not readable/,
    );
    assert.match(said[2] ?? '', /^1 report file added past the ones named one by one/);
    assert.equal(lines.filter((l) => l.level === 20).length, 1001);
    assert.deepEqual(
      events.drain().map((e) => e.kind),
      ['panic.detected', 'report.unreadable', 'report.more'],
    );
    n.flush();
    assert.equal(lines.filter((l) => l.level >= 30).length, 3, 'nothing new, nothing said');
  });

  it('sums up rows outside a scan (the directory watch) once things are quiet', async () => {
    const { lines, logger } = capture();
    const events = new EventCollector(() => 0);
    const n = new ReportNotices({ events, logger, scanning: () => false, quietMs: 50 });
    for (let i = 0; i < 500; i++) n.add(row({ problem: NOT_A_PANIC }));
    assert.equal(lines.filter((l) => l.level >= 30).length, 0);
    await sleep(120);
    assert.deepEqual(
      lines.filter((l) => l.level >= 30).map((l) => /^\d+ report files [a-z]+/.exec(l.msg)?.[0]),
      ['500 report files skipped'],
    );
    assert.deepEqual(events.drain(), [], 'files macOS writes every day are no timeline event');
  });
});
