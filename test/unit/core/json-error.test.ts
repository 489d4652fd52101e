import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonErrorText } from '../../../src/main/core/util/json-error.js';

const problem = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (e) {
    return jsonErrorText(e, text);
  }
  throw new Error(`parsed: ${text}`);
};

describe('JSON errors without the text', () => {
  it('an unquoted token in a configuration: its line and column, none of its characters', () => {
    const secret = 'Zq8rT3xWv9LmK2pY7nB4';
    const text = `{\n  "guard": {\n    "token": ${secret}\n  }\n}\n`;
    const message = problem(text);
    assert.equal(message, 'Unexpected character in JSON at position 28 (line 3 column 14)');
    assert.equal(text[28], 'Z');
    for (let i = 0; i + 3 <= secret.length; i++)
      assert.ok(!message.includes(secret.slice(i, i + 3)), message);
  });

  it('near the start, near the end, and in a short text', () => {
    assert.equal(problem('{"a":Zq}'), 'Unexpected character in JSON at position 5 (line 1 column 6)');
    assert.equal(
      problem('{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa":Zq}'),
      'Unexpected character in JSON at position 40 (line 1 column 41)',
    );
    assert.equal(problem('xyz'), 'Unexpected character in JSON at position 0 (line 1 column 1)');
  });

  it("V8's other messages pass through: they name a position and quote nothing", () => {
    assert.equal(
      problem('{"a":1,}'),
      'Expected double-quoted property name in JSON at position 7 (line 1 column 8)',
    );
    assert.equal(problem('{"a":"x'), 'Unterminated string in JSON at position 7 (line 1 column 8)');
  });

  it('never quotes a run of the text (random texts with a bad character in them)', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', 'b', 'x', '1', ':', '"', '{', '}', ',', ' ', '\n'),
          maxLength: 40,
        }),
        fc.string({ unit: fc.constantFrom('Q', 'R', 'S', 'T'), minLength: 6, maxLength: 30 }),
        fc.string({ unit: fc.constantFrom('a', '1', '"', '}', ' '), maxLength: 40 }),
        (head, secret, tail) => {
          const text = `${head}${secret}${tail}`;
          let message: string;
          try {
            JSON.parse(text);
            return;
          } catch (e) {
            message = jsonErrorText(e, text);
          }
          assert.ok(!/[QRST]{2}/.test(message), `${JSON.stringify(text)} -> ${message}`);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
