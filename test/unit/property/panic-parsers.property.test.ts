import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPanicLine } from '../../../src/main/core/panics/panic-classifier.js';
import { parsePanicReport, parseReportTimestamp } from '../../../src/main/core/panics/panic-parser.js';
import { readContainer, readJsonString } from '../../../src/main/core/panics/report-container.js';
import { parseJetsamEvent, parseUserCrash } from '../../../src/main/core/panics/user-crash-parser.js';
import { fixture, listFixtures } from '../../support/fixtures.js';
import { wrapAsPanicFile } from '../../support/panic-file.js';
import { anyText, assertWellTyped, bounded, fc, mutated, RUNS } from '../../support/property.js';

const KINDS = ['completeMemory', 'iogpuSibling', 'watchdogTimeout', 'other', 'unknown'];
const FORMATS = ['json', 'json-truncated', 'escaped-text', 'text', 'empty', 'binary'];

const texts = [...listFixtures('panics'), ...listFixtures('macos/panic')].map((f) => fixture(f));
// The real container too: header line + JSON body, as macOS writes it.
const containers = listFixtures('panics')
  .filter((f) => !f.includes('itlwm'))
  .slice(0, 4)
  .map((f) => wrapAsPanicFile(fixture(f)));
const jetsam =
  '{"bug_type":"298","timestamp":"2026-04-23 09:00:00.00 +0000","os_version":"macOS 26.4.1 (25E253)"}\n' +
  JSON.stringify({
    date: '2026-04-23 09:00:00.00 +0000',
    largestProcess: 'python3.12',
    memoryStatus: { pageSize: 16384, memoryPages: { free: 1200 } },
    processes: [{ pid: 123, name: 'python3.12', reason: 'per-process-limit', rpages: 400000 }],
  });
const crash =
  '{"bug_type":"309","timestamp":"2026-04-23 09:00:00.00 +0000","app_name":"python3.12"}\n' +
  JSON.stringify({
    procName: 'python3.12',
    pid: 4242,
    parentPid: 1,
    procPath: '/opt/homebrew/bin/python3.12',
    captureTime: '2026-04-23 09:00:00.0000 +0000',
    exception: { type: 'EXC_CRASH', signal: 'SIGABRT' },
    asi: { 'libsystem_c.dylib': ['abort() called'] },
  });
const everything = [...texts, ...containers, jetsam, crash];
const inputs = fc.oneof(anyText, mutated(everything), mutated(containers));

function checkPanic(text: string): void {
  const p = bounded(() => parsePanicReport(text));
  assertWellTyped(p);
  assert.ok(KINDS.includes(p.kind), p.kind);
  assert.ok(FORMATS.includes(p.format), p.format);
  assert.equal(typeof p.hasPanicText, 'boolean');
  if (p.panicLine !== null) {
    assert.ok(p.panicLine.length <= 1000, `panic line of ${p.panicLine.length} chars`);
    assert.equal(p.kind, classifyPanicLine(p.panicLine));
    assert.ok(p.hasPanicText);
  } else assert.equal(p.kind, 'unknown');
  if (p.panicTime !== null) assert.ok(!Number.isNaN(Date.parse(p.panicTime)), p.panicTime);
  assert.ok(Array.isArray(p.excerpt) && p.excerpt.length <= 20);
  // What the ledger stores per report stays small whatever the file holds.
  assert.ok(JSON.stringify(p).length < 64 * 1024, `${JSON.stringify(p).length} bytes of PanicInfo`);
}

describe('panic parser and classifier: properties', () => {
  it('never throws, stays bounded and well-typed for arbitrary text and mutated real reports', () => {
    fc.assert(fc.property(inputs, checkPanic), { numRuns: RUNS });
  });

  it('one huge line in any field (a pasted blob) gives a small PanicInfo', () => {
    const blob = 'A'.repeat(200_000);
    fc.assert(
      fc.property(
        fc.constantFrom(
          'panic(cpu 1 caller 0x1): ',
          'OS version: ',
          'Compressor Info: ',
          'Panicked task 0x1: pid 7: ',
          '',
        ),
        (label) => checkPanic(`${label}${blob}\nKernel version: Darwin Kernel Version 25.4.0: ${blob}\n`),
      ),
      { numRuns: 5 },
    );
  });

  it('the report container never throws and names one of its formats', () => {
    fc.assert(
      fc.property(inputs, (text) => {
        const c = bounded(() => readContainer(text));
        assert.ok(FORMATS.includes(c.format));
        assert.ok(c.bugType === null || typeof c.bugType === 'string');
        for (const v of Object.values(c.bodyStrings)) assert.equal(typeof v, 'string');
      }),
      { numRuns: RUNS },
    );
  });

  it('a JSON string decodes like JSON.parse when it is valid, and never throws when it is not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const literal = JSON.stringify(s);
        assert.equal(readJsonString(literal, 1), s);
        bounded(() => readJsonString(literal.slice(0, -3), 1));
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(anyText, fc.integer({ min: -5, max: 500 }), (t, at) => {
        assert.equal(typeof bounded(() => readJsonString(t, at)), 'string');
      }),
      { numRuns: RUNS },
    );
  });

  it('the classifier takes any line and ignores where it was wrapped', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyText, mutated(texts.map((t) => t.split('\n').find((l) => l.includes('panic(cpu')) ?? t))),
        (line) => {
          const kind = bounded(() => classifyPanicLine(line));
          assert.ok(KINDS.includes(kind));
          assert.equal(classifyPanicLine(line.replace(/ /g, '\n')), kind);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('crash and JetsamEvent parsers never throw and return well-typed values or null', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mutated([jetsam, crash])), (text) => {
        assertWellTyped(bounded(() => parseUserCrash(text)));
        assertWellTyped(bounded(() => parseJetsamEvent(text)));
      }),
      { numRuns: RUNS },
    );
  });

  it('report timestamps: arbitrary strings give null or a valid ISO time', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          mutated([
            '2024-09-22 03:31:41.00 -0700',
            '2026-08-14 11:02:40 +0200',
            '2026-08-14T11:02:40.123456 -0000',
          ]),
        ),
        (s) => {
          const t = bounded(() => parseReportTimestamp(s));
          if (t !== null) assert.ok(!Number.isNaN(Date.parse(t)), t);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
