import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExoLogLine } from '../../../src/main/core/exo/exo-log-parser.js';
import { DEFAULT_MLX_SERVER_PATTERNS } from '../../../src/main/core/exo/process-classifier.js';
import { compilePattern, linearRegExp } from '../../../src/main/core/util/linear-regexp.js';

describe('patterns over command lines run in linear time', () => {
  it('what backtracks for minutes elsewhere answers at once on a crafted line', () => {
    // Each of these takes seconds to minutes with a backtracking engine on the line given.
    const cases: Array<[string, string]> = [
      ['(a+)+$', `${'a'.repeat(40)}!`],
      ['(?:a|a)*b', 'a'.repeat(40)],
      ['(a|aa)*b', 'a'.repeat(60)],
      [String.raw`(\w|\d)*!`, '1'.repeat(40)],
      ['.*.*.*x', 'a'.repeat(4096)],
      ['[^z]*[^z]*[^z]*z', 'y'.repeat(4096)],
    ];
    const t0 = performance.now();
    for (const [p, line] of cases) assert.equal(compilePattern(p).test(line), false, p);
    // Seconds each with backtracking; all of them together here in well under one.
    assert.ok(performance.now() - t0 < 1000, `${(performance.now() - t0).toFixed(0)} ms`);
  });

  it("EXO's log: a line any program of its user appends is read in time in proportion to it", () => {
    // A run of spaces before a last character: `(.+?)\s*$` took 1.9 s at 64 KiB and 29 s at 256 KiB, and
    // one 1 MiB line held the daemon (sampling, API, guard) for 7 minutes. A line is read as its first 4 KiB,
    // and what one poll reads (1 MiB) of lines just under that is read at once.
    const head = '[ 2026-06-22 14:03:11.512 | INFO     | exo.worker.runner:run:12 ] ';
    const spaces = ' '.repeat(4000);
    const poll = [
      `${head}Wired limit set to${spaces}x`,
      `${head}Runner terminated with${spaces}x`,
      `[ 2026-06-22 14:03:11.512 | INFO | ${spaces}x`,
      `${head}Loading model${spaces}x`,
    ];
    const t0 = performance.now();
    for (let i = 0; i < 64; i++)
      assert.deepEqual(
        poll.map((l) => parseExoLogLine(l)?.kind ?? null),
        ['exo.wired-limit-set', 'exo.runner-terminated', null, 'exo.model-load'],
      );
    const whole = parseExoLogLine(`${head}Wired limit set to ${' '.repeat(1024 * 1024)}x`);
    assert.equal(whole, null, 'cut at 4 KiB: nothing after the spaces to read');
    // About 4 s with the backtracking engine.
    assert.ok(performance.now() - t0 < 1000, `${(performance.now() - t0).toFixed(0)} ms`);
    // What the rules find is unchanged on EXO's own lines.
    const wired = parseExoLogLine(`${head}Wired limit set to 96.00 GB.`);
    assert.deepEqual([wired?.kind, wired?.data['limit']], ['exo.wired-limit-set', '96.00 GB']);
    const ended = parseExoLogLine(`${head}Runner terminated with signal=9 (SIGKILL)  `);
    assert.deepEqual(ended?.data['signal'], 9);
    assert.equal(parseExoLogLine(`${head}runner crashed: exit 1`)?.kind, 'exo.runner-failed');
  });

  it('matches as a pattern should, the defaults included', () => {
    const defaults = DEFAULT_MLX_SERVER_PATTERNS.map(compilePattern);
    const hit = (line: string) => defaults.some((re) => re.test(line));
    assert.ok(hit('/opt/homebrew/bin/python3 -m mlx_lm.server --model x'));
    assert.ok(hit('/Users/me/.local/bin/omlx serve'));
    assert.ok(hit('/Applications/LM Studio.app/Contents/Resources/app/.webpack/bin/llmworker --x'));
    assert.ok(!hit('/usr/bin/python3 -m http.server'));
    assert.ok(compilePattern('(?<=/)omlx').test('/bin/omlx'));
  });

  it('refuses what the linear engine cannot run, and what does not compile, saying why', () => {
    for (const p of [String.raw`(a)\1`, '(?=a)a', String.raw`(?<n>x)\k<n>`]) {
      const r = linearRegExp(p);
      assert.ok(!r.ok && /cannot run in linear time/.test(r.problem), p);
    }
    const bad = linearRegExp('(unclosed');
    assert.ok(!bad.ok && bad.problem === 'must be a valid regular expression');
    assert.throws(() => compilePattern('(?=a)a'), /cannot run in linear time/);
  });
});
