import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configJsonSchema } from '../../../src/main/core/config/config-json-schema.js';
import { leaves, limits, spec } from '../../../src/renderer/tabs/settings-schema.js';
import type { JsonSchemaNode } from '../../../src/shared/api-contracts.js';

const field = (key: string) => {
  const f = leaves(configJsonSchema() as JsonSchemaNode, '').find((l) => l.key === key);
  assert.ok(f, key);
  return f;
};

describe('the Settings form read from the served JSON Schema', () => {
  it('states each number field its range as a person reads it', () => {
    assert.equal(limits(field('gpu.ceilingBytes').base), '≥ 1');
    assert.equal(field('gpu.ceilingBytes').nullable, true);
    assert.equal(limits(field('intervalSeconds').base), '0.1 to 60');
    assert.equal(limits(field('guard.contextCap').base), '≥ 256');
    // An integer's own range (the safe integers) is no bound worth showing.
    assert.equal(limits({ type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, exclusiveMinimum: 0 }), '> 0');
  });

  it('sees a nullable scalar written either way draft-07 allows', () => {
    const asAnyOf = spec('k', { anyOf: [{ type: 'boolean' }, { type: 'null' }] });
    const asTypes = spec('k', { type: ['boolean', 'null'] });
    for (const s of [asAnyOf, asTypes]) {
      assert.equal(s.nullable, true);
      assert.equal(s.kind, 'boolean');
    }
    assert.equal(spec('k', { type: 'boolean' }).nullable, false);
  });
});
