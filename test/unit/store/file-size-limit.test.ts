import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  fileSizeLimit,
  fileSizeLimitHit,
  WRITE_ERRORS,
} from '../../../src/main/core/store/file-size-limit.js';
import { describeStoreProblem } from '../../../src/main/headless/store-problem.js';
import { tempDir } from '../../support/temp-dir.js';

// /proc/self/limits as Linux prints it (an excerpt: the header and the file size line of a real one).
const limits = (soft: string, hard: string) =>
  `Limit                     Soft Limit           Hard Limit           Units     \n` +
  `Max cpu time              unlimited            unlimited            seconds   \n` +
  `Max file size             ${soft.padEnd(20)} ${hard.padEnd(20)} bytes     \n`;

describe('the file size limit', () => {
  it('reads the soft limit in bytes; unlimited, missing or garbled is null', () => {
    assert.equal(
      fileSizeLimit(() => limits('1048576', 'unlimited')),
      1_048_576,
    );
    assert.equal(
      fileSizeLimit(() => limits('unlimited', 'unlimited')),
      null,
    );
    assert.equal(
      fileSizeLimit(() => limits('12abc', '5')),
      null,
    );
    assert.equal(
      fileSizeLimit(() => 'Limit Soft Hard\n'),
      null,
    );
    assert.equal(
      fileSizeLimit(() => {
        throw Object.assign(new Error('no /proc'), { code: 'ENOENT' });
      }),
      null,
    );
    // This process's own, read for real where /proc exists.
    if (process.platform === 'linux') assert.equal(fileSizeLimit(), null, 'tests run without a limit');
  });

  it('is named only when the database or its log has grown to within one write of it', () => {
    const dir = tempDir('fsize-');
    try {
      const db = `${dir.path}/timeline.db`;
      writeFileSync(db, Buffer.alloc(4096));
      writeFileSync(`${db}-wal`, Buffer.alloc(200_000));
      assert.equal(fileSizeLimitHit(db, null), null, 'no limit');
      assert.equal(fileSizeLimitHit(db, 10_000_000), null, 'far below it');
      assert.deepEqual(fileSizeLimitHit(db, 205_000), { file: `${db}-wal`, size: 200_000, limit: 205_000 });
      assert.deepEqual(fileSizeLimitHit(db, 8192), { file: db, size: 4096, limit: 8192 });
      // A limit far above a small file (under 64 KiB, as a fresh database is) is not what stopped it.
      assert.equal(fileSizeLimitHit(db, 50_000), null);
      assert.equal(fileSizeLimitHit(`${dir.path}/absent.db`, 8192), null);
    } finally {
      dir.cleanup();
    }
  });
});

describe('which errors are put down to the limit', () => {
  it('writes only: a read error (a log cut short) with a limit set says what it is', () => {
    const dir = tempDir('fsize-read-');
    try {
      const db = `${dir.path}/timeline.db`;
      writeFileSync(db, Buffer.alloc(4096));
      const read = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_SHORT_READ' });
      assert.equal(WRITE_ERRORS.has('SQLITE_IOERR_SHORT_READ'), false);
      assert.match(describeStoreProblem(read, db) ?? '', /^I\/O error on /);
      for (const code of ['EFBIG', 'SQLITE_IOERR_WRITE', 'SQLITE_FULL'])
        assert.equal(WRITE_ERRORS.has(code), true);
    } finally {
      dir.cleanup();
    }
  });
});
