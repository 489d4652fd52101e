import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExoLogLine } from '../../../src/main/core/exo/exo-log-parser.js';
import {
  detectFailures,
  parseInstances,
  parseNodeIdentities,
  parseNodeMemory,
  parsePlacementPreviews,
  parseRunners,
  parseTasks,
} from '../../../src/main/core/exo/exo-state-parser.js';
import { fixture } from '../../support/fixtures.js';
import { anyText, assertWellTyped, bounded, fc, mutated, RUNS } from '../../support/property.js';

const ring = JSON.parse(fixture('exo/state-2node-ring-pipeline-running.json')) as Record<string, unknown>;
const jaccl = JSON.parse(fixture('exo/state-subpaths-jaccl-tensor.json')) as Record<string, unknown>;
const previews = JSON.parse(fixture('exo/instance-previews.json')) as unknown;

/** Every path to a value inside a JSON tree. */
function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(at);
  if (Array.isArray(v))
    v.forEach((x, i) => {
      paths(x, [...at, i], out);
    });
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/** A deep copy of `tree` with the value at each chosen path replaced. */
function replaceAt(tree: unknown, edits: Array<[number, unknown]>): unknown {
  const copy = structuredClone(tree);
  const all = paths(copy);
  let root = copy;
  for (const [pick, value] of edits) {
    const path = all[pick % all.length]!;
    if (path.length === 0) {
      root = value;
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) {
      const next = parent?.[k];
      if (next === null || typeof next !== 'object') break;
      parent = next as Record<string | number, unknown>;
    }
    if (parent !== null && typeof parent === 'object') parent[path.at(-1)!] = value;
  }
  return root;
}

const oddValues = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NaN,
    -0,
    1e308,
    -1,
    2 ** 60,
    '',
    '12',
  ),
);

/** A real /state body with some values replaced by odd ones, or any JSON, or mutated JSON text that still parses. */
const stateBody = (real: unknown[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...real),
        fc.array(fc.tuple(fc.nat(), oddValues), { minLength: 1, maxLength: 4 }),
      )
      .map(([tree, edits]) => replaceAt(tree, edits)),
    oddValues,
    mutated(real.map((r) => JSON.stringify(r))).map((t) => {
      try {
        return JSON.parse(t) as unknown;
      } catch {
        return t;
      }
    }),
  );

const bodies = {
  instances: [ring['instances'], jaccl['GET /state/instances']],
  runners: [ring['runners'] ?? {}, jaccl['GET /state/runners']],
  tasks: [ring['tasks'] ?? {}, jaccl['GET /state/tasks (empty when idle; finished tasks are deleted)'] ?? {}],
  nodeMemory: [ring['nodeMemory']],
  nodeIdentities: [ring['nodeIdentities']],
};

describe('EXO /state parsers: properties', () => {
  const cases: Array<[string, unknown[], (b: unknown) => unknown]> = [
    ['instances', bodies.instances, parseInstances],
    ['runners', bodies.runners, parseRunners],
    ['tasks', bodies.tasks, parseTasks],
    ['nodeMemory', bodies.nodeMemory, parseNodeMemory],
    ['nodeIdentities', bodies.nodeIdentities, parseNodeIdentities],
    ['instance previews', [previews], parsePlacementPreviews],
  ];
  for (const [name, real, parse] of cases) {
    it(`${name}: never throws, bounded, numbers finite or null`, () => {
      fc.assert(
        fc.property(stateBody(real), (body) => {
          assertWellTyped(bounded(() => parse(body)));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('failure detection over any parsed instances and runners is well-typed', () => {
    fc.assert(
      fc.property(stateBody(bodies.instances), stateBody(bodies.runners), (i, r) => {
        assertWellTyped(bounded(() => detectFailures(parseInstances(i), parseRunners(r))));
      }),
      { numRuns: RUNS },
    );
  });

  it('a node or runner id that is also an Object.prototype name (__proto__, constructor) is kept as data', () => {
    fc.assert(
      fc.property(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'), (id) => {
        const memory = JSON.parse(`{"${id}": {"ramTotal": {"inBytes": 1}}}`);
        assert.deepEqual(Object.keys(parseNodeMemory(memory)), [id]);
        const identities = JSON.parse(`{"${id}": {"friendlyName": "mac"}}`);
        assert.deepEqual(Object.keys(parseNodeIdentities(identities)), [id]);
      }),
      { numRuns: 20 },
    );
  });
});

describe("EXO's log lines: properties", () => {
  const line = (msg: string): string =>
    `[ 2026-06-22 14:03:11.512 | INFO     | exo.worker.runner:run:42 ] ${msg}`;
  const real = [
    'Wired limit set to 96.00 GB.',
    'KV cache evicted LRU entry (48211 tokens) due to memory usage',
    'KV cache added: 1200 tokens',
    'KV cache updated (index 3): 5000 tokens',
    'Starting prefill',
    'Runner terminated with signal=9 (Killed)',
    'Runner failed: out of memory',
    'Loading model mlx-community/Qwen3-30B-A3B-4bit',
    'Starting node 3f9a1c2e7b4d4a6f9e0c1b2a3d4e5f60',
  ].map(line);

  it('never throws, bounded, numbers finite or null, times valid', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mutated(real)), (text) => {
        const e = bounded(() => parseExoLogLine(text));
        assertWellTyped(e);
        if (e !== null) assert.ok(e.message.length <= 300);
      }),
      { numRuns: RUNS },
    );
  });

  it('a long line (a pasted prompt, a stack dump) is read in bounded time', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...real),
        fc.constantFrom(' ', '\t', 'x', ']', '|'),
        fc.integer({ min: 10_000, max: 100_000 }),
        (l, filler, n) => {
          const tail = filler.repeat(n);
          assertWellTyped(bounded(() => parseExoLogLine(`${l}${tail}`), 500));
          assertWellTyped(bounded(() => parseExoLogLine(`${l.slice(0, 40)}${tail}`), 500));
        },
      ),
      { numRuns: 30 },
    );
  });
});
