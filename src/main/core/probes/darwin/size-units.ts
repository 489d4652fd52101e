import { finiteOrNull } from '../../util/finite.js';

/** Sizes as macOS tools print them: `42 MB`, `6288 KB`, `0 B`, `1946M+`, `15G`, `4346M`. Binary units. */
const MULTIPLIER: Record<string, number> = {
  B: 1,
  K: 1024,
  KB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1024 ** 4,
};

/** Returns bytes, or null if the text is not a size. A trailing `+`/`-` (top's change marker) is ignored. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:[.,]\d+)?)\s*([KMGT]?B|[BKMGT])?[+-]?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 'B').toUpperCase();
  const mult = MULTIPLIER[unit];
  if (mult === undefined) return null;
  return finiteOrNull(Math.round(Number(m[1]!.replace(',', '.')) * mult));
}
