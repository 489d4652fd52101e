import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  epochHex,
  fieldValue,
  hasPanicText,
  kernelVersion,
  panickedTask,
  panickedThreadTid,
} from '../../../src/main/core/panics/panic-fields.js';
import { lineStart, linesFrom, panicLines } from '../../../src/main/core/panics/panic-lines.js';
import { parsePanicReport } from '../../../src/main/core/panics/panic-parser.js';
import { fixture, listFixtures } from '../../support/fixtures.js';
import { wrapAsPanicFile } from '../../support/panic-file.js';
import { fc } from '../../support/property.js';

/** The expressions the parser used before (quadratic on hostile text): what the lookups must still find. */
const before = {
  field(text: string, label: string): string | null {
    return new RegExp(`^\\s*${label}:\\s*(.+?)\\s*$`, 'm').exec(text)?.[1] ?? null;
  },
  epoch(text: string, label: string): [string, string] | null {
    const m = new RegExp(`^\\s*${label}\\s*:\\s*0x([0-9a-fA-F]+)\\s+0x([0-9a-fA-F]+)`, 'm').exec(text);
    return m ? [m[1]!, m[2]!] : null;
  },
  panicText: (text: string): boolean =>
    /panic\(cpu|^\s*Panicked (?:task|thread)|^\s*Compressor Info:|^\s*Paniclog version:|^\s*Debugger message:|Darwin Kernel Version|^\s*Epoch Time:|^\s*Kernel Extensions in backtrace|^\s*Backtrace \(CPU/m.test(
      text,
    ),
  task(text: string) {
    const m =
      /Panicked task(?: 0x[0-9a-fA-F]+)?:\s*(?:(\d+) pages, (\d+) threads:\s*)?pid (\d+):\s*(.+?)\s*$/m.exec(
        text,
      );
    return m ? { pages: m[1], threads: m[2], pid: m[3]!, name: m[4]! } : null;
  },
  tid(text: string): number | null {
    const m = /Panicked thread:.*\btid:\s*(\d+)/.exec(text);
    return m ? Number(m[1]) : null;
  },
  kernel(text: string) {
    const m =
      /Darwin Kernel Version (\d+\.\d+(?:\.\d+)?)[^;]*;\s*root:xnu-([\w.~-]+?)\/RELEASE_\w+?(?:_(T\d{4}))?\b/.exec(
        text,
      );
    return m ? { darwin: m[1]!, xnu: m[2]!, family: m[3] } : null;
  },
};

function assertSame(text: string): void {
  for (const label of ['OS version', 'Paniclog version']) {
    assert.deepEqual(
      fieldValue(text, label),
      before.field(text, label),
      `${label} in ${JSON.stringify(text)}`,
    );
  }
  for (const label of ['Calendar', 'Boot'])
    assert.deepEqual(epochHex(text, label), before.epoch(text, label), `${label} in ${JSON.stringify(text)}`);
  assert.equal(hasPanicText(text), before.panicText(text), JSON.stringify(text));
  assert.deepEqual(panickedTask(text), before.task(text), JSON.stringify(text));
  assert.equal(panickedThreadTid(text), before.tid(text), JSON.stringify(text));
  assert.deepEqual(kernelVersion(text), before.kernel(text), JSON.stringify(text));
}

const TOKENS = [
  'Panicked task',
  'Panicked thread:',
  ' 0xfffffe2adb458ec0',
  ':',
  ': ',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '\u2028',
  '\u00a0',
  'tid:',
  'tid: ',
  ' tid: 18654',
  'xtid:',
  '127674',
  '31',
  'pid ',
  ' pages, ',
  ' threads: ',
  'exo',
  'Python 3.12',
  'Darwin Kernel Version ',
  '25.2.0',
  '25.2',
  '.1',
  ': Tue Nov 18 21:07:05 PST 2025',
  ';',
  ' root:xnu-',
  'root:xnu-',
  '12377.61.12~1',
  '/RELEASE_ARM64_T6041',
  '/RELEASE_',
  'ARM64',
  '_T6041',
  'OS version',
  'Paniclog version',
  'Calendar',
  'Boot',
  ' 0x',
  '0x6950c9a1',
  'Compressor Info:',
  'Debugger message:',
  'Epoch Time:',
  'Backtrace (CPU',
  'panic(cpu',
  'x',
];

describe('panic log field lookups', () => {
  it('find what the old expressions found in every fixture, raw and wrapped as macOS writes it', () => {
    for (const f of listFixtures('panics')) {
      const text = fixture(f);
      assertSame(text);
      const p = parsePanicReport(wrapAsPanicFile(text));
      assert.ok(p.hasPanicText, f);
    }
  });

  it('find what the old expressions found in any text made of the pieces of a panic log', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }), (parts) =>
        assertSame(parts.join('')),
      ),
      { numRuns: 3000 },
    );
  });

  it('take time in proportion to the text: 2 MiB of hostile text parses in well under a second', () => {
    const header = `${JSON.stringify({ bug_type: '210', timestamp: '2026-04-23 10:00:00.00 +0000' })}\n`;
    const n = 2 * 1024 * 1024;
    const fill = (unit: string): string => unit.repeat(Math.ceil(n / unit.length));
    // Before: 64 KiB of newlines took 22 s, of `\r` 25 s, 64 KiB of blanks after `OS version: a` 11 s
    // (2 MiB: hours); a label repeated on one line or without a `;` rescanned the rest for each.
    const hostile: Record<string, string> = {
      newlines: fill('\n'),
      returns: fill('\r'),
      'newline and blank': fill('\n '),
      'blanks after a field': `OS version: a${fill(' ')}b`,
      'blanks after a task': `Panicked task: pid 1: a${fill(' ')}b`,
      'a thread label repeated on one line': fill('Panicked thread: '),
      'tids after one thread label': `Panicked thread: ${fill('tid: ')}`,
      'kernel versions without a semicolon': fill('Darwin Kernel Version 1.1 '),
      'kernel versions sharing one semicolon': `${fill('Darwin Kernel Version 1.1 ')};${fill('root:xnu-a')}`,
      'task labels without a pid': fill('Panicked task: '),
    };
    for (const [what, body] of Object.entries(hostile)) {
      const t = performance.now();
      parsePanicReport(header + body);
      const ms = performance.now() - t;
      assert.ok(ms < 1000, `${what}: ${Math.round(ms)} ms`);
    }
  });

  it('cut the lines the parser reads as splitting, filtering and joining every line did', () => {
    const piece = fc.constantFrom(
      'a',
      ' ',
      '\n',
      '\r',
      '\r\n',
      '[... gap: 3 lines]',
      '[... gap: x',
      ' [... gap: 1] ',
      'panic(cpu 0',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.nat({ max: 40 }), (parts, n) => {
        const raw = parts.join('');
        const lines = raw.split(/\r?\n/).filter((l) => !/^\[\.\.\. gap: .*\]$/.test(l.trim()));
        const kept = panicLines(raw);
        assert.equal(kept.text, lines.join('\n'));
        assert.equal(kept.none, lines.length === 0);
        assert.deepEqual(linesFrom(kept, 0, 1000), lines);
        const at = kept.text.indexOf('panic(cpu');
        if (at >= 0) {
          const index = kept.text.slice(0, at).split('\n').length - 1;
          assert.deepEqual(linesFrom(kept, lineStart(kept.text, at), n), lines.slice(index, index + n));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
