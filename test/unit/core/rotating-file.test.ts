import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../../src/main/core/logger.js';
import { RotatingFile, rotatedName, rotateInPlace } from '../../../src/main/core/rotating-file.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
let seq = 0;
const fresh = (): string => {
  const d = join(dir.path, `case-${++seq}`);
  mkdirSync(d);
  return d;
};
/** One JSON line of exactly 100 bytes. */
const line = (i: number): string =>
  `${JSON.stringify({ i, pad: 'x'.repeat(99 - JSON.stringify({ i, pad: '' }).length) })}\n`;

describe('the log file rotates by size and keeps a count', () => {
  it('past the size the current file becomes .1, older ones shift, only `keep` stay, the name never changes', () => {
    const d = fresh();
    const file = join(d, 'exo-sentinel.log');
    const f = new RotatingFile(file, { maxBytes: 1000, keep: 3 });
    const size = line(0).length;
    const n = 60;
    for (let i = 0; i < n; i++) f.write(line(i));
    f.close();
    assert.equal(size, 100);
    assert.deepEqual(readdirSync(d).sort(), [
      'exo-sentinel.1.log',
      'exo-sentinel.2.log',
      'exo-sentinel.3.log',
      'exo-sentinel.log',
    ]);
    assert.equal(f.rotations, 5, '60 lines of 100 bytes in files of 10 lines');
    const read = (p: string): number[] =>
      readFileSync(p, 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { i: number }).i);
    // Newest in the current file, then .1, .2, .3: the last 40 lines, in order, none split.
    const kept = [3, 2, 1].flatMap((k) => read(rotatedName(file, k))).concat(read(file));
    assert.deepEqual(
      kept,
      Array.from({ length: 40 }, (_, k) => 20 + k),
    );
    for (const name of readdirSync(d)) assert.ok(statSync(join(d, name)).size <= 1000, name);
  });

  it('a file already past the size when opened (a restart) rotates at the first line', () => {
    const d = fresh();
    const file = join(d, 'exo-sentinel.log');
    writeFileSync(file, 'y'.repeat(1500));
    const f = new RotatingFile(file, { maxBytes: 1000, keep: 2 });
    f.write(line(1));
    f.close();
    assert.equal(statSync(rotatedName(file, 1)).size, 1500);
    assert.equal(readFileSync(file, 'utf8'), line(1));
  });

  it('through the logger: JSON lines, rotated, the current file holds the newest', async () => {
    const d = fresh();
    const file = join(d, 'logs', 'exo-sentinel.log');
    const { logger, close } = await createLogger({
      level: 'info',
      file,
      terminal: false,
      rotation: { maxBytes: 4096, keep: 2 },
    });
    for (let i = 0; i < 200; i++) logger.info({ i }, 'tick');
    await close();
    assert.deepEqual(readdirSync(join(d, 'logs')).sort(), [
      'exo-sentinel.1.log',
      'exo-sentinel.2.log',
      'exo-sentinel.log',
    ]);
    const last = readFileSync(file, 'utf8').trim().split('\n').pop()!;
    assert.equal((JSON.parse(last) as { i: number }).i, 199);
    assert.ok(statSync(rotatedName(file, 1)).size <= 4096);
  });

  it('a file that cannot be written is reported once, lines are dropped, and writing resumes by itself', () => {
    const d = fresh();
    const blocker = join(d, 'logs');
    writeFileSync(blocker, 'a file where the directory should be');
    const reports: Array<string | null> = [];
    const f = new RotatingFile(join(blocker, 'exo-sentinel.log'), { maxBytes: 1000, keep: 2 }, (m) =>
      reports.push(m),
    );
    f.write(line(1));
    f.write(line(2));
    assert.equal(reports.length, 1);
    assert.match(reports[0]!, /^the log file .*logs\/exo-sentinel\.log cannot be written: (EEXIST|ENOTDIR)$/);
    rmSync(blocker);
    f.write(line(3));
    f.close();
    assert.deepEqual(reports.slice(1), [null]);
    assert.equal(readFileSync(join(blocker, 'exo-sentinel.log'), 'utf8'), line(3));
    f.write(line(4));
    assert.equal(readFileSync(join(blocker, 'exo-sentinel.log'), 'utf8'), line(3), 'closed: ignored');
  });
});

describe('a log file removed or replaced while open', () => {
  it('is found at the next line a second after the last look and opened again by its name, its directory recreated', () => {
    const d = fresh();
    const logs = join(d, 'logs');
    let now = 1_000_000;
    const f = new RotatingFile(
      join(logs, 'exo-sentinel.log'),
      { maxBytes: 10_000, keep: 2 },
      undefined,
      () => now,
    );
    f.write(line(1));
    rmSync(logs, { recursive: true });
    now += 500;
    f.write(line(2)); // within a second: still the unlinked file
    assert.equal(existsSync(logs), false);
    now += 500;
    f.write(line(3));
    assert.equal(
      readFileSync(join(logs, 'exo-sentinel.log'), 'utf8'),
      line(3),
      'the directory and file are back',
    );
    // Replaced by another file of that name (an editor, a copy): the new one is written.
    writeFileSync(join(logs, 'exo-sentinel.log'), 'someone else\n');
    now += 1_000;
    f.write(line(4));
    f.close();
    assert.equal(readFileSync(join(logs, 'exo-sentinel.log'), 'utf8'), `someone else\n${line(4)}`);
  });
});

describe("the agent's stdout/stderr files rotate in place", () => {
  it('copied to .1 and truncated; a process appending through its own descriptor goes on at the start', () => {
    const d = fresh();
    const out = join(d, 'launchd.err.log');
    // As launchd does: the file opened for appending and handed to the daemon as its stderr.
    const fd = openSync(out, 'a');
    try {
      writeSync(fd, 'z'.repeat(3000));
      assert.equal(rotateInPlace(out, { maxBytes: 1024, keep: 2 }), true);
      assert.equal(statSync(rotatedName(out, 1)).size, 3000);
      assert.equal(statSync(out).size, 0);
      const child = spawnSync('/bin/sh', ['-c', 'echo "after the rotation" >&2'], {
        stdio: ['ignore', 'ignore', fd],
      });
      assert.equal(child.status, 0);
      assert.equal(readFileSync(out, 'utf8'), 'after the rotation\n', 'no hole of NUL bytes');
      assert.equal(rotateInPlace(out, { maxBytes: 1024, keep: 2 }), false, 'under the size: left alone');
      writeSync(fd, 'w'.repeat(2000));
      rotateInPlace(out, { maxBytes: 1024, keep: 2 });
      writeSync(fd, 'v'.repeat(2000));
      rotateInPlace(out, { maxBytes: 1024, keep: 2 });
      assert.deepEqual(readdirSync(d).sort(), ['launchd.err.1.log', 'launchd.err.2.log', 'launchd.err.log']);
      assert.match(readFileSync(rotatedName(out, 1), 'utf8'), /^v+$/);
      assert.match(readFileSync(rotatedName(out, 2), 'utf8'), /^after the rotation\nw+$/);
    } finally {
      closeSync(fd);
    }
    assert.equal(rotateInPlace(join(d, 'missing.log'), { maxBytes: 1, keep: 1 }), false);
    assert.ok(!existsSync(join(d, 'missing.log')));
  });
});
