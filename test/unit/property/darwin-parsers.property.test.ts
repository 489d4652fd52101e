import { describe, it } from 'node:test';
import { parseFootprint } from '../../../src/main/core/probes/darwin/footprint-parser.js';
import { parseIdentity, parseUname } from '../../../src/main/core/probes/darwin/identity-parser.js';
import {
  parseIoregAccelerators,
  parseIoregDict,
} from '../../../src/main/core/probes/darwin/ioreg-accelerator-parser.js';
import {
  findKextVersion,
  parseKmutilShowloaded,
} from '../../../src/main/core/probes/darwin/kext-version-parser.js';
import { parseMemoryPressure } from '../../../src/main/core/probes/darwin/memory-pressure-parser.js';
import {
  parseAllWorkingSetLines,
  parseMetalCeiling,
} from '../../../src/main/core/probes/darwin/metal-ceiling-parser.js';
import {
  parseCpuTime,
  parseElapsed,
  parseLstart,
  parsePs,
} from '../../../src/main/core/probes/darwin/ps-parser.js';
import {
  parsePressureLevel,
  parseSwapUsage,
  parseSysctl,
  sysctlInt,
} from '../../../src/main/core/probes/darwin/sysctl-parser.js';
import { parseDisplays } from '../../../src/main/core/probes/darwin/system-profiler-parser.js';
import { parseTop, topFootprints } from '../../../src/main/core/probes/darwin/top-parser.js';
import { parseVmStat } from '../../../src/main/core/probes/darwin/vm-stat-parser.js';
import { fixture, listFixtures } from '../../support/fixtures.js';
import { anyText, assertWellTyped, bounded, fc, mutated, RUNS } from '../../support/property.js';

const real = (folder: string): string[] => listFixtures(`macos/${folder}`).map((f) => fixture(f));
const input = (folder: string): fc.Arbitrary<string> => fc.oneof(anyText, mutated(real(folder)));

/** Each parser: no throw on arbitrary text or mutated real output, bounded time, well-typed result. */
const cases: Array<[string, string, (text: string) => unknown]> = [
  ['vm_stat', 'vm_stat', parseVmStat],
  ['sysctl', 'sysctl', parseSysctl],
  ['sysctl (an integer value)', 'sysctl', (t) => sysctlInt(parseSysctl(t), 'hw.memsize')],
  ['sysctl vm.swapusage', 'sysctl', parseSwapUsage],
  ['sysctl pressure level', 'sysctl', parsePressureLevel],
  ['sysctl identity', 'sysctl', parseIdentity],
  ['ioreg IOAccelerator', 'ioreg', parseIoregAccelerators],
  ['ioreg dictionary', 'ioreg', parseIoregDict],
  ['ps (header row)', 'ps', (t) => parsePs(t)],
  ['ps -o pid,ppid,lstart,args', 'ps', (t) => parsePs(t, ['pid', 'ppid', 'lstart', 'args'])],
  ['ps -o pid,rss,pcpu', 'ps', (t) => parsePs(t, ['pid', 'rss', 'pcpu'])],
  ['top', 'top', parseTop],
  ['top footprints', 'top', topFootprints],
  ['footprint', 'footprint', parseFootprint],
  ['memory_pressure', 'memory_pressure', parseMemoryPressure],
  ['Metal ceiling', 'metal', parseMetalCeiling],
  ['Metal working-set lines', 'metal', parseAllWorkingSetLines],
  ['kmutil showloaded', 'kext', parseKmutilShowloaded],
  ['kext version', 'kext', (t) => findKextVersion(t)],
  ['uname', 'identity', parseUname],
  ['system_profiler displays', 'system_profiler', parseDisplays],
];

describe('darwin probe parsers: properties', () => {
  for (const [name, folder, parse] of cases) {
    it(`${name}: never throws, bounded, numbers finite or null`, () => {
      fc.assert(
        fc.property(input(folder), (text) => {
          assertWellTyped(bounded(() => parse(text)));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('ps time fields: elapsed, cpu time and lstart are finite or null for any tokens', () => {
    const token = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(
        '1-02:03:04',
        '02:03',
        '3:04.56',
        '99999999999-99:99:99',
        '::',
        '-1:00',
        'Mon',
        'Jan',
        '31',
      ),
    );
    fc.assert(
      fc.property(token, fc.array(token, { maxLength: 7 }), (s, tokens) => {
        assertWellTyped(bounded(() => parseElapsed(s)));
        assertWellTyped(bounded(() => parseCpuTime(s)));
        assertWellTyped(bounded(() => parseLstart(tokens)));
      }),
      { numRuns: RUNS },
    );
  });
});
