import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NEW_WATCHED, WatchAdmission } from '../../../src/main/core/exo/watch-admission.js';
import type { ProcessEntry } from '../../../src/main/core/probes/probe-types.js';
import type { ProcessRole } from '../../../src/shared/sample.js';

const OWN = 501;
const proc = (
  pid: number,
  uid: number | null = OWN,
  role: ProcessRole = 'mlx-server',
): { entry: ProcessEntry; role: ProcessRole } => ({
  entry: { pid, ppid: 1, argv: ['mlx_lm.server'], executable: null, name: 'python3', startTime: pid, uid },
  role,
});

describe('new processes taken into the watch, per owner', () => {
  it('a burst, then a steady rate; those already watched always; the rest wait for a later tick', () => {
    const a = new WatchAdmission(0, OWN);
    const watched = new Set<number>();
    const known = (e: ProcessEntry) => watched.has(e.pid);
    const many = Array.from({ length: 200 }, (_, i) => proc(i + 1));
    const first = a.admit(many, known, 0);
    assert.equal(first.admitted.length, NEW_WATCHED.own.burst);
    assert.equal(first.deferred, 200 - NEW_WATCHED.own.burst);
    // Oldest first: the first 120 by start time.
    assert.deepEqual(
      first.admitted.map((m) => m.entry.pid),
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    for (const m of first.admitted) watched.add(m.entry.pid);
    // 10 s later: 10 more (60 a minute), and every one already watched.
    const later = a.admit(many, known, 10_000);
    assert.equal(later.admitted.length, 130);
    assert.equal(later.deferred, 70);
  });

  it("another user's processes have a budget of their own: a flood of them never delays this user's", () => {
    const a = new WatchAdmission(0, OWN);
    const foreign = Array.from({ length: 100 }, (_, i) => proc(1000 + i, 65534));
    const r = a.admit([...foreign, proc(5, OWN), proc(6, 0)], () => false, 0);
    assert.equal(r.admitted.filter((m) => m.entry.uid === 65534).length, NEW_WATCHED.foreign.burst);
    assert.ok(r.admitted.some((m) => m.entry.pid === 5) && r.admitted.some((m) => m.entry.pid === 6));
    // Unknown owner (a probe that does not read owners): this user's budget.
    const unknownOwner = new WatchAdmission(0, OWN).admit([proc(7, null)], () => false, 0);
    assert.equal(unknownOwner.admitted.length, 1);
  });

  it('a clock set back refills nothing; one set far forward refills at most the burst', () => {
    const a = new WatchAdmission(1_000_000, OWN);
    const flood = (base: number) => Array.from({ length: 500 }, (_, i) => proc(base + i, 65534));
    assert.equal(a.admit(flood(0), () => false, 1_000_000).admitted.length, 12);
    assert.equal(a.admit(flood(1000), () => false, 0).admitted.length, 0, 'set back an hour');
    assert.equal(a.admit(flood(2000), () => false, 10 ** 12).admitted.length, 12, 'set forward years');
  });

  it("EXO's runner goes first among new processes, however young: it holds the Metal memory", () => {
    const a = new WatchAdmission(0, OWN);
    const older = Array.from({ length: 200 }, (_, i) => proc(i + 1));
    const runner = proc(100_000, OWN, 'exo-runner');
    const r = a.admit([...older, runner], () => false, 0);
    assert.ok(r.admitted.includes(runner));
    assert.equal(r.deferred, 201 - NEW_WATCHED.own.burst);
  });
});
