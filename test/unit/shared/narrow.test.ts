import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finiteNumber, finiteOrNull, isFiniteNumber, num } from '../../../src/shared/narrow.js';

describe('narrow: one rule for numbers from outside', () => {
  it('num keeps finite numbers and turns everything else into null', () => {
    for (const v of [0, -1, 1.5, Number.MAX_VALUE, -0]) assert.equal(num(v), v);
    for (const v of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      '1',
      null,
      undefined,
      {},
      [],
      true,
    ])
      assert.equal(num(v), null);
  });

  it('isFiniteNumber is the same test as a type guard', () => {
    for (const v of [0, 2.5, Number.NaN, Number.POSITIVE_INFINITY, '3', null])
      assert.equal(isFiniteNumber(v), num(v) !== null);
  });

  it('finiteOrNull catches an overflowed product', () => {
    assert.equal(finiteOrNull(Number.MAX_VALUE * 2), null);
    assert.equal(finiteOrNull(4096 * 1024), 4_194_304);
    assert.equal(finiteOrNull(undefined), null);
  });

  it('finiteNumber reads text as Number does, null when not finite', () => {
    assert.equal(finiteNumber('42'), 42);
    assert.equal(finiteNumber('1e3'), 1000);
    assert.equal(finiteNumber('9'.repeat(400)), null);
    assert.equal(finiteNumber('abc'), null);
    assert.equal(finiteNumber(undefined), null);
    assert.equal(finiteNumber(null), null);
  });
});
