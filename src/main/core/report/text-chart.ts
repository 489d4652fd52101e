const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * A one-line chart of percentages (0-100) for a Markdown code block: one character per bucket, a space
 * where there is no data. Values above 100 show as a full block.
 */
export function sparkline(values: Array<number | null>): string {
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      const clamped = Math.max(0, Math.min(100, v));
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.floor((clamped / 100) * BLOCKS.length))]!;
    })
    .join('');
}

/** Averages `values` (time, value) into `count` buckets from `from` to `to`; empty buckets are null. */
export function bucketise(
  points: Array<{ time: number; value: number | null }>,
  from: number,
  to: number,
  count: number,
): Array<number | null> {
  const width = (to - from) / count;
  const sums = new Array<number>(count).fill(0);
  const ns = new Array<number>(count).fill(0);
  for (const p of points) {
    if (p.value === null || p.time < from || p.time > to) continue;
    const i = Math.min(count - 1, Math.floor((p.time - from) / width));
    sums[i]! += p.value;
    ns[i]! += 1;
  }
  return sums.map((s, i) => (ns[i] ? s / ns[i]! : null));
}
