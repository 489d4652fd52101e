import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProcessTracker } from '../../../src/main/core/exo/process-tracker.js';
import { limitWatched, MAX_WATCHED } from '../../../src/main/core/exo/watch-limit.js';
import type { ProcessEntry } from '../../../src/main/core/probes/probe-types.js';
import { ARGV_CHARS, boundedArgv } from '../../../src/main/core/store/event-bounds.js';
import type { ProcessRole } from '../../../src/shared/sample.js';

const proc = (pid: number, role: ProcessRole, startTime: number | null = 1000 + pid) => ({
  entry: { pid, ppid: 1, argv: ['x'], executable: null, name: null, startTime } satisfies ProcessEntry,
  role,
});

describe('how many processes are watched', () => {
  it(`at most ${MAX_WATCHED}: EXO's own first, then those already watched, then the longest running, in their order`, () => {
    // 3000 processes named mlx_lm.server by anyone, started before and after EXO's.
    const flood = Array.from({ length: 3000 }, (_, i) =>
      proc(10_000 + i, 'mlx-server', i < 1500 ? 10 : 99_999),
    );
    const exo = [
      proc(500, 'exo-main', 50_000),
      proc(501, 'exo-runner', 50_001),
      proc(502, 'exo-runner', 50_002),
    ];
    const realServer = proc(600, 'mlx-server', 60_000);
    const all = [...flood.slice(0, 1000), exo[0]!, ...flood.slice(1000), exo[1]!, exo[2]!, realServer];
    const known = new Set([600]);
    const { kept, leftOut } = limitWatched(all, (e) => known.has(e.pid));
    assert.equal(kept.length, MAX_WATCHED);
    assert.equal(leftOut, all.length - MAX_WATCHED);
    for (const e of [...exo, realServer]) assert.ok(kept.includes(e), `${e.role} ${e.entry.pid} kept`);
    // The rest are the longest running of the flood (started at 10), lowest pids first.
    const rest = kept.filter((w) => !exo.includes(w) && w !== realServer);
    assert.ok(rest.every((w) => w.entry.startTime === 10));
    assert.deepEqual(
      kept.map((w) => all.indexOf(w)),
      [...kept.map((w) => all.indexOf(w))].sort((a, b) => a - b),
      'in the order they came',
    );
    const few = [proc(1, 'exo-main'), proc(2, 'mlx-server')];
    assert.deepEqual(
      limitWatched(few, () => false),
      { kept: few, leftOut: 0 },
    );
  });
});

describe('the watch limit against copies of EXO', () => {
  it("64 copies of a main's shape, already watched, do not push out the real main and its new runner", () => {
    const fakes = Array.from({ length: 64 }, (_, i) => proc(2000 + i, 'exo-main', 10));
    const main = proc(500, 'exo-main', 50_000);
    const runner = {
      ...proc(501, 'exo-runner', 60_000),
      entry: { ...proc(501, 'exo-runner').entry, ppid: 500 },
    };
    const known = new Set(fakes.map((f) => f.entry.pid));
    const { kept } = limitWatched([...fakes, main, runner], (e) => known.has(e.pid));
    assert.ok(kept.includes(runner), 'the runner first');
    assert.ok(kept.includes(main), "then the runner's parent");
    assert.equal(kept.length, MAX_WATCHED);
  });

  it("another user's 64 copies of a runner, already watched, come after this user's runner and main", () => {
    const own = 501;
    const other = 777;
    const copies = Array.from({ length: 64 }, (_, i) => ({
      ...proc(3000 + i, 'exo-runner', 10),
      entry: { ...proc(3000 + i, 'exo-runner', 10).entry, ppid: 2999, uid: other },
    }));
    const main = { ...proc(500, 'exo-main', 50_000), entry: { ...proc(500, 'exo-main').entry, uid: own } };
    const runner = {
      ...proc(501, 'exo-runner', 60_000),
      entry: { ...proc(501, 'exo-runner').entry, ppid: 500, uid: own },
    };
    const known = new Set(copies.map((c) => c.entry.pid));
    const { kept } = limitWatched([...copies, main, runner], (e) => known.has(e.pid), MAX_WATCHED, own);
    assert.ok(kept.includes(runner) && kept.includes(main));
    // Without owners (macOS probes today) the copies, already watched, would win: the rank is the shape alone.
    const blind = limitWatched(
      [...copies, main, runner].map((w) => ({ ...w, entry: { ...w.entry, uid: undefined } })),
      (e) => known.has(e.pid),
      MAX_WATCHED,
      own,
    );
    assert.equal(
      blind.kept.some((w) => w.entry.pid === 501),
      false,
    );
  });

  it('a process left out by the limit is not said to have exited: it still runs', () => {
    const tracker = new ProcessTracker();
    const a = proc(1, 'mlx-server');
    const b = proc(2, 'mlx-server');
    tracker.update([a, b]);
    assert.deepEqual(tracker.update([a], [a, b]), [], 'b is left out, not gone');
    assert.deepEqual(
      tracker.update([a], [a]).map((c) => c.kind),
      [],
    );
    const exited = new ProcessTracker();
    exited.update([a, b]);
    assert.deepEqual(
      exited.update([a]).map((c) => [c.kind, c.entry.pid]),
      [['exited', 2]],
    );
  });
});

describe('a command line as stored', () => {
  it('is at most 4096 characters in at most 65 arguments; a short one is kept as it is', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3000 }), { maxLength: 200 }), (argv) => {
        const b = boundedArgv(argv);
        assert.ok(b.length <= 65);
        assert.ok(b.join('').length <= ARGV_CHARS + 1);
        if (argv.length <= 64 && argv.every((a) => a.length <= 1024) && argv.join('').length <= ARGV_CHARS)
          assert.deepEqual(b, argv);
        else assert.equal(b.at(-1)?.endsWith('…'), true);
      }),
    );
    assert.deepEqual(boundedArgv(['python', '-m', 'exo.main']), ['python', '-m', 'exo.main']);
    // One that fits is the same array: nothing is allocated for it on every tick.
    const short = ['python', '-m', 'exo.main'];
    assert.equal(boundedArgv(short), short);
    assert.equal(boundedArgv(['mlx_lm.server', 'a'.repeat(1_800_000)]).join(' ').length < 1100, true);
  });
});
