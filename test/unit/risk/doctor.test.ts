import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePanicReport } from '../../../src/main/core/panics/panic-parser.js';
import { parseIdentity, parseUname } from '../../../src/main/core/probes/darwin/identity-parser.js';
import { findKextVersion } from '../../../src/main/core/probes/darwin/kext-version-parser.js';
import { parseMetalCeiling } from '../../../src/main/core/probes/darwin/metal-ceiling-parser.js';
import type { MachineIdentity } from '../../../src/main/core/probes/probe-types.js';
import { type DoctorInputs, diagnose, renderDoctor } from '../../../src/main/core/risk/doctor.js';
import {
  AdvisorySchema,
  loadAdvisory,
  modelEvidence,
} from '../../../src/main/core/risk/platform-advisory.js';
import { fixture } from '../../support/fixtures.js';

const GiB = 1024 ** 3;

/** A darwin identity from captured `sysctl` output (and, where the capture has none, a build from a panic). */
function fromSysctl(file: string, build: string | null = null, iogpu: string | null = null): MachineIdentity {
  const id = parseIdentity(fixture(file));
  return {
    platform: 'darwin',
    hostname: 'test-mac',
    model: id.model,
    chip: id.chip,
    memoryBytes: id.memsize,
    osVersion: id.osProductVersion,
    osBuild: build ?? id.osBuild,
    kernelVersion: null,
    kernelFamily: null,
    iogpuFamilyVersion: iogpu,
  };
}

const inputs = (identity: MachineIdentity | null, over: Partial<DoctorInputs> = {}): DoctorInputs => ({
  identity,
  translated: false,
  ceilingBytes: null,
  wiredLimitMb: 0,
  reportDirs: [],
  exo: {
    url: 'http://127.0.0.1:52415',
    reachable: false,
    error: 'ECONNREFUSED',
    version: { version: 'unknown', source: 'unknown', detail: null },
    models: [],
  },
  ...over,
});

describe('doctor verdicts for the identities in fixtures/macos and fixtures/panics', () => {
  it('the advisory data file is valid, sourced, and declares no fix', () => {
    const a = loadAdvisory();
    assert.ok(AdvisorySchema.safeParse(a).success);
    assert.equal(a.fixedIn, null);
    assert.ok(a.affectedBuilds.every((b) => b.sources.length > 0));
    assert.deepEqual(
      a.affectedBuilds.map((b) => b.build),
      ['24G517', '25C56', '25D125', '25D2128', '25E5233c', '25E246', '25E253', '25F84'],
    );
  });

  it('Apple silicon Macs without a reported build of their own are treated as affected (M1 Pro and M2 on macOS 12, M3 Max and M4 Max on 15)', () => {
    const cases: Array<[string, string, number]> = [
      ['macos/sysctl/sysctl-hw-machdep.m1pro.macos12.archspec.txt', 'Apple M1 Pro', 0],
      ['macos/sysctl/sysctl-hw-machdep.m2.macos12.archspec.txt', 'Apple M2', 0],
      ['macos/sysctl/sysctl-hw-machdep.m3max.macos15.archspec.txt', 'Apple M3 Max', 1],
      ['macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt', 'Apple M4 Max', 1],
    ];
    for (const [file, chip, chipEvidence] of cases) {
      const r = diagnose(inputs(fromSysctl(file)));
      assert.equal(r.identity?.chip, chip);
      assert.equal(r.platform.verdict, 'affected-until-fixed', file);
      assert.equal(r.platform.affected, true);
      assert.equal(r.platform.chips.length, chipEvidence, `${chip}: panics reported on this chip`);
      assert.ok(r.advice.some((a) => a.command === 'EXO_MAX_CONCURRENT_REQUESTS=1 uv run exo'));
    }
  });

  it('a build named in public reports is a known-affected build, with its sources', () => {
    const panics: Array<[string, string, string]> = [
      ['panics/omlx-300-5.panic.txt', '25E253', '26.4.1'],
      ['panics/omlx-300-4.panic.txt', '24G517', '15.7.4'],
      ['panics/exo-1348-1.panic.txt', '25C56', '26.2'],
      ['panics/omlx-248-1.panic.txt', '25D2128', '26.3.1'],
    ];
    for (const [file, build, macos] of panics) {
      const p = parsePanicReport(fixture(file));
      const r = diagnose(
        inputs(fromSysctl('macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt', p.osBuild)),
      );
      assert.equal(r.platform.verdict, 'known-affected-build', file);
      assert.equal(r.platform.builds[0]?.build, build);
      assert.equal(r.platform.builds[0]?.macos, macos);
      assert.ok(r.platform.builds[0]!.sources.every((s) => s.startsWith('https://github.com/')));
    }
    const withKext = diagnose(
      inputs(
        fromSysctl(
          'macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt',
          '25E253',
          findKextVersion(fixture('panics/mlx-3186-1.panic.txt')),
        ),
      ),
    );
    assert.equal(withKext.platform.iogpuFamilySeenInPanics, true, 'IOGPUFamily 130.13 is in the reports');
  });

  it('an Intel Mac (the itlwm report header) and Linux are not applicable', () => {
    const intel = parsePanicReport(fixture('panics/itlwm-1010-1.panic.txt'));
    const r = diagnose(
      inputs({
        platform: 'darwin',
        hostname: 'x',
        model: null,
        chip: 'Intel(R) Core(TM) i7-8700B CPU @ 3.20GHz',
        memoryBytes: 32 * GiB,
        osVersion: intel.osVersion,
        osBuild: intel.osBuild,
        kernelVersion: null,
        kernelFamily: null,
        iogpuFamilyVersion: null,
      }),
    );
    assert.equal(r.platform.verdict, 'not-applicable');
    assert.equal(r.platform.affected, false);
    const linux = diagnose(
      inputs({
        platform: 'linux',
        hostname: 'x',
        model: null,
        chip: 'AMD EPYC',
        memoryBytes: 24 * GiB,
        osVersion: 'Debian 12',
        osBuild: null,
        kernelVersion: '6.1',
        kernelFamily: null,
        iogpuFamilyVersion: null,
      }),
    );
    assert.equal(linux.platform.verdict, 'not-applicable');
    assert.ok(!linux.advice.some((a) => a.severity === 'action'));
  });

  it('a Rosetta shell (uname fixture) gets the arm64 advice', () => {
    const u = parseUname(
      fixture('macos/identity/uname-a.t6031-kernel.macos15.0.rosetta-shell.dorothy-pr243.txt'),
    );
    const r = diagnose(
      inputs(fromSysctl('macos/sysctl/sysctl-hw-machdep.m3max.macos15.archspec.txt'), {
        translated: u!.translated,
      }),
    );
    assert.match(r.advice[0]!.text, /Rosetta/);
    assert.equal(r.advice[0]!.command, 'arch -arm64 /bin/zsh -l');
  });

  it('reports the Metal ceiling against RAM and a wired limit above 85% with the exact command', () => {
    const id = {
      ...fromSysctl('macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt'),
      memoryBytes: 128 * GiB,
    };
    const ceiling = parseMetalCeiling(
      fixture('macos/metal/ollama-inference-compute.m3max-128gb.ollama-pr12808.txt'),
    ).ceilingBytes;
    const r = diagnose(inputs(id, { ceilingBytes: ceiling, wiredLimitMb: 120_000 }));
    assert.equal(r.metal.ceilingRatio, 0.75);
    const a = r.advice.find((x) => x.command?.startsWith('sudo sysctl iogpu.wired_limit_mb='));
    assert.equal(
      a?.command,
      `sudo sysctl iogpu.wired_limit_mb=${Math.floor((0.75 * 128 * GiB) / 1024 / 1024)}`,
    );
    assert.ok(
      !diagnose(inputs(id, { wiredLimitMb: 0 })).advice.some((x) => x.command?.includes('wired_limit_mb=')),
    );
  });

  it('says where the ceiling came from, and when it is only estimated how to make it exact', () => {
    const id = {
      ...fromSysctl('macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt'),
      memoryBytes: 128 * GiB,
    };
    const estimated = diagnose(
      inputs(id, { ceilingBytes: 96 * GiB, ceilingSource: 'estimate', wiredLimitMb: 0 }),
    );
    assert.equal(estimated.metal.ceilingSource, 'estimate');
    assert.match(
      renderDoctor(estimated),
      /^metal\s+ceiling 96\.0 GiB of 128\.0 GiB RAM \(75%\), estimated from RAM;/m,
    );
    const a = estimated.advice.find((x) => x.text.startsWith('The Metal ceiling is estimated'));
    assert.equal(a?.severity, 'warning');
    assert.equal(a?.command, 'npm run build:native && exo-sentinel doctor --probes');
    const read = diagnose(inputs(id, { ceilingBytes: 96 * GiB, ceilingSource: 'metal', wiredLimitMb: 0 }));
    assert.match(renderDoctor(read), /RAM \(75%\), from metal;/);
    assert.ok(!read.advice.some((x) => x.text.startsWith('The Metal ceiling is estimated')));
  });

  it('shows the public reports for a loaded model, and says how to make reports readable', () => {
    const r = diagnose(
      inputs(fromSysctl('macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt'), {
        exo: {
          url: 'http://x',
          reachable: true,
          error: null,
          version: { version: '1.0.71', source: 'app-bundle', detail: null },
          models: ['mlx-community/Qwen3-Coder-Next-4bit'],
        },
        reportDirs: [
          {
            dir: '/Library/Logs/DiagnosticReports',
            exists: true,
            readable: true,
            reports: 3,
            unreadable: 2,
            problem: null,
          },
        ],
      }),
    );
    assert.equal(r.modelEvidence[0]?.source, 'https://github.com/exo-explore/exo/issues/1972');
    assert.equal(r.modelEvidence[0]?.match, 'exact');
    assert.ok(
      r.advice.some((a) => a.command === 'sudo dseditgroup -o edit -a "$USER" -t user _analyticsusers'),
    );
    assert.deepEqual(
      modelEvidence('mlx-community/MiniMax-M2.7-8bit').map((e) => [e.match, e.kind]),
      [
        ['same-model', 'watchdogTimeout'],
        ['exact', 'other (cpt_mapcnt_inc)'],
      ],
    );
    const text = renderDoctor(r);
    assert.match(text, /verdict {7}affected-until-fixed/);
    assert.doesNotMatch(JSON.stringify(r) + text, /MLX_METAL_MAX_BUFFER_SIZE/);
  });
});
