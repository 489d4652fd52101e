import { finiteNumber, finiteOrNull } from '../../util/finite.js';
import { parseSize } from './size-units.js';

/**
 * `footprint -p PID` (or `footprint <pid>`): a header `name [pid]: 64-bit    Footprint: 42 MB (16384 bytes per
 * page)` and a `Dirty Clean Reclaimable Regions Category` table. The GPU memory of an MLX process shows in
 * the `(graphics)` categories (`IOAccelerator (graphics)`, `Owned physical footprint (unmapped) (graphics)`).
 * A `phys_footprint:` line, where present, is the figure itself.
 */

export interface FootprintCategory {
  category: string;
  dirty: number | null;
  clean: number | null;
  reclaimable: number | null;
  regions: number | null;
}

export interface FootprintReport {
  name: string | null;
  pid: number | null;
  footprintBytes: number | null;
  physFootprintBytes: number | null;
  pageSize: number | null;
  categories: FootprintCategory[];
  /** Dirty bytes in the `(graphics)` categories: Metal memory of this process. */
  graphicsBytes: number;
}

const SIZE = String.raw`\d+(?:\.\d+)?\s?(?:[KMGT]B|B)`;
const ROW = new RegExp(
  String.raw`^\s*(${SIZE})(?:\s+(${SIZE}))?(?:\s+(${SIZE}))?(?:\s+(\d+))?\s+(\S.*?)\s*(?:\[[^\]]*\])?\s*$`,
);

export function parseFootprint(text: string): FootprintReport {
  const header =
    /^(.*?)\s*\[(\d+)\]:\s*\S+\s+Footprint:\s*(\d+(?:\.\d+)?\s?(?:[KMGT]B|B))(?:\s*\((\d+) bytes per page\))?/m.exec(
      text,
    );
  const phys = /phys_footprint:\s*(\d+(?:\.\d+)?\s?(?:[KMGT]B|B))/.exec(text);
  const categories: FootprintCategory[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/Footprint:|phys_footprint|^\s*-+|Category\s*$|^=+$/.test(line)) continue;
    const m = ROW.exec(line);
    if (!m) continue;
    categories.push({
      category: m[5]!,
      dirty: parseSize(m[1]!),
      clean: m[2] ? parseSize(m[2]) : null,
      reclaimable: m[3] ? parseSize(m[3]) : null,
      regions: m[4] ? finiteNumber(m[4]) : null,
    });
  }
  const graphicsBytes =
    finiteOrNull(
      categories.filter((c) => /\(graphics\)/.test(c.category)).reduce((sum, c) => sum + (c.dirty ?? 0), 0),
    ) ?? 0;
  return {
    name: header ? header[1]!.trim() || null : null,
    pid: header ? finiteNumber(header[2]) : null,
    footprintBytes: header ? parseSize(header[3]!) : null,
    physFootprintBytes: phys ? parseSize(phys[1]!) : header ? parseSize(header[3]!) : null,
    pageSize: header?.[4] ? finiteNumber(header[4]) : null,
    categories,
    graphicsBytes,
  };
}
