import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseMeminfo } from '../../../src/main/core/probes/linux/meminfo-parser.js';
import {
  parseCmdline,
  parseKeyValueKb,
  parseProcStat,
  parseSystemStat,
} from '../../../src/main/core/probes/linux/proc-pid-parser.js';
import { parsePsi, psiToPressureLevel } from '../../../src/main/core/probes/linux/psi-parser.js';
import { anyText, assertWellTyped, bounded, fc, mutated, RUNS } from '../../support/property.js';

/** This host's own procfs text when there is one (the real thing), else captured lines of the same shape. */
function real(path: string, fallback: string): string[] {
  try {
    return [readFileSync(path, 'utf8'), fallback];
  } catch {
    return [fallback];
  }
}

const sources = {
  meminfo: real(
    '/proc/meminfo',
    'MemTotal:       16318480 kB\nMemFree:         1205032 kB\nMemAvailable:    9873404 kB\nHugePages_Total:       0\nHugepagesize:       2048 kB\n',
  ),
  stat: real(
    '/proc/self/stat',
    '4242 (python3 (exo) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 350 80 0 0 20 0 12 0 123456 4000000000 250000 18446744073709551615 1 1 0 0 0 0 0 16781312 17922 0 0 0 17 3 0 0 0 0 0\n',
  ),
  status: real('/proc/self/status', 'Name:\tpython3\nPid:\t4242\nVmRSS:\t  1000000 kB\nThreads:\t12\n'),
  systemStat: real('/proc/stat', 'cpu  2255 34 2290 22625563 6290 127 456 0 0 0\nbtime 1769990000\n'),
  psi: real(
    '/proc/pressure/memory',
    'some avg10=12.50 avg60=3.00 avg300=0.80 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  ),
  cmdline: real('/proc/self/cmdline', 'python3\0-m\0exo\0'),
};

const cases: Array<[string, string[], (text: string) => unknown]> = [
  ['/proc/meminfo', sources.meminfo, parseMeminfo],
  ['/proc/<pid>/stat', sources.stat, parseProcStat],
  ['/proc/<pid>/status', sources.status, parseKeyValueKb],
  ['/proc/stat', sources.systemStat, parseSystemStat],
  [
    '/proc/pressure/memory',
    sources.psi,
    (t) => ({ psi: parsePsi(t), level: psiToPressureLevel(parsePsi(t)) }),
  ],
  ['/proc/<pid>/cmdline', sources.cmdline, parseCmdline],
];

describe('linux procfs parsers: properties', () => {
  for (const [name, real, parse] of cases) {
    it(`${name}: never throws, bounded, numbers finite or null`, () => {
      fc.assert(
        fc.property(fc.oneof(anyText, mutated(real)), (text) => {
          assertWellTyped(bounded(() => parse(text)));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('/proc/<pid>/stat: a row it returns has every number an integer read from the text', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mutated(sources.stat)), (text) => {
        const s = parseProcStat(text);
        if (s === null) return;
        for (const k of [
          'pid',
          'ppid',
          'utimeTicks',
          'stimeTicks',
          'numThreads',
          'startTimeTicks',
          'rssPages',
        ] as const)
          assert.ok(Number.isInteger(s[k]), `${k} = ${s[k]}`);
        assert.equal(
          Number(text.slice(0, text.indexOf('(')).trim()),
          s.pid,
          "pid is not the text's first field",
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('the pressure level is one of 1, 2, 4 or null for any PSI text', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mutated(sources.psi)), (text) => {
        assert.ok([1, 2, 4, null].includes(psiToPressureLevel(parsePsi(text))));
      }),
      { numRuns: RUNS },
    );
  });
});
