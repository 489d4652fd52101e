import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateScenarioJsonSchema } from '../../../src/main/core/risk/replay/scenario-json-schema.js';
import {
  loadScenario,
  parseScenario,
  scenarioFiles,
} from '../../../src/main/core/risk/replay/scenario-loader.js';
import { repoRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/temp-dir.js';

const GiB = 1024 ** 3;
const T0 = Date.parse('2026-05-01T00:00:00Z');

const base = {
  name: 'test-scenario',
  kind: 'incident',
  description: 'a test',
  source: { refs: ['a ref'], known: ['a fact'], assumed: ['a figure'] },
  machine: { chip: 'Apple M4', ramGiB: 32, ceilingGiB: 24, swapTotalGiB: 2 },
  start: '2026-05-01T00:00:00Z',
  segments: [
    {
      name: 'load',
      duration: '100s',
      memory: { wiredGiB: [4, 24], freePercent: 40 },
      exo: { instances: 1 },
      events: [{ kind: 'exo.wired-limit-set', at: '90s' }],
    },
    {
      name: 'two in flight',
      duration: '60s',
      exo: { inFlight: 2, promptTokens: 20000 },
      events: [{ kind: 'exo.kv-evicted', at: '5s', every: '20s' }],
    },
  ],
  panic: { kind: 'completeMemory' },
};

const parse = (v: unknown, file = 'test.json') => parseScenario(JSON.stringify(v), file);
const errorsOf = (v: unknown): string[] => {
  const r = parse(v);
  assert.equal(r.ok, false);
  return r.ok ? [] : r.errors;
};

describe('scenario loader', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('expands segments into 1 s ticks with ramps, carried values and repeated events', () => {
    const r = parse(base);
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const src = r.source;
    assert.deepEqual([src.from, src.to], [T0, T0 + 160_000]);
    const ticks = [...src.ticks()];
    assert.equal(ticks.length, 160, 'one tick per second, none at the panic');
    // Wired ramps 4 → 24 GiB over the first 100 s; at 50 s it is halfway.
    assert.equal(ticks[50]!.sample.memory.wired, 14 * GiB);
    assert.equal(ticks[0]!.sample.memory.wired, 4 * GiB);
    // The second segment carries the first one's end values.
    assert.equal(ticks[100]!.sample.memory.wired, 24 * GiB);
    assert.equal(ticks[100]!.sample.memory.freePercent, 40);
    assert.equal(ticks[100]!.sample.gpu.ceilingBytes, 24 * GiB);
    assert.equal(ticks[100]!.sample.gpu.inUseBytes, 0.5 * GiB, 'the initial value when never set');
    assert.deepEqual(ticks[100]!.exo, {
      reachable: true,
      inFlight: 2,
      instances: 1,
      largestPromptTokens: 20000,
      kvInFlightBytes: null,
    });
    assert.equal(ticks[99]!.exo.inFlight, 0);
    assert.deepEqual(
      src.events.map((e) => [e.kind, (e.time - T0) / 1000]),
      [
        ['exo.wired-limit-set', 90],
        ['exo.kv-evicted', 105],
        ['exo.kv-evicted', 125],
        ['exo.kv-evicted', 145],
      ],
    );
    assert.deepEqual(src.panics, [{ time: T0 + 160_000, kind: 'completeMemory' }]);
  });

  it('a sleep segment has no ticks and ends in a wake; a group repeats its segments', () => {
    const r = parse({
      ...base,
      kind: 'healthy',
      panic: undefined,
      tickSeconds: 10,
      segments: [
        {
          name: 'turns',
          repeat: 3,
          segments: [
            { name: 'busy', duration: '1m', exo: { inFlight: 1 } },
            { name: 'pause', duration: '30s', exo: { inFlight: 0 } },
          ],
        },
        { name: 'night', duration: '2h', sleep: true },
        { name: 'morning', duration: '1m' },
      ],
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const ticks = [...r.source.ticks()];
    assert.equal(ticks.length, 3 * 9 + 6);
    assert.deepEqual(
      ticks.slice(0, 9).map((t) => t.exo.inFlight),
      [1, 1, 1, 1, 1, 1, 0, 0, 0],
    );
    const wake = T0 + 3 * 90_000 + 2 * 3_600_000;
    assert.deepEqual(r.source.events, [{ time: wake, kind: 'power.wake' }]);
    assert.equal(ticks[27]!.time, wake, 'ticks resume at the wake');
    assert.equal(r.source.to, wake + 60_000);
  });

  it('names the file and the field of every problem', () => {
    const bad = structuredClone(base) as Record<string, unknown> & typeof base;
    (bad.segments[1] as Record<string, unknown>)['memory'] = { wiredGiB: 'lots' };
    (bad.segments[0] as Record<string, unknown>)['colour'] = 'red';
    assert.deepEqual(errorsOf(bad), [
      'test.json: unknown key "segments.0.colour"',
      'test.json: "segments.1.memory.wiredGiB" is "lots": Expected number, received string',
    ]);
    assert.deepEqual(errorsOf({ ...base, panic: undefined }), [
      'test.json: "panic" is undefined: an incident needs a panic',
    ]);
    assert.deepEqual(errorsOf({ ...base, warnBySeconds: 10 }), [
      'test.json: "warnByReason" is undefined: say why warnBySeconds is not 30 (what the signals allow)',
    ]);
    // A group that also has a segment's `duration`: judged as the group it is, not as a segment.
    const mixed = structuredClone(base) as Record<string, unknown> & typeof base;
    (mixed.segments as unknown[])[1] = {
      name: 'g',
      repeat: 2,
      segments: [{ name: 'a', duration: '1m' }],
      duration: '1m',
    };
    assert.deepEqual(errorsOf(mixed), ['test.json: unknown key "segments.1.duration"']);
    // A group that fits neither branch is told what a group lacks, not what a segment does.
    (mixed.segments as unknown[])[1] = { name: 'g', repeat: 2 };
    assert.deepEqual(errorsOf(mixed), ['test.json: "segments.1.segments" is undefined: Required']);
    (mixed.segments as unknown[])[1] = { name: 'g', repeat: 'x', segments: [{ name: 'a', duration: '1m' }] };
    assert.deepEqual(errorsOf(mixed), [
      'test.json: "segments.1.repeat" is "x": Expected number, received string',
    ]);
    // The ISO pattern lets an offset no clock reads through; it would replay nothing (every time NaN).
    for (const start of ['2026-01-01T00:00Z', '2026-01-01T00:00:00+0200'])
      assert.deepEqual(errorsOf({ ...base, start }), [
        `test.json: "start" is "${start}": must be like 2026-01-01T00:00:00Z or 2026-01-01T09:00:00+09:00`,
      ]);
    assert.ok(parse({ ...base, start: '2026-01-01T09:00:00.5+09:00' }).ok);
    assert.deepEqual(errorsOf({ ...base, start: '2026-01-01T00:00:00+24:00' }), [
      'test.json: "start" is "2026-01-01T00:00:00+24:00": must be a time a clock can read',
    ]);
    const durations = structuredClone(base);
    durations.segments[0]!.duration = '10 minutes';
    assert.deepEqual(errorsOf(durations), [
      'test.json: "segments.0.duration" is "10 minutes": must be a duration like 500ms, 90s, 15m, 2h or 1d',
    ]);
  });

  it('checks values against the machine and events against their segment', () => {
    const v = structuredClone(base);
    v.segments[0]!.memory = { wiredGiB: [4, 40], freePercent: 40 };
    v.segments[1]!.events = [{ kind: 'exo.kv-evicted', at: '2m', every: '20s' }];
    assert.deepEqual(errorsOf(v), [
      'test.json: "segments.0.memory.wiredGiB" is [4,40]: more than the machine\'s 32 GiB',
      'test.json: "segments.1.events.0.at" is "2m": past the end of the segment (60s)',
    ]);
    assert.deepEqual(errorsOf({ ...base, machine: { ...base.machine, ceilingGiB: 40 } }), [
      'test.json: "machine.ceilingGiB" is 40: the Metal ceiling cannot exceed ramGiB (32)',
    ]);
  });

  it('reports unreadable files and bad JSON with the path', () => {
    const missing = join(dir.path, 'missing.json');
    const r = loadScenario(missing);
    assert.deepEqual(r.ok ? [] : r.errors, [`${missing}: cannot read (ENOENT)`]);
    const broken = join(dir.path, 'broken.json');
    writeFileSync(broken, '{"name": ');
    const b = loadScenario(broken);
    assert.equal(b.ok, false);
    assert.match(
      b.ok ? '' : b.errors[0]!,
      new RegExp(`^${broken.replace(/[.]/g, '\\.')}: not valid JSON \\(`),
    );
    assert.deepEqual(parse([1, 2]).ok ? [] : (parse([1, 2]) as { errors: string[] }).errors, [
      'test.json: must hold a JSON object',
    ]);
  });

  it('the JSON Schema beside the zod schema is the one it generates', () => {
    const file = join(repoRoot, 'src/main/core/risk/replay/scenario.schema.json');
    assert.deepEqual(
      JSON.parse(readFileSync(file, 'utf8')),
      generateScenarioJsonSchema(),
      'regenerate it: npm run schemas',
    );
  });

  it('every corpus file loads, names its sources and says what is known and assumed', () => {
    const files = scenarioFiles(join(repoRoot, 'test/scenarios'));
    assert.ok(files.length >= 15, `${files.length} scenarios`);
    for (const f of files) {
      const r = loadScenario(f);
      assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
      const s = r.scenario;
      assert.ok(f.endsWith(`${s.name}.json`), `${f} is named after its scenario (${s.name})`);
      assert.ok(s.source.refs.length > 0 && s.source.assumed.length > 0, `${s.name} names sources`);
      if (s.kind === 'incident') assert.ok(s.source.known.length > 0, `${s.name} says what is known`);
    }
  });
});
