import { finiteNumber } from '../../util/finite.js';
/**
 * `memory_pressure -Q` (or the full report): only two facts are worth reading — the machine size line and
 * `System-wide memory free percentage: N%` (the same number as kern.memorystatus_level).
 * Never run `memory_pressure -l`/`-p`: those allocate memory to create pressure.
 */
export interface MemoryPressureReport {
  totalBytes: number | null;
  totalPages: number | null;
  pageSize: number | null;
  freePercent: number | null;
  /** `Name: value` pairs of the full report's blocks (Pages free, Pages wired down, ...). */
  counts: Record<string, number>;
}

export function parseMemoryPressure(text: string): MemoryPressureReport {
  const sys = /The system has (\d+) \((\d+) pages with a page size of (\d+)\)/.exec(text);
  const pct = /System-wide memory free percentage:\s*(\d+)\s*%/.exec(text);
  const counts: Record<string, number> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z][\w ]+):\s+(\d+)\s*$/.exec(line);
    const n = m ? finiteNumber(m[2]) : null;
    if (m && n !== null) counts[m[1]!.trim()] = n;
  }
  return {
    totalBytes: sys ? finiteNumber(sys[1]) : null,
    totalPages: sys ? finiteNumber(sys[2]) : null,
    pageSize: sys ? finiteNumber(sys[3]) : null,
    freePercent: pct ? finiteNumber(pct[1]) : null,
    counts,
  };
}
