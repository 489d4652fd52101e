const GiB = 1024 ** 3;

/**
 * The estimate when nothing on the machine tells the ceiling: macOS's default `recommendedMaxWorkingSetSize`
 * is commonly given as about 2/3 of RAM up to 36 GB and about 3/4 above. The published stock figures agree
 * or lie above it, so the estimate is the low (cautious) side of every one of them:
 *   7 GB GitHub macos-15 runner VM → 4.67 GB (0.67, unsloth PR #10224);
 *   16 GB M4 Mac mini → ~10.67 GB (0.67, exo PR #1672); 16 GB M3 → 11.84 GB (0.74, llmfit PR #754);
 *   128 GB M3 Max → 96.0 GiB (0.75, ollama PR #12808); 128 GB M5 Max → 107.52 GiB (0.84, ds4 PR #893);
 *   192 GB M2 Ultra → 188743680000 B (0.92, mlx PR #1060).
 * A lower ceiling makes the GPU signals fire earlier and the guard's KV-fit check refuse sooner, never later.
 */
export const ESTIMATE_SPLIT_BYTES = 36 * GiB;
export const ESTIMATE_RATIO_SMALL = 2 / 3;
export const ESTIMATE_RATIO_LARGE = 3 / 4;

/** The conservative ceiling for this much RAM (hw.memsize), or null when RAM is unknown. */
export function estimateCeiling(ramBytes: number | null): number | null {
  if (ramBytes === null || !Number.isFinite(ramBytes) || ramBytes <= 0) return null;
  const ratio = ramBytes > ESTIMATE_SPLIT_BYTES ? ESTIMATE_RATIO_LARGE : ESTIMATE_RATIO_SMALL;
  return Math.floor(ramBytes * ratio);
}

/** "2/3" or "3/4": the share of RAM the estimate took, for reasons and the README. */
export const estimateShare = (ramBytes: number): string => (ramBytes > ESTIMATE_SPLIT_BYTES ? '3/4' : '2/3');
