import assert from 'node:assert/strict';
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { formatLogLine } from '../../../src/main/headless/commands/logs-command.js';
import { type FilePlace, followFile, lastLines, tail } from '../../../src/main/headless/log-tail.js';
import { progressStyle } from '../../../src/main/headless/progress.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

/** Follows `file` (from `from`, else its end), runs `act`, and gives the lines once `want` came (3 s at most). */
async function followed(file: string, want: number, act: () => void, from?: FilePlace): Promise<string[]> {
  const got: string[] = [];
  const follow = followFile(
    file,
    (l) => got.push(...l),
    () => {},
    10,
    from,
  );
  act();
  const deadline = Date.now() + 3000;
  while (got.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  follow.stop();
  return got;
}

describe('log tail and progress pieces', () => {
  it('lastLines reads from the end, across chunk edges, with or without a final newline', () => {
    const file = join(dir.path, 'big.log');
    const lines = Array.from({ length: 3000 }, (_, i) => `${i} ${'x'.repeat(i % 700)}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    assert.deepEqual(lastLines(file, 3), lines.slice(-3));
    assert.deepEqual(lastLines(file, 2500), lines.slice(-2500));
    assert.deepEqual(lastLines(file, 10_000), lines);
    assert.deepEqual(lastLines(file, 0), []);
    writeFileSync(file, 'a\nb');
    assert.deepEqual(lastLines(file, 5), ['a', 'b']);
    writeFileSync(file, '');
    assert.deepEqual(lastLines(file, 5), []);
    // Bounded: reading stops at maxBytes and drops the cut line.
    writeFileSync(file, `${'y'.repeat(300_000)}\nlast\n`);
    assert.deepEqual(lastLines(file, 5, 70_000), ['last']);
  });

  it('following on from a tail misses nothing written between the read and the follow', async () => {
    const file = join(dir.path, 'race.log');
    writeFileSync(file, 'a\nb\n');
    const read = tail(file, 1);
    assert.deepEqual(read.lines, ['b']);
    assert.equal(read.end.pos, 4);
    // Written after the read, before the follower opens the file: the window the CLI had.
    appendFileSync(file, 'c\n');
    const got = await followed(file, 2, () => appendFileSync(file, 'd\n'), read.end);
    assert.deepEqual(got, ['c', 'd']);
    // Without a place, a follower starts at the end as before.
    const late = await followed(file, 1, () => appendFileSync(file, 'e\n'));
    assert.deepEqual(late, ['e']);
  });

  it('a character split across two 64 KiB reads arrives whole', async () => {
    const file = join(dir.path, 'utf8.log');
    writeFileSync(file, '');
    // 65,535 bytes, then a 2-byte é: its first byte ends the first 64 KiB read.
    const got = await followed(file, 1, () => appendFileSync(file, `${'a'.repeat(65_535)}é\n`));
    assert.equal(got.length, 1);
    assert.ok(got[0]!.endsWith('aé'), JSON.stringify(got[0]!.slice(-4)));
    assert.ok(!got[0]!.includes('\uFFFD'));
  });

  it('a file replaced between the tail and the follow is read from its start', async () => {
    const file = join(dir.path, 'swap.log');
    writeFileSync(file, 'old 1\nold 2\n');
    const read = tail(file, 5);
    renameSync(file, join(dir.path, 'swap.1.log'));
    writeFileSync(file, 'new\n');
    const got = await followed(file, 1, () => {}, read.end);
    assert.deepEqual(got, ['new']);
  });

  it('formats the daemon JSON lines and leaves anything else as it is, never throwing', () => {
    assert.equal(
      formatLogLine('{"level":50,"time":0,"msg":"boom","err":{"message":"disk full"}}'),
      '1970-01-01T00:00:00.000Z ERROR boom (disk full)',
    );
    assert.equal(formatLogLine('[1,2]'), '[1,2]');
    assert.equal(formatLogLine('{"msg":5}'), '- -     ');
    // An escape written as \u001b in the JSON is shown, not obeyed; a time Date cannot hold hides nothing.
    assert.equal(
      formatLogLine('{"level":30,"time":1e20,"msg":"exo said \\u001b]0;PWNED\\u0007\\u001b[2J"}'),
      '- INFO  exo said ]0;PWNED [2J',
    );
    assert.doesNotMatch(formatLogLine('\u001b[2Jraw \u009b line'), /[\u001b\u009b]/);
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => typeof formatLogLine(s) === 'string'));
    fc.assert(fc.property(fc.json({ maxDepth: 2 }), (s) => typeof formatLogLine(s) === 'string'));
  });

  it('progress: a spinner on a terminal, plain lines with NO_COLOR or TERM=dumb, nothing otherwise', () => {
    assert.equal(progressStyle({ isTTY: true }, {}), 'spinner');
    assert.equal(progressStyle({ isTTY: true }, { NO_COLOR: '1' }), 'plain');
    assert.equal(progressStyle({ isTTY: true }, { NO_COLOR: '' }), 'spinner', 'an empty NO_COLOR is unset');
    assert.equal(progressStyle({ isTTY: true }, { TERM: 'dumb' }), 'plain');
    assert.equal(progressStyle({ isTTY: false }, {}), 'none');
    assert.equal(progressStyle({}, {}), 'none');
  });
});
