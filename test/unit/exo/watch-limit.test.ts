import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
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
    assert.equal(boundedArgv(['mlx_lm.server', 'a'.repeat(1_800_000)]).join(' ').length < 1100, true);
  });
});
