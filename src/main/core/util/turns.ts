import { performance } from 'node:perf_hooks';

/** Lets timers, I/O and other callbacks run before going on (setImmediate: after the poll phase). */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Yields a turn of the event loop whenever `sliceMs` of work have gone by since the last one. */
export class TurnPacer {
  private since = performance.now();

  constructor(private readonly sliceMs: number) {}

  async pace(): Promise<void> {
    if (performance.now() - this.since < this.sliceMs) return;
    await nextTurn();
    this.since = performance.now();
  }
}

const merge = (a: string[], b: string[]): string[] => {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = b[j]! < a[i]! ? b[j++]! : a[i++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
};

/**
 * Sorts strings as `Array#sort()` does (by UTF-16 code units), a few milliseconds of work per turn of the
 * event loop: runs of `runLength` sorted, then merged pairwise. 100k names sorted at once held the loop
 * about 50 ms.
 */
export async function sortInTurns(items: string[], sliceMs = 10, runLength = 4096): Promise<string[]> {
  const pacer = new TurnPacer(sliceMs);
  let runs: string[][] = [];
  for (let i = 0; i < items.length; i += runLength) {
    runs.push(items.slice(i, i + runLength).sort());
    await pacer.pace();
  }
  while (runs.length > 1) {
    const next: string[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      next.push(i + 1 < runs.length ? merge(runs[i]!, runs[i + 1]!) : runs[i]!);
      await pacer.pace();
    }
    runs = next;
  }
  return runs[0] ?? [];
}
