import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
