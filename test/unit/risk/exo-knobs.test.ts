import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { MachineIdentity } from '../../../src/main/core/probes/probe-types.js';
import { type DoctorInputs, diagnose, renderDoctor } from '../../../src/main/core/risk/doctor.js';
import {
  advisedMemoryThreshold,
  exoDefaultMemoryThreshold,
  exoKnobs,
  knobsFromEnviron,
  knobsFromPsEnvironment,
} from '../../../src/main/core/risk/exo-knobs.js';

const GiB = 1024 ** 3;
const byName = (ks: ReturnType<typeof exoKnobs>) => Object.fromEntries(ks.map((k) => [k.name, k]));

const mac: MachineIdentity = {
  platform: 'darwin',
  hostname: 'm',
  model: 'Mac16,5',
  chip: 'Apple M4 Max',
  memoryBytes: 128 * GiB,
  osVersion: '26.4.1',
  osBuild: '25E253',
  kernelVersion: null,
  kernelFamily: null,
  iogpuFamilyVersion: '130.13',
};
const inputs = (process: DoctorInputs['exo']['process']): DoctorInputs => ({
  identity: mac,
  translated: false,
  ceilingBytes: null,
  wiredLimitMb: 0,
  reportDirs: [],
  exo: {
    url: 'http://127.0.0.1:52415',
    reachable: true,
    error: null,
    version: { version: '1.0.71', source: 'app-bundle', detail: null },
    models: [],
    process,
  },
});

describe("EXO's own knobs", () => {
  it("EXO's prefix-cache threshold by RAM, and the advised one 0.15 lower (never under 0.5)", () => {
    assert.equal(exoDefaultMemoryThreshold(128 * GiB), 0.85);
    assert.equal(exoDefaultMemoryThreshold(96 * GiB), 0.8);
    assert.equal(exoDefaultMemoryThreshold(48 * GiB), 0.75);
    assert.equal(exoDefaultMemoryThreshold(16 * GiB), 0.7);
    assert.equal(exoDefaultMemoryThreshold(null), null);
    assert.equal(advisedMemoryThreshold(128 * GiB), 0.7);
    assert.equal(advisedMemoryThreshold(16 * GiB), 0.55);
  });

  it('unknown when neither argv nor environment can be read; never a guessed current value', () => {
    const k = byName(exoKnobs({ argv: null, env: null }, 128 * GiB));
    for (const n of ['EXO_MAX_CONCURRENT_REQUESTS', 'EXO_NO_BATCH', 'EXO_MEMORY_THRESHOLD']) {
      assert.equal(k[n]!.current, null, n);
      assert.equal(k[n]!.source, 'unknown');
      assert.equal(k[n]!.atAdvised, null);
    }
    assert.equal(k['EXO_MAX_CONCURRENT_REQUESTS']!.defaultValue, '8');
  });

  it('reads --no-batch from argv and the values from the environment; absent keys are EXO defaults', () => {
    const k = byName(
      exoKnobs(
        { argv: ['/x/python3', '/x/bin/exo', '--no-batch'], env: { EXO_MAX_CONCURRENT_REQUESTS: '1' } },
        64 * GiB,
      ),
    );
    assert.deepEqual(
      [k['EXO_MAX_CONCURRENT_REQUESTS']!.current, k['EXO_MAX_CONCURRENT_REQUESTS']!.source],
      ['1', 'environment'],
    );
    assert.equal(k['EXO_MAX_CONCURRENT_REQUESTS']!.atAdvised, true);
    assert.deepEqual([k['EXO_NO_BATCH']!.current, k['EXO_NO_BATCH']!.source], ['on', 'argv']);
    assert.deepEqual(
      [
        k['EXO_MEMORY_THRESHOLD']!.current,
        k['EXO_MEMORY_THRESHOLD']!.source,
        k['EXO_MEMORY_THRESHOLD']!.atAdvised,
      ],
      ['0.8', 'default', false],
    );
    const off = byName(
      exoKnobs({ argv: ['/x/exo'], env: { EXO_NO_BATCH: 'false', EXO_MEMORY_THRESHOLD: '0.6' } }, 64 * GiB),
    );
    assert.equal(off['EXO_NO_BATCH']!.current, 'off (false)');
    assert.equal(off['EXO_NO_BATCH']!.atAdvised, false);
    assert.equal(off['EXO_MEMORY_THRESHOLD']!.atAdvised, true);
  });

  it('keeps only the three keys of an environment, and only short printable values', () => {
    const env = knobsFromEnviron(
      'HF_TOKEN=hf_secret\0EXO_MAX_CONCURRENT_REQUESTS=2\0PATH=/bin\0EXO_NO_BATCH=\x1b[31mx\0=odd\0noequals\0',
    );
    assert.deepEqual(env, { EXO_MAX_CONCURRENT_REQUESTS: '2', EXO_NO_BATCH: '(unreadable value)' });
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const out = knobsFromEnviron(text);
        for (const [k, v] of Object.entries(out)) {
          assert.ok(['EXO_MAX_CONCURRENT_REQUESTS', 'EXO_NO_BATCH', 'EXO_MEMORY_THRESHOLD'].includes(k));
          assert.match(v!, /^[\x20-\x7e]{0,32}$/);
        }
      }),
    );
  });

  it('macOS `ps -E`: the knobs after the command line; no environment shown is unknown, not "not set"', () => {
    const app = '/Applications/EXO.app/Contents/Resources/exo/exo';
    assert.deepEqual(
      knobsFromPsEnvironment(
        `${app} HF_TOKEN=hf_x PATH=/usr/bin:/bin EXO_MAX_CONCURRENT_REQUESTS=1 HOME=/Users/a EXO_MEMORY_THRESHOLD=0.7\n`,
      ),
      { EXO_MAX_CONCURRENT_REQUESTS: '1', EXO_MEMORY_THRESHOLD: '0.7' },
    );
    assert.deepEqual(knobsFromPsEnvironment(`${app} PATH=/usr/bin HOME=/Users/a`), {}, 'none set: defaults');
    assert.equal(knobsFromPsEnvironment(`${app} --no-batch`), null, "another user's process: no environment");
    assert.equal(knobsFromPsEnvironment(''), null);
    assert.deepEqual(
      knobsFromPsEnvironment(`${app} --flag=EXO_NO_BATCH=1 PATH=/x EXO_NO_BATCH=1 EXO_NO_BATCH=0`),
      { EXO_NO_BATCH: '1' },
      'a key inside another word is not read; the first of a repeated key wins',
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const out = knobsFromPsEnvironment(`x PATH=/bin ${text}`) ?? {};
        for (const v of Object.values(out)) assert.match(v!, /^[\x20-\x7e]{0,32}$/);
        assert.ok(Object.keys(out).every((k) => k.startsWith('EXO_')));
      }),
    );
  });

  it('doctor advises each knob not yet at its advised value, with the cost, in text and JSON', () => {
    const r = diagnose(inputs({ argv: ['/Applications/EXO.app/Contents/Resources/exo/exo'], env: null }));
    assert.equal(r.exoKnobs.length, 3);
    const advice = r.advice.filter((a) => /^EXO_/.test(a.text));
    assert.deepEqual(
      advice.map((a) => a.command),
      [
        'EXO_MAX_CONCURRENT_REQUESTS=1 uv run exo',
        'uv run exo --no-batch',
        'EXO_MEMORY_THRESHOLD=0.7 uv run exo',
      ],
    );
    assert.equal(advice[0]!.severity, 'action');
    assert.match(advice[0]!.text, /unknown \(EXO's environment is not readable here; EXO's default is 8\)/);
    assert.match(advice[0]!.text, /Cost: throughput/);
    assert.match(advice[1]!.text, /^EXO_NO_BATCH unknown/);
    assert.match(advice[2]!.text, /exo#1972.*Cost: fewer prefix-cache hits/);
    const text = renderDoctor(r);
    assert.match(text, /exo knobs\n {2}EXO_MAX_CONCURRENT_REQUESTS {2}unknown/);
    assert.match(text, /EXO_MEMORY_THRESHOLD +unknown .*advised 0\.7; cost: fewer prefix-cache hits/);
    assert.deepEqual(JSON.parse(JSON.stringify(r)).exoKnobs[0].cost, r.exoKnobs[0]!.cost);

    const done = diagnose(
      inputs({
        argv: ['/x/exo', '--no-batch'],
        env: { EXO_MAX_CONCURRENT_REQUESTS: '1', EXO_MEMORY_THRESHOLD: '0.7' },
      }),
    );
    assert.ok(!done.advice.some((a) => /^EXO_/.test(a.text)), 'nothing to advise when all are set');
    assert.match(
      renderDoctor(done),
      /EXO_MAX_CONCURRENT_REQUESTS +1 \(from EXO's environment\); advised 1 \(already\)/,
    );
    assert.match(renderDoctor(done), /EXO_NO_BATCH +on \(from EXO's command line\)/);
  });

  it('knobs that only EXO has: never MLX_METAL_MAX_BUFFER_SIZE', () => {
    const r = diagnose(inputs(undefined));
    assert.doesNotMatch(JSON.stringify(r) + renderDoctor(r), /MLX_METAL_MAX_BUFFER_SIZE/);
  });
});
