import { finiteOrNull } from '../../util/finite.js';

/** `/proc/meminfo`: `Key:   123 kB` lines → bytes by key (values without a unit are counts, kept as is). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    const n = m ? finiteOrNull(Number(m[2]) * (line.trimEnd().endsWith('kB') ? 1024 : 1)) : null;
    if (m && n !== null) out[m[1]!] = n;
  }
  return out;
}
