/** `/proc/meminfo`: `Key:   123 kB` lines → bytes by key (values without a unit are counts, kept as is). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) out[m[1]!] = line.trimEnd().endsWith('kB') ? Number(m[2]) * 1024 : Number(m[2]);
  }
  return out;
}
