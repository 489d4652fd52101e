import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Probe, seekPast } from '../../../src/main/core/store/database-salvage.js';

// A model of a table read from a point: the first key at or above x decides. On a damaged page: the read
// fails; past the last key: nothing; otherwise a row.
function model(keys: number[], damaged: Set<number>): (x: number) => Probe {
  return (x) => {
    const k = keys.find((v) => v >= x);
    if (k === undefined) return 'empty';
    return damaged.has(k) ? 'fail' : 'row';
  };
}

describe('seekPast: the first readable key past damaged pages', () => {
  it('finds exactly the first point past a damaged stretch, whatever the keys and the stretch', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 45 }), { minLength: 1, maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        (raw, a, b) => {
          const keys = [...raw].sort((x, y) => x - y);
          const i = a % keys.length;
          const j = i + (b % (keys.length - i));
          const damaged = new Set(keys.slice(i, j + 1));
          const base = i === 0 ? -1 : keys[i - 1]!;
          let probes = 0;
          const found = seekPast(
            base,
            (x) => {
              probes++;
              return model(keys, damaged)(x);
            },
            () => false,
          );
          const expected = j + 1 < keys.length ? keys[j]! + 1 : null;
          assert.equal(found, expected, `keys ${keys.length}, damaged ${i}..${j}, base ${base}`);
          // Doubling then halving: about two probes per bit of the distance, never a walk.
          assert.ok(probes <= 2 * 54, `${probes} probes`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('nothing readable past the damage: null; the probes allowed spent: null, and no probe past the limit', () => {
    const keys = [10, 20, 30, 40];
    assert.equal(
      seekPast(10, model(keys, new Set([20, 30, 40])), () => false),
      null,
    );
    let probes = 0;
    const found = seekPast(
      10,
      (x) => {
        probes++;
        return model(keys, new Set([20, 30]))(x);
      },
      () => probes >= 3,
    );
    assert.equal(found, null);
    assert.equal(probes, 3);
  });

  it('damage from the table start (base -1) at times in ms: the first readable time', () => {
    const t0 = 1_795_000_000_000;
    const keys = Array.from({ length: 100 }, (_, i) => t0 + i * 1000);
    assert.equal(
      seekPast(-1, model(keys, new Set(keys.slice(0, 37))), () => false),
      keys[36]! + 1,
    );
  });
});
