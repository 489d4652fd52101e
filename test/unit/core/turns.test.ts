import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sortInTurns } from '../../../src/main/core/util/turns.js';
import { fc } from '../../support/property.js';

describe('sortInTurns', () => {
  it('sorts as Array#sort does, whatever the run length (code units: astral, accents, case, duplicates)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'B', 'é', '😀', '-', '0', '\uffff') }), {
          maxLength: 200,
        }),
        fc.integer({ min: 1, max: 64 }),
        async (items, run) => {
          assert.deepEqual(await sortInTurns([...items], 0, run), [...items].sort());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the event loop a turn between runs and merges', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => `n-${(i * 7919) % 20_000}`);
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const sorted = await sortInTurns(items, 0, 1000);
    clearInterval(counting);
    assert.deepEqual(sorted, [...items].sort());
    assert.ok(turns >= 5, `${turns} timer turns during the sort`);
  });
});
