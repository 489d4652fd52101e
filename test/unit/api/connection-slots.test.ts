import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionSlots } from '../../../src/main/core/api/connection-slots.js';

describe('connection slots: who gives up a slot at the cap', () => {
  it('admits up to the cap, then closes the connection idle longest for each newcomer', () => {
    const slots = new ConnectionSlots<string>(3);
    assert.deepEqual(slots.arrive('a', 0), { kind: 'admitted' });
    assert.deepEqual(slots.arrive('b', 10), { kind: 'admitted' });
    assert.deepEqual(slots.arrive('c', 20), { kind: 'admitted' });
    assert.deepEqual(slots.arrive('d', 100), { kind: 'evicted', evicted: 'a', idleMs: 100 });
    assert.deepEqual(slots.arrive('e', 110), { kind: 'evicted', evicted: 'b', idleMs: 100 });
    assert.equal(slots.size, 3);
  });

  it('never closes a connection serving a request; refuses the newcomer when every slot is busy', () => {
    const slots = new ConnectionSlots<string>(2);
    slots.arrive('a', 0);
    slots.arrive('b', 0);
    slots.requestStarted('a');
    assert.deepEqual(slots.arrive('c', 5), { kind: 'evicted', evicted: 'b', idleMs: 5 });
    slots.requestStarted('c');
    assert.deepEqual(slots.arrive('d', 6), { kind: 'refused' });
    assert.deepEqual(slots.counts(), { idle: 0, busy: 2 });
    // Once a response is done its connection is idle again, and the next newcomer may take its slot.
    slots.requestEnded('a', 7);
    assert.deepEqual(slots.arrive('d', 9), { kind: 'evicted', evicted: 'a', idleMs: 2 });
  });

  it('counts idle time from the end of the last response, so a kept-alive client that just asked is kept', () => {
    const slots = new ConnectionSlots<string>(2);
    slots.arrive('client', 0);
    slots.arrive('flood', 50);
    slots.requestStarted('client');
    slots.requestEnded('client', 60);
    assert.deepEqual(slots.arrive('next', 70), { kind: 'evicted', evicted: 'flood', idleMs: 20 });
  });

  it('keeps a connection busy until every pipelined request on it has ended', () => {
    const slots = new ConnectionSlots<string>(1);
    slots.arrive('a', 0);
    slots.requestStarted('a');
    slots.requestStarted('a');
    slots.requestEnded('a', 1);
    assert.deepEqual(slots.arrive('b', 2), { kind: 'refused' });
    slots.requestEnded('a', 3);
    assert.deepEqual(slots.arrive('b', 4), { kind: 'evicted', evicted: 'a', idleMs: 1 });
  });

  it('with every slot busy, closes a connection still sending its request rather than refuse the newcomer', () => {
    const slots = new ConnectionSlots<string>(3);
    for (const k of ['served', 'upload-1', 'upload-2']) {
      slots.arrive(k, 0);
      slots.requestStarted(k);
    }
    const sending = new Set(['upload-1', 'upload-2']);
    const stillSending = (k: string): boolean => sending.has(k);
    assert.deepEqual(slots.arrive('d', 5, stillSending), { kind: 'sending', evicted: 'upload-1' });
    assert.deepEqual(slots.counts(), { idle: 1, busy: 2 });
    // An idle connection still goes first.
    assert.deepEqual(slots.arrive('e', 6, stillSending), { kind: 'evicted', evicted: 'd', idleMs: 1 });
    slots.requestStarted('e');
    sending.clear();
    assert.deepEqual(slots.arrive('f', 7, stillSending), { kind: 'refused' });
  });

  it('frees a slot when a connection closes; requests on a connection not held change nothing', () => {
    const slots = new ConnectionSlots<string>(1);
    slots.arrive('a', 0);
    slots.requestStarted('ghost');
    slots.requestEnded('ghost', 1);
    slots.leave('a');
    slots.leave('a');
    assert.equal(slots.size, 0);
    assert.deepEqual(slots.arrive('b', 2), { kind: 'admitted' });
    assert.deepEqual(slots.arrive('b', 3), { kind: 'admitted' }, 'a key already held is not counted twice');
    assert.equal(slots.size, 1);
  });

  it('never holds more than the cap whatever the order of events (10 000 random steps)', () => {
    const slots = new ConnectionSlots<number>(16);
    const held = new Set<number>();
    let next = 0;
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let t = 0; t < 10_000; t++) {
      const pick = [...held][rand(Math.max(1, held.size))];
      const step = rand(4);
      if (step === 0 || pick === undefined) {
        const key = next++;
        const a = slots.arrive(key, t);
        if (a.kind !== 'refused') held.add(key);
        if (a.kind === 'evicted') held.delete(a.evicted);
      } else if (step === 1) slots.requestStarted(pick);
      else if (step === 2) slots.requestEnded(pick, t);
      else {
        slots.leave(pick);
        held.delete(pick);
      }
      assert.ok(slots.size <= 16);
      assert.equal(slots.size, held.size);
    }
  });

  it('treats a cap below one as one', () => {
    assert.equal(new ConnectionSlots(0).cap, 1);
    assert.equal(new ConnectionSlots(Number.NaN).cap, 1);
  });
});
