import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wantsColor } from '../../../src/main/core/logger.js';
import { errorLine, usageLine } from '../../../src/main/headless/error-line.js';
import {
  asksExitStatus,
  EXIT_UNKNOWN,
  exitCodeForLevel,
  LEVEL_EXIT_CODES,
} from '../../../src/main/headless/exit-status.js';

describe('status --exit-status codes', () => {
  it('are 0 ok, 1 elevated, 2 high, 3 critical, 4 unknown', () => {
    assert.deepEqual(
      (['ok', 'elevated', 'high', 'critical'] as const).map((l) => exitCodeForLevel(l)),
      [0, 1, 2, 3],
    );
    assert.equal(exitCodeForLevel(null), 4);
    assert.equal(exitCodeForLevel(undefined), 4);
    assert.equal(exitCodeForLevel('bogus' as never), 4, 'a level this version does not know is unknown');
    assert.equal(EXIT_UNKNOWN, 4);
    assert.deepEqual(Object.keys(LEVEL_EXIT_CODES), ['ok', 'elevated', 'high', 'critical']);
  });

  it('are asked for by `status --exit-status` only', () => {
    assert.equal(asksExitStatus(['node', 'cli.js', 'status', '--exit-status']), true);
    assert.equal(
      asksExitStatus(['node', 'cli.js', '--data-dir', 'd', 'status', '--exit-status', '--jsn']),
      true,
    );
    assert.equal(asksExitStatus(['node', 'cli.js', 'status', '--json']), false);
    assert.equal(asksExitStatus(['node', 'cli.js', 'timeline', '--exit-status']), false);
  });
});

describe('errors on stderr', () => {
  const error = (): Error => {
    const e = new Error("ENOENT: no such file or directory, open '/x/y.md'\n  (second line)");
    e.stack = `Error: ${e.message}\n    at writeFileSync (node:fs:2380:20)\n    at main (cli.js:1:1)`;
    return e;
  };

  it('is one line without --debug: the message, and how to see more', () => {
    const line = errorLine(error(), false);
    assert.equal(
      line,
      "exo-sentinel: ENOENT: no such file or directory, open '/x/y.md' (second line) (run with --debug for the stack trace)\n",
    );
    assert.equal(line.split('\n').length, 2, 'one line and its newline');
    assert.equal(
      errorLine('a thrown string', false),
      'exo-sentinel: a thrown string (run with --debug for the stack trace)\n',
    );
  });

  it('carries the stack trace with --debug', () => {
    const text = errorLine(error(), true);
    assert.match(text, /^exo-sentinel: Error: ENOENT/);
    assert.match(text, /\n {4}at writeFileSync \(node:fs:2380:20\)/);
    assert.equal(errorLine(42, true), 'exo-sentinel: 42\n');
  });

  it("turns commander's messages into one line naming the command and its help", () => {
    assert.equal(
      usageLine('exo-sentinel status', "error: unknown option '--jsn'\n(Did you mean --json?)\n"),
      "exo-sentinel status: unknown option '--jsn' (did you mean --json?); see exo-sentinel status --help\n",
    );
    assert.equal(
      usageLine('exo-sentinel', "error: unknown command 'bogus'\n"),
      "exo-sentinel: unknown command 'bogus'; see exo-sentinel --help\n",
    );
  });
});

describe('colour', () => {
  it('only on a terminal, and never when NO_COLOR is set to anything but ""', () => {
    assert.equal(wantsColor({ isTTY: true }, {}), true);
    assert.equal(wantsColor({ isTTY: false }, {}), false);
    assert.equal(wantsColor({}, {}), false);
    assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: 'false' }), false, 'any value means no colour');
    assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is not set');
  });
});
