import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, validateConfig } from '../../../src/main/core/config/config-loader.js';
import { repoRoot } from '../../support/fixtures.js';
import { anyText, assertWellTyped, bounded, fc, mutated, RUNS } from '../../support/property.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

/** Real configs: every default written out, and the example in the README's Configuration section. */
const defaults = validateConfig({});
assert.ok(defaults.ok);
const readmeExample = /## Configuration[\s\S]*?```json\n([\s\S]*?)```/.exec(
  readFileSync(join(repoRoot, 'README.md'), 'utf8'),
)?.[1];
const realConfigs = [JSON.stringify(defaults.config, null, 2), ...(readmeExample ? [readmeExample] : [])];

function checkResult(r: ReturnType<typeof validateConfig>, source: string): void {
  if (r.ok) {
    assertWellTyped(r.config);
    return;
  }
  assert.ok(r.errors.length > 0);
  for (const e of r.errors) {
    assert.equal(typeof e, 'string');
    assert.ok(e.startsWith(`${source}: `), `"${e}" does not name ${source}`);
    assert.ok(e.length < 2000, 'an error message stays readable');
  }
}

describe('config loader: properties', () => {
  it('validates any value (JSON, odd JS values, real configs with values replaced) without throwing', () => {
    const realObjects = realConfigs.map((t) => JSON.parse(t) as Record<string, unknown>);
    const replaced = fc
      .tuple(
        fc.constantFrom(...realObjects),
        fc.constantFrom(...Object.keys(realObjects[0]!)),
        fc.oneof(
          fc.anything({ maxDepth: 2, withBigInt: true }),
          fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 1e308),
        ),
      )
      .map(([o, k, v]) => ({ ...o, [k]: v }));
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.anything({ maxDepth: 2, withBigInt: true }), replaced),
        (input) => {
          checkResult(
            bounded(() => validateConfig(input, 'config.json')),
            'config.json',
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('loads any file (bytes, text, mutated real configs) without throwing; errors name the file', () => {
    const path = join(dir.path, 'config.json');
    fc.assert(
      fc.property(fc.oneof(anyText, mutated(realConfigs)), (text) => {
        writeFileSync(path, text);
        const r = bounded(() => loadConfig(path));
        checkResult(r, path);
      }),
      { numRuns: Math.min(RUNS, 400) },
    );
  });
});
