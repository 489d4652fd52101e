import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  macosMajorForDarwin,
  parseIdentity,
  parseUname,
} from '../../../src/main/core/probes/darwin/identity-parser.js';
import {
  findKextVersion,
  parseKmutilShowloaded,
} from '../../../src/main/core/probes/darwin/kext-version-parser.js';
import {
  parseAllWorkingSetLines,
  parseMetalCeiling,
} from '../../../src/main/core/probes/darwin/metal-ceiling-parser.js';
import { parseDisplays } from '../../../src/main/core/probes/darwin/system-profiler-parser.js';
import { fixture, listFixtures } from '../../support/fixtures.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

describe('machine identity', () => {
  const cases: Array<[string, Partial<ReturnType<typeof parseIdentity>>]> = [
    [
      'macos/sysctl/sysctl-hw-machdep.m1pro.macos12.archspec.txt',
      {
        chip: 'Apple M1 Pro',
        targetType: 'J314s',
        memsize: 17179869184,
        memsizeUsable: null,
        performanceCores: 6,
        efficiencyCores: 2,
        pageSize: 16384,
        arm64: true,
      },
    ],
    [
      'macos/sysctl/sysctl-hw-machdep.m2.macos12.archspec.txt',
      {
        chip: 'Apple M2',
        targetType: 'J413',
        memsize: 17179869184,
        memsizeUsable: null,
        performanceCores: 4,
        efficiencyCores: 4,
      },
    ],
    [
      'macos/sysctl/sysctl-hw-machdep.m3max.macos15.archspec.txt',
      {
        chip: 'Apple M3 Max',
        targetType: 'J514m',
        memsize: 38654705664,
        memsizeUsable: 37751357440,
        performanceCores: 10,
        efficiencyCores: 4,
      },
    ],
    [
      'macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt',
      {
        chip: 'Apple M4 Max',
        targetType: 'J614c',
        memsize: 68719476736,
        memsizeUsable: 67793829888,
        performanceCores: 12,
        efficiencyCores: 4,
      },
    ],
  ];
  for (const [file, expected] of cases) {
    it(`reads ${file.split('/').pop()}`, () => {
      const id = parseIdentity(fixture(file));
      for (const [k, v] of Object.entries(expected)) assert.equal(id[k as keyof typeof id], v, k);
    });
  }

  it('reads uname -a: Darwin 24.0.0, xnu, T6031 family, Rosetta shell', () => {
    const u = parseUname(
      fixture('macos/identity/uname-a.t6031-kernel.macos15.0.rosetta-shell.dorothy-pr243.txt'),
    );
    assert.deepEqual(u, {
      hostname: 'MacBook-Pro-WITH-A-WEIRD-NAME.local',
      darwinVersion: '24.0.0',
      xnuVersion: '11215.1.9~22',
      kernelFamily: 'T6031',
      machine: 'x86_64',
      translated: true,
    });
    assert.equal(macosMajorForDarwin('24.0.0'), 15);
    assert.equal(macosMajorForDarwin('25.4.0'), 26);
    assert.equal(macosMajorForDarwin('23.1.0'), 14);
    assert.equal(macosMajorForDarwin('27.0.0'), 27);
    assert.equal(parseUname('Linux box 6.1.0 #1 SMP x86_64 GNU/Linux'), null);
  });

  it('reads system_profiler SPDisplaysDataType (M4 Pro, Metal 4)', () => {
    const d = parseDisplays(fixture('macos/system_profiler/SPDisplaysDataType.m4pro.macos26.sonar.txt'));
    assert.deepEqual(d, {
      chipsetModel: 'Apple M4 Pro',
      totalCores: 16,
      metalSupport: 'Metal 4',
      vendor: 'Apple (0x106b)',
      displays: ['Color LCD'],
    });
  });
});

describe('Metal ceiling', () => {
  it('reads a device line in time in proportion to it: 8000 spaces after MTL0: took 68 s', () => {
    const t0 = performance.now();
    assert.equal(parseMetalCeiling(`MTL0:${' '.repeat(64_000)}x`).ceilingBytes, null);
    assert.ok(performance.now() - t0 < 1000, `${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(
      parseMetalCeiling('MTL0: Apple M1 Max (26000 MiB, 25999 MiB free)').deviceName,
      'Apple M1 Max',
    );
  });

  it('reads mx.device_info() (M2 Ultra 192 GB)', () => {
    assert.deepEqual(
      parseMetalCeiling(fixture('macos/metal/mx.metal.device_info.m2ultra-192gb.mlx-pr1060.txt')),
      {
        ceilingBytes: 188743680000,
        maxBufferLength: 115964116992,
        architecture: 'applegpu_g14d',
        deviceName: null,
      },
    );
  });
  it('reads llama.cpp --list-devices (wired limit 26000 MiB)', () => {
    const m = parseMetalCeiling(
      fixture('macos/metal/llama-server-list-devices.m1max-32gb.llmfit-issue570.txt'),
    );
    assert.equal(m.ceilingBytes, 26000 * MiB);
    assert.equal(m.deviceName, 'Apple M1 Max');
  });
  it("reads Ollama's inference compute line (96.0 GiB on 128 GB)", () => {
    const m = parseMetalCeiling(
      fixture('macos/metal/ollama-inference-compute.m3max-128gb.ollama-pr12808.txt'),
    );
    assert.equal(m.ceilingBytes, 96 * GiB);
    assert.equal(m.deviceName, 'Apple M3 Max');
  });
  it('reads recommendedMaxWorkingSetSize lines: stock, then with a wired limit', () => {
    const text = fixture('macos/metal/recommendedMaxWorkingSetSize.m5max-128gb.ds4-pr893.txt');
    assert.equal(parseMetalCeiling(text).ceilingBytes, Math.round(107.52 * GiB));
    assert.deepEqual(parseAllWorkingSetLines(text), [Math.round(107.52 * GiB), 112 * GiB]);
    assert.equal(112 * 1024, 114688, 'the second value is iogpu.wired_limit_mb = 114688');
  });
  it('gives null for text without a ceiling', () => {
    assert.equal(parseMetalCeiling('hello').ceilingBytes, null);
  });
});

describe('IOGPUFamily version', () => {
  it('reads kmutil showloaded rows (format reference: no IOGPUFamily row on that Intel beta)', () => {
    const text = fixture('macos/kext/kmutil-showloaded.bigsur-beta-intel.chris1111-issue14.EXCERPT.txt');
    const rows = parseKmutilShowloaded(text);
    assert.equal(rows.length, 9);
    assert.deepEqual(rows[0], { bundleId: 'com.apple.kpi.bsd', version: '20.0.0' });
    assert.deepEqual(rows[8], { bundleId: 'com.apple.kec.Libm', version: '1' });
    assert.equal(findKextVersion(text), null);
    assert.equal(findKextVersion(text, 'com.apple.kpi.iokit'), '20.0.0');
    const withRow = `${text}\n   10    3 0xfffffe0007a1c000 0x4c000    0x4c000    com.apple.iokit.IOGPUFamily (130.13) 0B1C7D1E-0000-0000-0000-000000000000 <5 3>`;
    assert.equal(findKextVersion(withRow), '130.13');
  });

  const expected: Record<string, string | null> = {
    'panic-backtrace-kext-IOGPUFamily-129.3.2.m3max.macos26.3.1a.vmlx-issue11.EXCERPT.txt': '129.3.2',
    'panic-loaded-kexts.t600x.IOGPUFamily-129.3.2.omlx-issue457.EXCERPT.txt': '129.3.2',
    'panic-ips-json-panicString.kext-backtrace.IOGPUFamily-129.2.10.AGXG15S.dota2-issue3371.EXCERPT.txt':
      '129.2.10',
    'panic-completeMemory.m2max-64gb-t6020.macos26.4.1-25E253.omlx-issue300.EXCERPT.txt': null,
    'panic-completeMemory.m4pro-mini-48gb.kernel-t6041.macos26.2-25C56.exo-issue1348.EXCERPT.txt': null,
    'panic-completeMemory.t6041.macos15-24G517.IOGPUMemory492.omlx-issue300.EXCERPT.txt': null,
  };
  for (const file of listFixtures('macos/panic')) {
    const name = file.split('/').pop()!;
    it(`finds the IOGPUFamily version (or its absence) in ${name}`, () => {
      assert.ok(name in expected, `a new panic fixture needs an expectation: ${name}`);
      assert.equal(findKextVersion(fixture(file)), expected[name]);
    });
  }

  it('does not take a dependency line or a longer bundle id for the kext', () => {
    assert.equal(findKextVersion('com.apple.iokit.IOGPUFamilyX(1.0)'), null);
    assert.equal(findKextVersion('dependency: com.apple.iokit.IOGPUFamily(130.15.2)[UUID]'), '130.15.2');
  });
});
