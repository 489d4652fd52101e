import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CONFIG_HELP } from '../../../src/main/core/config/config-help.js';
import {
  configJsonSchema,
  configKeys,
  schemaNodeAt,
} from '../../../src/main/core/config/config-json-schema.js';
import { generateConfigJsonSchema } from '../../../src/main/core/config/config-json-schema-generate.js';
import { needsRestart } from '../../../src/main/core/config/config-keys.js';
import { validateConfig } from '../../../src/main/core/config/config-loader.js';
import { ConfigSchema } from '../../../src/main/core/config/config-schema.js';
import { repoRoot } from '../../support/fixtures.js';
import { checkJsonSchema } from '../../support/json-schema-check.js';

const schema = configJsonSchema();
const SCHEMA_FILE = join(repoRoot, 'src/main/core/config/config.schema.json');

/** The JSON block of the README's Configuration section: the sample a person copies. */
function readmeSample(): Record<string, unknown> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'));
  const m = /```json\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the README has a JSON sample under Configuration');
  return JSON.parse(m[1]!) as Record<string, unknown>;
}

describe('the configuration JSON Schema', () => {
  it('the file in the repository, which the daemon serves, is the one the zod schema generates', () => {
    assert.deepEqual(
      JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')),
      generateConfigJsonSchema(),
      'regenerate it: npm run schemas',
    );
    assert.deepEqual(schema, generateConfigJsonSchema());
    assert.equal(configJsonSchema(), schema, 'read once: every caller gets the same object');
  });

  it('accepts the README sample, the full defaults and {} and the daemon accepts them too', () => {
    const full = ConfigSchema.parse({});
    for (const [name, sample] of [
      ['README', readmeSample()],
      ['defaults', full],
      ['empty', {}],
      ['with $schema', { $schema: './config.schema.json', logLevel: 'debug' }],
    ] as const) {
      assert.deepEqual(checkJsonSchema(schema, sample), [], `${name} against the JSON Schema`);
      assert.ok(validateConfig(sample).ok, `${name} against the zod schema`);
    }
  });

  it('refuses what the daemon refuses, naming the key', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ intervalSeconds: 0 }, /^intervalSeconds: below 0\.1/],
      [{ guard: { queue: { max: 'many' } } }, /^guard\.queue\.max: expected integer/],
      [{ api: { listne: 'x' } }, /^api: unknown key "listne"/],
      [{ logLevel: 'loud' }, /^logLevel: not one of/],
      [{ exo: { url: 'not a url' } }, /^exo\.url: not a URI/],
      [{ risk: { weights: { churn: 1.5 } } }, /^risk\.weights\.churn: expected integer/],
      [{ nope: 1 }, /^\(top level\): unknown key "nope"/],
    ];
    for (const [input, message] of cases) {
      const errors = checkJsonSchema(schema, input);
      assert.ok(
        errors.some((e) => message.test(e)),
        `${JSON.stringify(input)}: ${errors.join('; ')}`,
      );
      assert.equal(validateConfig(input).ok, false, JSON.stringify(input));
    }
  });

  it('describes every key in one line, and describes no key that is gone', () => {
    const keys = configKeys(schema);
    assert.ok(keys.length > 90, `${keys.length} keys`);
    for (const k of keys) {
      const d = schemaNodeAt(schema, k)?.['description'];
      assert.ok(typeof d === 'string' && d.length > 5 && !d.includes('\n'), `${k} has a description`);
    }
    assert.deepEqual(
      Object.keys(CONFIG_HELP).filter((k) => !keys.includes(k)),
      [],
      'help for keys the schema no longer has',
    );
  });

  it('marks secrets, file-only fields and what needs a restart', () => {
    for (const k of ['guard.token', 'cluster.token']) {
      assert.equal(schemaNodeAt(schema, k)?.['writeOnly'], true, k);
      assert.equal(schemaNodeAt(schema, k)?.['x-secret'], true, k);
    }
    assert.equal(schemaNodeAt(schema, 'actions.notify.command')?.['x-file-only'], true);
    assert.equal(schemaNodeAt(schema, 'gpu.mlxPython')?.['x-file-only'], true);
    assert.equal(schemaNodeAt(schema, 'api.listen')?.['x-restart-required'], true);
    assert.equal(schemaNodeAt(schema, 'guard.listen')?.['x-restart-required'], true);
    assert.equal(schemaNodeAt(schema, 'risk.gpuSoft')?.['x-restart-required'], undefined);
    assert.equal(schemaNodeAt(schema, 'guard.contextCap')?.['x-restart-required'], undefined);
    assert.equal(needsRestart('api'), true);
    assert.equal(needsRestart('apiX'), false);
    assert.equal(schemaNodeAt(schema, 'guard.nope'), null);
  });

  it('every number key refuses what JSON cannot hold, and every integer key an integer past 2^53', () => {
    // zod's v3 API takes Infinity (JSON's 1e400) and unsafe integers unless a bound says otherwise: a new
    // key without .finite(), a maximum or .safe() fails here.
    const numeric: Array<[string, boolean]> = [];
    const walk = (node: Record<string, unknown>, at: string): void => {
      const props = node['properties'] as Record<string, Record<string, unknown>> | undefined;
      if (props) for (const [k, v] of Object.entries(props)) walk(v, at ? `${at}.${k}` : k);
      const alts = [node, ...((node['anyOf'] as Record<string, unknown>[] | undefined) ?? [])];
      const t = alts.map((a) => a['type']).find((x) => x === 'number' || x === 'integer');
      if (t) numeric.push([at, t === 'integer']);
    };
    walk(schema, '');
    assert.ok(numeric.length > 40, `${numeric.length} number keys`);
    const at = (key: string, v: unknown): Record<string, unknown> => {
      const parts = key.split('.');
      return parts.reduceRight<unknown>((inner, p) => ({ [p]: inner }), v) as Record<string, unknown>;
    };
    for (const [key, integer] of numeric) {
      const bad = [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN];
      if (integer) bad.push(2 ** 53, -(2 ** 53), 1e300);
      for (const v of bad) assert.equal(validateConfig(at(key, v)).ok, false, `${key} = ${v}`);
    }
  });

  it('agrees with the zod schema on random edits of a valid configuration', () => {
    const leafKeys: string[] = [];
    const walk = (node: Record<string, unknown>, at: string): void => {
      const props = node['properties'] as Record<string, Record<string, unknown>> | undefined;
      if (!props) return void leafKeys.push(at);
      for (const [k, v] of Object.entries(props)) walk(v, at ? `${at}.${k}` : k);
    };
    walk(schema, '');
    const value = fc.oneof(
      fc.integer({ min: -5, max: 100_000 }),
      fc.double({ min: -10, max: 5000, noNaN: true }),
      fc.boolean(),
      fc.constant(null),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('open', 'serialise', 'auto', 'http://127.0.0.1:1', '127.0.0.1:9', 'info', 'high'),
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...leafKeys), value, (key, v) => {
        const input: Record<string, unknown> = {};
        let cur = input;
        const parts = key.split('.');
        for (const p of parts.slice(0, -1)) {
          cur[p] = {};
          cur = cur[p] as Record<string, unknown>;
        }
        cur[parts.at(-1)!] = v;
        const jsonOk = checkJsonSchema(schema, input).length === 0;
        const zodOk = validateConfig(input).ok;
        // zod refinements the JSON Schema cannot say (a valid RegExp, HOST:PORT forms, cross-field
        // orderings) may refuse more; the JSON Schema must never refuse what the daemon accepts.
        if (zodOk)
          assert.ok(jsonOk, `${key}=${JSON.stringify(v)}: ${checkJsonSchema(schema, input).join('; ')}`);
      }),
      { numRuns: 2000 },
    );
  });
});
