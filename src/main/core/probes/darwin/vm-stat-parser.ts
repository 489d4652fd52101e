import { finiteNumber, finiteOrNull } from '../../util/finite.js';
/**
 * `vm_stat` (no arguments): a header with the page size, then `Label: value.` lines.
 * Parsed by label, never by column: the label width changed from 30 to 35 characters, newer machines
 * add MTE lines, and `Bytes of compressed tags` is a byte count, not pages.
 */

export interface VmStat {
  pageSize: number | null;
  /** Raw values by label as printed (quotes removed). Page counts unless the label starts with "Bytes". */
  values: Record<string, number>;
  /** Page counts converted to bytes for the fields the sample uses; null where the line was absent. */
  bytes: {
    free: number | null;
    active: number | null;
    inactive: number | null;
    speculative: number | null;
    throttled: number | null;
    wired: number | null;
    purgeable: number | null;
    fileBacked: number | null;
    anonymous: number | null;
    storedInCompressor: number | null;
    /** RAM the compressor occupies: Activity Monitor's "Compressed". */
    occupiedByCompressor: number | null;
  };
}

const HEADER = /page size of (\d+) bytes/;
const LINE = /^\s*"?([^":]+?)"?:\s+(\d+)\.?\s*$/;

export function parseVmStat(text: string): VmStat {
  const values: Record<string, number> = {};
  let pageSize: number | null = null;
  for (const line of text.split(/\r?\n/)) {
    const header = HEADER.exec(line);
    if (header) {
      pageSize = finiteNumber(header[1]);
      continue;
    }
    const m = LINE.exec(line);
    const n = m ? finiteNumber(m[2]) : null;
    if (m && n !== null) values[m[1]!.trim()] = n;
  }
  const pages = (label: string): number | null => {
    const v = values[label];
    return v === undefined || pageSize === null ? null : finiteOrNull(v * pageSize);
  };
  return {
    pageSize,
    values,
    bytes: {
      free: pages('Pages free'),
      active: pages('Pages active'),
      inactive: pages('Pages inactive'),
      speculative: pages('Pages speculative'),
      throttled: pages('Pages throttled'),
      wired: pages('Pages wired down'),
      purgeable: pages('Pages purgeable'),
      fileBacked: pages('File-backed pages'),
      anonymous: pages('Anonymous pages'),
      storedInCompressor: pages('Pages stored in compressor'),
      occupiedByCompressor: pages('Pages occupied by compressor'),
    },
  };
}
