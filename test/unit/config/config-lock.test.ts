import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { withFileLock } from '../../../src/main/core/config/config-writer.js';
import { tempDir } from '../../support/temp-dir.js';

describe("config.json's lock (read, change and write by one writer at a time)", () => {
  const dir = tempDir('exo-sentinel-lock-');
  after(() => dir.cleanup());
  const path = join(dir.path, 'config.json');
  const lock = `${path}.lock`;

  it('is released after the write, and after a write that throws', () => {
    assert.equal(
      withFileLock(path, () => existsSync(lock)),
      true,
      'held during the write',
    );
    assert.equal(existsSync(lock), false);
    assert.throws(() =>
      withFileLock(path, () => {
        throw new Error('disk full');
      }),
    );
    assert.equal(existsSync(lock), false);
  });

  it('a lock left by a process that died is taken over at once', () => {
    writeFileSync(lock, '999999999'); // no such pid
    const t0 = Date.now();
    assert.equal(
      withFileLock(path, () => 'written'),
      'written',
    );
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(existsSync(lock), false);
  });

  it("a live writer's lock is waited for, then named (5 s), never broken", async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, String(holder.pid));
      const t0 = Date.now();
      assert.throws(
        () => withFileLock(path, () => 'written'),
        /config\.json is being changed by another process \(.*config\.json\.lock\)/,
      );
      const waited = Date.now() - t0;
      assert.ok(waited >= 4900 && waited < 8000, `${waited} ms`);
      assert.ok(existsSync(lock), "the other writer's lock stays");
    } finally {
      holder.kill();
    }
  });
});
