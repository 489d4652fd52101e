import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { openDatabase } from '../../../src/main/core/store/database.js';
import {
  boundedArgv,
  boundedData,
  boundedMessage,
  cutText,
  EVENT_DATA_CHARS,
  EVENT_MESSAGE_CHARS,
} from '../../../src/main/core/store/event-bounds.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import { collectGarbage } from '../../support/collect-garbage.js';

const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

describe('what the timeline stores of an event', () => {
  it('a message of any length is at most EVENT_MESSAGE_CHARS, cut with "…", never inside a surrogate pair', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 3000 }), fc.nat({ max: 2500 }), (s, pad) => {
        const text = 'x'.repeat(pad) + s;
        const m = boundedMessage(text);
        assert.ok(m.length <= EVENT_MESSAGE_CHARS);
        if (text.length <= EVENT_MESSAGE_CHARS) assert.equal(m, text);
        else {
          assert.ok(m.endsWith('…'));
          assert.ok(text.startsWith(m.slice(0, -1)));
          if (wellFormed(text)) assert.ok(wellFormed(m), 'a pair was split');
        }
      }),
    );
    assert.equal(cutText('😀😀😀', 4), '😀…');
  });

  it('a cut keeps none of the string it was cut from (50 pieces of 1.8 MB command lines hold a few MB, not 90)', async () => {
    const kept: string[] = [];
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50; i++) {
      // Built at run time, as a command line read from a process is (a literal would be shared).
      const line = `mlx_lm.server ${String(i).repeat(1)}${'a'.repeat(1_800_000)}`;
      kept.push(...boundedArgv([line]));
    }
    await collectGarbage();
    const grown = (process.memoryUsage().heapUsed - before) / 2 ** 20;
    assert.equal(kept.length, 50);
    assert.ok(grown < 20, `the heap grew ${grown.toFixed(1)} MiB`);
  });

  it('data of any shape and size is stored as JSON of at most EVENT_DATA_CHARS that parses', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string({ maxLength: 30 }),
        fc.constantFrom('y'.repeat(5000), 'z'.repeat(40_000)),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 200 }),
        fc.dictionary(fc.string({ maxLength: 300 }), tie('node'), { maxKeys: 100 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 20 }), value, { maxKeys: 8 }), (data) => {
        const stored = boundedData(data);
        assert.ok(stored !== null);
        assert.ok(stored.length <= EVENT_DATA_CHARS, `${stored.length} chars`);
        const back = JSON.parse(stored) as Record<string, unknown>;
        if (JSON.stringify(data).length <= EVENT_DATA_CHARS) assert.equal(stored, JSON.stringify(data));
        else assert.equal(back['clipped'], true);
      }),
      { numRuns: 200 },
    );
    assert.equal(boundedData(undefined), null);
  });

  it('a guard request event with a 1 MB model name is stored at a few KB, its small fields whole', () => {
    const db = openDatabase(':memory:');
    const store = new TimelineStore(db);
    const model = 'm'.repeat(1_000_000);
    store.writeEvent({
      time: 1,
      kind: 'guard.request',
      severity: 'warning',
      message: `refuse chat ${model}: 503 — the queue is full`,
      data: { endpoint: 'chat', model, status: 503, queuedMs: 12 },
    });
    const row = db.prepare('SELECT length(message) m, length(data) d, data FROM events').get() as {
      m: number;
      d: number;
      data: string;
    };
    assert.equal(row.m, EVENT_MESSAGE_CHARS);
    assert.ok(row.d < 1000, `${row.d} chars of data`);
    const data = JSON.parse(row.data) as Record<string, unknown>;
    assert.deepEqual(
      {
        endpoint: data['endpoint'],
        status: data['status'],
        queuedMs: data['queuedMs'],
        clipped: data['clipped'],
      },
      { endpoint: 'chat', status: 503, queuedMs: 12, clipped: true },
    );
    assert.equal((data['model'] as string).length, 200);
    db.close();
  });
});
