/** CPU % of one core from cumulative CPU seconds, per process identity (pid + start), between two reads. */
export class CpuMeter {
  private readonly marks = new Map<string, { seconds: number; at: number }>();

  percent(key: string, cpuSeconds: number, now: number): number | null {
    const mark = this.marks.get(key);
    this.marks.set(key, { seconds: cpuSeconds, at: now });
    if (!mark || now <= mark.at || cpuSeconds < mark.seconds) return null;
    return Math.round(((cpuSeconds - mark.seconds) / ((now - mark.at) / 1000)) * 1000) / 10;
  }

  /** Forgets processes no longer read. */
  keepOnly(keys: Iterable<string>): void {
    const live = new Set(keys);
    for (const k of this.marks.keys()) if (!live.has(k)) this.marks.delete(k);
  }
}
