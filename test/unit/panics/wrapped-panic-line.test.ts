import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePanicReport } from '../../../src/main/core/panics/panic-parser.js';
import { fixture, listFixtures } from '../../support/fixtures.js';

/** The fixture's panic line and the text after it. */
function split(text: string): { line: string; rest: string } {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes('panic(cpu'));
  return { line: lines[i]!.slice(lines[i]!.indexOf('panic(cpu')), rest: lines.slice(i + 1).join('\n') };
}

const plainFixtures = listFixtures('panics').filter((f) => !f.includes('itlwm'));

describe('pasted panic lines wrapped mid-phrase classify like the unwrapped text', () => {
  for (const f of plainFixtures) {
    it(`${f}: wrapped at every space, and mid-word`, () => {
      const text = fixture(f);
      const { line, rest } = split(text);
      const expected = parsePanicReport(text).kind;
      const wraps: string[] = [];
      for (let i = line.indexOf('):') + 2; i < line.length; i++) {
        if (line[i] === ' ') wraps.push(`${line.slice(0, i)}\n${line.slice(i + 1)}`);
        // Mid-word: a hard wrap at a fixed column splits words.
        else if (i % 7 === 0) wraps.push(`${line.slice(0, i)}\n${line.slice(i)}`);
      }
      assert.ok(wraps.length > 5);
      for (const w of wraps) {
        const got = parsePanicReport(`${w}\n${rest}`);
        assert.equal(got.kind, expected, `wrapped as:\n${w}`);
      }
      // Wrapped over three lines.
      const words = line.split(' ');
      const third = Math.floor(words.length / 3);
      const three = [
        words.slice(0, third).join(' '),
        words.slice(third, 2 * third).join(' '),
        words.slice(2 * third).join(' '),
      ].join('\n');
      assert.equal(parsePanicReport(`${three}\n${rest}`).kind, expected);
    });
  }

  it('the known shapes: watchdog, cM split inside the quote, IOGPUGroupMemory split in the file name', () => {
    const cases: Array<[string, string]> = [
      [
        'panic(cpu 0 caller 0xfffffe00427add7c): watchdog timeout: no checkins from\nwatchdogd in 92 seconds (224 total checkins since monitoring last enabled)\nDebugger message: panic',
        'watchdogTimeout',
      ],
      [
        'panic(cpu 0 caller 0xfffffe00427add7c): watchdog timeout: no checkins from watch\ndogd in 92 seconds',
        'watchdogTimeout',
      ],
      [
        'panic(cpu 7 caller 0xfffffe003a536cf8): "completeMemory() prepare count\nunderflow" @IOGPUMemory.cpp:492\nDebugger message: panic',
        'completeMemory',
      ],
      [
        'panic(cpu 7 caller 0xfffffe003a536cf8): "completeMemory() prepare count under\nflow" @IOGPUMemory.cpp:550',
        'completeMemory',
      ],
      [
        'panic(cpu 0): "IOGPUGroupMemory::remove_memory_object() memory object not found" @IOGPUGroup\nMemory.cpp:323',
        'iogpuSibling',
      ],
    ];
    for (const [text, kind] of cases) assert.equal(parsePanicReport(text).kind, kind, text);
    const joined = parsePanicReport(cases[0]![0]);
    assert.equal(
      joined.panicLine,
      'panic(cpu 0 caller 0xfffffe00427add7c): watchdog timeout: no checkins from watchdogd in 92 seconds (224 total checkins since monitoring last enabled)',
    );
  });

  it('does not swallow the lines after a complete panic line of another kind', () => {
    const p = parsePanicReport(
      'panic(cpu 6 caller 0xfffffe00489b8010): cpt_mapcnt_inc: refcnt overflow: rc 0xfffffdc00ea6f7c8 old_value 2048 value 2049\nsome unrelated line\nDebugger message: panic\n',
    );
    assert.equal(p.kind, 'other');
    assert.equal(
      p.panicLine,
      'panic(cpu 6 caller 0xfffffe00489b8010): cpt_mapcnt_inc: refcnt overflow: rc 0xfffffdc00ea6f7c8 old_value 2048 value 2049',
    );
  });
});
