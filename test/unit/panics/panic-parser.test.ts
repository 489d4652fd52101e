import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPanicLine } from '../../../src/main/core/panics/panic-classifier.js';
import { parsePanicReport, parseReportTimestamp } from '../../../src/main/core/panics/panic-parser.js';
import { readContainer } from '../../../src/main/core/panics/report-container.js';
import { fixture, listFixtures } from '../../support/fixtures.js';
import { wrapAsPanicFile } from '../../support/panic-file.js';

type Expect = Partial<{
  kind: string;
  osBuild: string | null;
  darwinVersion: string | null;
  xnuVersion: string | null;
  kernelFamily: string | null;
  paniclogVersion: number | null;
  process: { pid: number; name: string } | null;
  task: { pages: number | null; threads: number | null } | null;
  tid: number | null;
  cpu: number | null;
  iogpuFamilyVersion: string | null;
  panicTime: string | null;
  bootTime: string | null;
}>;

/** As SOURCES.md classifies them (its "other (watchdog)" is the watchdogTimeout kind), with the fields each holds. */
const EXPECTED: Record<string, Expect> = {
  'exo-1348-1.panic.txt': {
    kind: 'completeMemory',
    osBuild: '25C56',
    darwinVersion: '25.2.0',
    xnuVersion: '12377.61.12~1',
    kernelFamily: 'T6041',
    paniclogVersion: 15,
    cpu: 9,
    process: null,
  },
  'omlx-300-1.panic.txt': {
    kind: 'completeMemory',
    osBuild: '25D125',
    darwinVersion: '25.3.0',
    kernelFamily: 'T8132',
    cpu: 6,
    iogpuFamilyVersion: null,
  },
  'omlx-300-2.panic.txt': {
    kind: 'completeMemory',
    osBuild: '25D125',
    kernelFamily: 'T8132',
    cpu: 0,
    bootTime: new Date(0x69bb0e38 * 1000 + Math.floor(0x00055309 / 1000)).toISOString(),
    panicTime: null,
  },
  'omlx-300-3.panic.txt': {
    kind: 'completeMemory',
    osBuild: '25D125',
    kernelFamily: 'T8132',
    cpu: 9,
    panicTime: null,
    bootTime: null,
  },
  'omlx-300-4.panic.txt': {
    kind: 'completeMemory',
    osBuild: '24G517',
    darwinVersion: '24.6.0',
    xnuVersion: '11417.140.69.708.3~1',
    kernelFamily: 'T6041',
    paniclogVersion: 14,
    cpu: 7,
  },
  'omlx-300-5.panic.txt': {
    kind: 'completeMemory',
    osBuild: '25E253',
    darwinVersion: '25.4.0',
    kernelFamily: 'T6020',
    cpu: 5,
  },
  'omlx-300-6.panic.txt': { kind: 'completeMemory', osBuild: '25E253', kernelFamily: 'T6000', cpu: 7 },
  'omlx-248-1.panic.txt': {
    kind: 'completeMemory',
    osBuild: '25D2128',
    darwinVersion: '25.3.0',
    xnuVersion: '12377.91.3~2',
    kernelFamily: 'T8132',
    cpu: 7,
  },
  'omlx-423-1.panic.txt': { kind: 'completeMemory', osBuild: '25D2128', kernelFamily: 'T8132', cpu: 6 },
  'omlx-457-1.panic.txt': {
    kind: 'completeMemory',
    osBuild: '25D125',
    kernelFamily: 'T6000',
    iogpuFamilyVersion: '129.3.2',
    panicTime: '2026-03-29T11:48:26.909Z',
    cpu: 2,
  },
  'omlx-1265-1.panic.txt': { kind: 'completeMemory', osBuild: '25E253', kernelFamily: 'T6031', cpu: 10 },
  'mlx-3186-1.panic.txt': {
    kind: 'completeMemory',
    process: { pid: 50218, name: 'Python' },
    task: { pages: 367197, threads: 25 },
    iogpuFamilyVersion: '130.13',
    osBuild: null,
    cpu: 8,
  },
  'vmlx-11-1.panic.txt': {
    kind: 'completeMemory',
    process: { pid: 49042, name: 'python3.13' },
    task: { pages: null, threads: null },
    cpu: 10,
  },
  'omlx-1372-1.panic.txt': { kind: 'watchdogTimeout', osBuild: '25E253', kernelFamily: 'T6050', cpu: 0 },
  'omlx-1265-2.panic.txt': { kind: 'iogpuSibling', osBuild: '25E253', kernelFamily: 'T8132', cpu: 9 },
  'omlx-511-1.panic.txt': {
    kind: 'other',
    kernelFamily: 'T6031',
    process: { pid: 31609, name: 'python3' },
    task: { pages: 10211229, threads: 49 },
    tid: 687292,
    cpu: 6,
  },
  'itlwm-1010-1.panic.txt': {
    kind: 'other',
    osBuild: '21H1320',
    kernelFamily: null,
    panicTime: '2024-09-22T10:31:41.000Z',
    cpu: 2,
  },
  'minimal-1222-1.panic.txt': { kind: 'other', cpu: 6, osBuild: null },
};

function check(name: string, got: ReturnType<typeof parsePanicReport>, exp: Expect): void {
  for (const [k, v] of Object.entries(exp)) assert.deepEqual(got[k as keyof typeof got], v, `${name}: ${k}`);
}

describe('panic parser on every fixture in fixtures/panics', () => {
  const files = listFixtures('panics');
  it('has an expectation for every fixture (13 completeMemory, 1 sibling, 1 watchdog, 3 other)', () => {
    assert.deepEqual(files.map((f) => f.split('/').pop()).sort(), Object.keys(EXPECTED).sort());
    const kinds = Object.values(EXPECTED).map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === 'completeMemory').length, 13);
    assert.equal(kinds.filter((k) => k === 'iogpuSibling').length, 1);
    assert.equal(kinds.filter((k) => k === 'watchdogTimeout').length, 1);
    assert.equal(kinds.filter((k) => k === 'other').length, 3);
  });

  for (const file of files) {
    const name = file.split('/').pop()!;
    const exp = EXPECTED[name]!;
    it(`${name} as given: ${exp.kind}`, () => {
      check(name, parsePanicReport(fixture(file)), exp);
    });
    it(`${name} wrapped in a real .panic container (header line + body with panicString)`, () => {
      const text = fixture(file);
      // itlwm-1010-1 already is the container (Intel layout); the others are panicString excerpts.
      const wrapped = name.startsWith('itlwm')
        ? text
        : wrapAsPanicFile(text, { date: '2026-04-23 10:00:00.00 +0200' });
      const got = parsePanicReport(wrapped);
      assert.equal(got.bugType, '210');
      const expected = { ...exp };
      if (!name.startsWith('itlwm')) {
        // The body `date` is preferred over the Epoch Calendar and names the panic time.
        expected.panicTime = '2026-04-23T08:00:00.000Z';
        // Where the excerpt lacks `OS version:`, the header's os_version supplies the build.
        if (expected.osBuild === null) expected.osBuild = '25E253';
        assert.equal(got.osVersion, '26.4.1');
        assert.equal(got.panicTimeSource, 'body.date');
        assert.equal(got.format, 'json');
      } else assert.equal(got.format, 'json-truncated');
      check(name, got, expected);
    });
  }

  it('a right-to-left override or a control character in the task name or panic line does not change how they read', () => {
    const text = fixture('panics/mlx-3186-1.panic.txt')
      .replace(
        /Panicked task (0x[0-9a-f]+): (\d+) pages, (\d+) threads: pid 50218: Python/,
        'Panicked task $1: $2 pages, $3 threads: pid 50218: \u202eevil\u202c\u0007',
      )
      .replace('@IOGPUMemory.cpp:550', '@IOGPUMemory.cpp:550 \u2066\u200f');
    assert.notEqual(text, fixture('panics/mlx-3186-1.panic.txt'), 'the fixture has both');
    const p = parsePanicReport(wrapAsPanicFile(text));
    assert.equal(p.process?.name, ' evil  ');
    assert.match(p.panicLine ?? '', /@IOGPUMemory\.cpp:550 {3}$/);
    assert.equal(p.kind, 'completeMemory');
    assert.doesNotMatch(JSON.stringify(p), /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u0007]/);
  });

  it('never takes the gap marker or the caller address for anything', () => {
    const p = parsePanicReport(fixture('panics/omlx-1265-1.panic.txt'));
    assert.ok(!p.excerpt.some((l) => l.includes('[... gap')));
    const moved = fixture('panics/exo-1348-1.panic.txt').replace('0xfffffe0041eca7ec', '0xfffffe00deadbeef');
    assert.equal(parsePanicReport(moved).kind, 'completeMemory');
  });
});

describe('panic fixtures from fixtures/macos/panic', () => {
  it('reads the JSON-escaped panicString excerpt (Dota 2 report): no panic line, IOGPUFamily 129.2.10', () => {
    const p = parsePanicReport(
      fixture(
        'macos/panic/panic-ips-json-panicString.kext-backtrace.IOGPUFamily-129.2.10.AGXG15S.dota2-issue3371.EXCERPT.txt',
      ),
    );
    assert.equal(p.format, 'escaped-text');
    assert.equal(p.kind, 'unknown');
    assert.equal(p.iogpuFamilyVersion, '129.2.10');
  });
  it('reads the macOS 15 line-492 header and the M2 Max 26.4.1 header', () => {
    const p492 = parsePanicReport(
      fixture(
        'macos/panic/panic-completeMemory.t6041.macos15-24G517.IOGPUMemory492.omlx-issue300.EXCERPT.txt',
      ),
    );
    assert.deepEqual([p492.kind, p492.osBuild, p492.paniclogVersion], ['completeMemory', '24G517', 14]);
    const m2 = parsePanicReport(
      fixture(
        'macos/panic/panic-completeMemory.m2max-64gb-t6020.macos26.4.1-25E253.omlx-issue300.EXCERPT.txt',
      ),
    );
    assert.deepEqual([m2.kind, m2.kernelFamily, m2.osBuild], ['completeMemory', 'T6020', '25E253']);
  });
});

describe('panic parser robustness', () => {
  it('classifies the panic line by text and source file, at any line number', () => {
    assert.equal(
      classifyPanicLine(
        'panic(cpu 1 caller 0x1): "completeMemory() prepare count underflow" @IOGPUMemory.cpp:600',
      ),
      'completeMemory',
    );
    assert.equal(
      classifyPanicLine(
        'panic(cpu 0): "IOGPUGroupMemory::remove_memory_object() memory object not found" @IOGPUGroupMemory.cpp:323',
      ),
      'iogpuSibling',
    );
    assert.equal(
      classifyPanicLine('panic(cpu 3 caller 0x2): "something" @IOGPUDevice.cpp:12'),
      'iogpuSibling',
    );
    assert.equal(classifyPanicLine('panic(cpu 3 caller 0x2): SOCD report detected'), 'other');
    assert.equal(classifyPanicLine(null), 'unknown');
  });

  it('joins a panic line that a pasted copy wrapped onto two lines', () => {
    const wrapped =
      'panic(cpu 4 caller 0xfffffe0012345678): "completeMemory() prepare count underflow"\n@IOGPUMemory.cpp:550\nDebugger message: panic\n';
    const p = parsePanicReport(wrapped);
    assert.equal(p.kind, 'completeMemory');
    assert.equal(
      p.panicLine,
      'panic(cpu 4 caller 0xfffffe0012345678): "completeMemory() prepare count underflow" @IOGPUMemory.cpp:550',
    );
    const wd = parsePanicReport(
      'panic(cpu 0 caller 0xfffffe00427add7c):\nwatchdog timeout: no checkins from watchdogd in 92 seconds\n',
    );
    assert.equal(wd.kind, 'watchdogTimeout');
  });

  it('reads the Intel body (macOSPanicString) of a truncated JSON report', () => {
    const c = readContainer(fixture('panics/itlwm-1010-1.panic.txt'));
    assert.equal(c.format, 'json-truncated');
    assert.equal(c.header?.['os_version'], 'macOS 12.7.6 (21H1320)');
    assert.match(
      c.panicText ?? '',
      /^panic\(cpu 2 caller 0xffffff800e4a6d7a\): mbuf_watchdog: 1 waiters stuck for 16 secs\n21296\/152446 mbufs in use:/,
    );
    const whole = parsePanicReport(
      wrapAsPanicFile(
        'panic(cpu 1 caller 0xffffff8000000000): "completeMemory() prepare count underflow" @IOGPUMemory.cpp:550\n',
        { intel: true },
      ),
    );
    assert.equal(whole.kind, 'completeMemory');
  });

  it('parses a body within bounds; a body of half a million tiny values is scanned for its strings, not parsed', () => {
    const text =
      'panic(cpu 1 caller 0xfffffe0012345678): "completeMemory() prepare count underflow" @IOGPUMemory.cpp:550\n';
    // As large as a real stackshot: 700 processes of 12 threads, each a handful of fields.
    const file = wrapAsPanicFile(text);
    const header = file.slice(0, file.indexOf('\n'));
    const body = JSON.parse(file.slice(header.length + 1)) as Record<string, unknown>;
    body['processByPid'] = Object.fromEntries(
      Array.from({ length: 700 }, (_, pid) => [
        String(pid),
        {
          name: `p${pid}`,
          threads: Array.from({ length: 12 }, (_, t) => ({ id: t, state: ['TH_WAIT'], pri: 31 })),
        },
      ]),
    );
    const real = readContainer(`${header}\n${JSON.stringify(body)}`);
    assert.equal(real.format, 'json');
    assert.equal(real.panicText, text);
    // 2 MiB of empty arrays after the panic text: JSON.parse made half a million objects (~50 MiB).
    const flood = `${header}\n{"panicString":${JSON.stringify(text)},"x":[${'[],'.repeat(500_000)}[]]}`;
    const c = readContainer(flood);
    assert.equal(c.format, 'json-truncated');
    assert.equal(c.body, null);
    assert.equal(c.panicText, text);
    assert.equal(parsePanicReport(flood).kind, 'completeMemory');
    // The same in the header's line: not parsed either.
    assert.equal(readContainer(`{"bug_type":"210","x":[${'[],'.repeat(400_000)}[]]}\n{}`).header, null);
  });

  it('never throws on garbage, empty, binary or huge input', () => {
    for (const junk of [
      '',
      '   \n',
      '{',
      '{"bug_type":"210"}\n{"panicString":"panic(cpu',
      'not a panic at all',
      '\u0000\u0001\u0002'.repeat(1000),
    ]) {
      const p = parsePanicReport(junk);
      assert.ok(['unknown', 'other', 'completeMemory'].includes(p.kind));
    }
    assert.equal(parsePanicReport('').format, 'empty');
    assert.equal(
      parsePanicReport(Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256)).toString('latin1'))
        .format,
      'binary',
    );
    assert.equal(
      parsePanicReport('{"bug_type":"210"}\n{"panicString":"panic(cpu').kind,
      'unknown',
      'a cut-off panic line names no kind',
    );
    // 50 MB: the panic text followed by stackshot noise.
    const big = `${fixture('panics/exo-1348-1.panic.txt')}\n${'lr: 0xfffffe0052da5ce0 fp: 0xfffffe8de993f3a0\n'.repeat(1_100_000)}`;
    assert.ok(big.length > 50_000_000);
    const p = parsePanicReport(big);
    assert.equal(p.kind, 'completeMemory');
    assert.equal(p.osBuild, '25C56');
  });

  it('parses Apple report timestamps with their offset', () => {
    assert.equal(parseReportTimestamp('2024-09-22 03:31:41.00 -0700'), '2024-09-22T10:31:41.000Z');
    assert.equal(parseReportTimestamp('2026-08-14 11:02:40 +0200'), '2026-08-14T09:02:40.000Z');
    assert.equal(parseReportTimestamp('yesterday'), null);
  });
});
