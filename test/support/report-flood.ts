import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from './fixtures.js';
import { wrapAsPanicFile } from './panic-file.js';

export interface Flood {
  /** Distinct kernel panics (`panic-full-*.panic`, one second apart). */
  panics: number;
  /** Small `.ips` reports of another bug_type: read, hashed and kept as skipped. */
  others: number;
  /** Identical copies of one more panic: one row, the rest read and dropped as duplicates. */
  copies?: number;
  /** Files of this many MiB with no panic in them (read to the end looking for one). */
  largeMiB?: number[];
}

export const FLOOD_PANIC_TIME = Date.UTC(2026, 3, 23, 10);

/**
 * A report directory as an outsider who can write to it might stuff it: many distinct panics among many
 * more reports of no interest. Returns the number of files written.
 */
export function writeFlood(dir: string, f: Flood): number {
  mkdirSync(dir, { recursive: true });
  const text = fixture('panics/exo-1348-1.panic.txt');
  for (let i = 0; i < f.panics; i++)
    writeFileSync(
      join(dir, `panic-full-2026-04-23-${String(i).padStart(6, '0')}.0002.panic`),
      wrapAsPanicFile(text, { time: FLOOD_PANIC_TIME + i * 1000 }),
    );
  const copy = wrapAsPanicFile(text, { time: FLOOD_PANIC_TIME - 3_600_000 });
  for (let i = 0; i < (f.copies ?? 0); i++)
    writeFileSync(join(dir, `copy-${String(i).padStart(6, '0')}.panic`), copy);
  for (let i = 0; i < f.others; i++)
    writeFileSync(
      join(dir, `stackshot-${String(i).padStart(6, '0')}.ips`),
      `${JSON.stringify({ bug_type: '288', timestamp: '2026-04-23 10:00:00.00 +0000', name: `n${i}` })}\n{}`,
    );
  const large = f.largeMiB ?? [];
  large.forEach((mib, i) => {
    const header = `${JSON.stringify({ bug_type: '210', timestamp: '2026-04-23 10:00:00.00 +0000', name: `large-${i}` })}\n`;
    writeFileSync(
      join(dir, `large-${i}.panic`),
      Buffer.concat([Buffer.from(header), Buffer.alloc(mib * 1024 * 1024, 0x20)]),
    );
  });
  return f.panics + (f.copies ?? 0) + f.others + large.length;
}
