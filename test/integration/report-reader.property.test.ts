import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { parsePanicReport } from '../../src/main/core/panics/panic-parser.js';
import {
  HEAD_BYTES,
  MAX_REPORT_BYTES,
  readReportFile,
  readReportFileCooperatively,
  readReportFileUpTo,
} from '../../src/main/core/panics/report-file-reader.js';
import { fixture } from '../support/fixtures.js';
import { fc } from '../support/property.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;
const dir = tempDir();
after(dir.cleanup);

/** The ledger's identity of a file since the first version: sha256 of the first 16 MiB, then `:size`. */
const ledgerHash = (bytes: Buffer): string =>
  createHash('sha256').update(bytes.subarray(0, MAX_REPORT_BYTES)).update(`:${bytes.length}`).digest('hex');

describe('the streaming report reader (real files)', () => {
  it('keeps the head and the ledger hash of any bytes, at any size around the chunk boundaries', () => {
    const path = `${dir.path}/any.panic`;
    const sizes = fc.oneof(
      fc.nat({ max: 4096 }),
      fc.integer({ min: -64, max: 64 }).map((d) => MiB + d),
      fc.integer({ min: -64, max: 64 }).map((d) => HEAD_BYTES + d),
    );
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 255 }), (size, seed) => {
        const bytes = Buffer.alloc(size);
        for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) & 0xff;
        writeFileSync(path, bytes);
        const r = readReportFile(path, dir.path);
        assert.ok(r.ok);
        assert.equal(r.sha256, ledgerHash(bytes));
        assert.equal(r.size, size);
        assert.equal(r.truncated, size > HEAD_BYTES);
        assert.equal(r.text, bytes.subarray(0, HEAD_BYTES).toString('utf8'));
      }),
      { numRuns: 40 },
    );
  });

  it('finds an Intel panic string wherever it starts past the head, even split across two chunks', () => {
    const path = `${dir.path}/intel.panic`;
    const panicText = fixture('panics/omlx-300-3.panic.txt');
    const header =
      '{"bug_type":"210","timestamp":"2026-04-23 10:00:00.00 +0000","os_version":"macOS 26.4.1 (25E253)"}\n';
    const tail = `","macOSPanicString":${JSON.stringify(panicText)}}`;
    fc.assert(
      fc.property(
        fc.constantFrom(HEAD_BYTES, 3 * MiB, 5 * MiB),
        fc.integer({ min: -24, max: 24 }),
        (boundary, delta) => {
          // The key `"macOSPanicString"` starts at boundary + delta (just after the `",` that closes the stackshot).
          const keyAt = boundary + delta;
          const prefix = `${header}{"macOSProcessedStackshotData":"`;
          const fill = 'QUJD'.repeat(Math.ceil(keyAt / 4)).slice(0, keyAt - prefix.length - 2);
          const text = `${prefix}${fill}${tail}`;
          assert.equal(text.indexOf('"macOSPanicString"'), keyAt);
          writeFileSync(path, text);
          const r = readReportFile(path, dir.path);
          assert.ok(r.ok);
          assert.equal(r.sha256, ledgerHash(Buffer.from(text)));
          const p = parsePanicReport(r.text);
          assert.equal(p.kind, 'completeMemory');
          assert.equal(p.osVersion, '26.4.1');
        },
      ),
      { numRuns: 25 },
    );
  });
  it('reads the same a chunk per turn (the daemon scans large files so) as at once; says "large" past a size', async () => {
    const path = `${dir.path}/turns.panic`;
    const header = '{"bug_type":"210","timestamp":"2026-04-23 10:00:00.00 +0000"}\n';
    const panic = `{"macOSPanicString":${JSON.stringify(fixture('panics/omlx-300-3.panic.txt'))}}`;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.nat({ max: 4096 }),
          fc.integer({ min: -64, max: 64 }).map((d) => MiB + d),
          fc.integer({ min: -64, max: 64 }).map((d) => HEAD_BYTES + d),
          fc.integer({ min: -64, max: 64 }).map((d) => 3 * MiB + d),
        ),
        fc.boolean(),
        async (size, withPanic) => {
          const fill = Buffer.alloc(size, 0x41);
          writeFileSync(
            path,
            withPanic ? Buffer.concat([Buffer.from(header), fill, Buffer.from(panic)]) : fill,
          );
          const once = readReportFile(path, dir.path);
          assert.deepEqual(await readReportFileCooperatively(path, dir.path, 0), once);
          assert.deepEqual(await readReportFileCooperatively(path, dir.path), once);
          const upTo = readReportFileUpTo(path, dir.path, MiB);
          if (once.ok && once.size > MiB) assert.equal(upTo, 'large');
          else assert.deepEqual(upTo, once);
        },
      ),
      { numRuns: 30 },
    );
  });
});
