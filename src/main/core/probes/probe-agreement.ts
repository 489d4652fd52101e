import type { GpuReading, MemoryReading } from '../../../shared/sample.js';
import type { PlatformProbe, ProcessEntry, ProcessStats } from './probe-types.js';

/** One signal read both ways: by the addon and by the fallback readers (commands or procfs). */
export interface SignalAgreement {
  signal: string;
  native: number | string | null;
  fallback: number | string | null;
  agree: boolean;
  /** What "agree" means for this signal. */
  tolerance: string;
}

/** How close two readings taken a few milliseconds apart must be. */
type Tolerance =
  | { kind: 'exact' }
  | { kind: 'absolute'; within: number; unit: string }
  | { kind: 'relative'; within: number };

const EXACT: Tolerance = { kind: 'exact' };
const describe = (t: Tolerance): string =>
  t.kind === 'exact'
    ? 'equal'
    : t.kind === 'relative'
      ? `within ${t.within * 100} %`
      : t.unit === 'bytes'
        ? `within ${Math.round(t.within / MiB)} MiB`
        : `within ${t.within} ${t.unit}`;

function compare(
  signal: string,
  native: number | string | null,
  fallback: number | string | null,
  t: Tolerance,
): SignalAgreement {
  let agree: boolean;
  if (native === null || fallback === null) agree = native === fallback;
  else if (typeof native === 'string' || typeof fallback === 'string' || t.kind === 'exact')
    agree = native === fallback;
  else if (t.kind === 'absolute') agree = Math.abs(native - fallback) <= t.within;
  else agree = Math.abs(native - fallback) <= t.within * Math.max(Math.abs(native), Math.abs(fallback), 1);
  return { signal, native, fallback, agree, tolerance: describe(t) };
}

const MiB = 1024 * 1024;

/** Within 2 % of total memory (at least 64 MiB): a figure that moves between two reads. */
const movingWithin = (total: number): Tolerance => ({
  kind: 'absolute',
  within: Math.max(0.02 * total, 64 * MiB),
  unit: 'bytes',
});

async function compareMemory(
  native: PlatformProbe,
  fallback: PlatformProbe,
): Promise<{ total: number; out: SignalAgreement[] }> {
  const mn: MemoryReading = await native.readMemory(true);
  const mf: MemoryReading = await fallback.readMemory(true);
  const total = mn.total ?? mf.total ?? 0;
  const moving = movingWithin(total);
  return {
    total,
    out: [
      compare('memory.total', mn.total, mf.total, EXACT),
      compare('memory.usable', mn.usable, mf.usable, EXACT),
      compare('memory.swapTotal', mn.swapTotal, mf.swapTotal, EXACT),
      compare('memory.free', mn.free, mf.free, moving),
      compare('memory.active', mn.active, mf.active, moving),
      compare('memory.inactive', mn.inactive, mf.inactive, moving),
      compare('memory.speculative', mn.speculative, mf.speculative, moving),
      compare('memory.wired', mn.wired, mf.wired, moving),
      compare('memory.compressed', mn.compressed, mf.compressed, moving),
      compare('memory.swapUsed', mn.swapUsed, mf.swapUsed, moving),
      compare('memory.pressureLevel', mn.pressureLevel, mf.pressureLevel, EXACT),
      compare('memory.freePercent', mn.freePercent, mf.freePercent, {
        kind: 'absolute',
        within: 2,
        unit: 'points',
      }),
    ],
  };
}

async function compareGpu(
  native: PlatformProbe,
  fallback: PlatformProbe,
  total: number,
): Promise<SignalAgreement[]> {
  const gn: GpuReading = await native.readGpu(true);
  const gf: GpuReading = await fallback.readGpu(true);
  const moving = movingWithin(total);
  return [
    compare('gpu.inUseBytes', gn.inUseBytes, gf.inUseBytes, moving),
    compare('gpu.allocBytes', gn.allocBytes, gf.allocBytes, moving),
  ];
}

/** The process count, and this process (it exists on every machine): identity, then its memory. */
async function compareProcesses(
  native: PlatformProbe,
  fallback: PlatformProbe,
  self: number,
): Promise<SignalAgreement[]> {
  const pn: ProcessEntry[] = await native.listProcesses(true);
  const pf: ProcessEntry[] = await fallback.listProcesses(true);
  const sn = pn.find((p) => p.pid === self) ?? null;
  const sf = pf.find((p) => p.pid === self) ?? null;
  const out = [
    compare('processes.count', pn.length, pf.length, { kind: 'relative', within: 0.1 }),
    compare('process.self.found', sn ? 'yes' : 'no', sf ? 'yes' : 'no', EXACT),
    compare('process.self.ppid', sn?.ppid ?? null, sf?.ppid ?? null, EXACT),
    // The owner ranks a process in the watch limit: pbi_uid against ps uid on a Mac.
    compare('process.self.uid', sn?.uid ?? null, sf?.uid ?? null, EXACT),
    // ps prints lstart to the second; procfs to the clock tick.
    compare('process.self.startTime', sn?.startTime ?? null, sf?.startTime ?? null, {
      kind: 'absolute',
      within: 1000,
      unit: 'ms',
    }),
    compare(
      'process.self.argv',
      sn ? sn.argv.join('\u0000') : null,
      sf ? sf.argv.join('\u0000') : null,
      EXACT,
    ),
  ];
  const entry = sn ?? sf;
  if (!entry) return out;
  const tn: Map<number, ProcessStats> = await native.readProcessStats([entry], true);
  const tf: Map<number, ProcessStats> = await fallback.readProcessStats([entry], true);
  const a = tn.get(self);
  const b = tf.get(self);
  const ownMemory: Tolerance = { kind: 'absolute', within: 32 * MiB, unit: 'bytes' };
  out.push(
    compare('process.self.rss', a?.rss ?? null, b?.rss ?? null, ownMemory),
    compare('process.self.physFootprint', a?.physFootprint ?? null, b?.physFootprint ?? null, ownMemory),
  );
  return out;
}

/**
 * Reads every signal both ways and compares. Memory moves between two reads, so a fast-moving figure is
 * compared within a share of total memory (2 %, ~0.5 GB on a 24 GB machine: far tighter than a misread
 * struct or a page-size error, which are off by factors); what cannot move (totals, a process's identity)
 * must be equal. The doctor's own process is the one process read in detail: it exists on every machine.
 */
export async function compareProbes(
  native: PlatformProbe,
  fallback: PlatformProbe,
  self = process.pid,
): Promise<SignalAgreement[]> {
  const memory = await compareMemory(native, fallback);
  const gpu = await compareGpu(native, fallback, memory.total);
  const processes = await compareProcesses(native, fallback, self);
  return [...memory.out, ...gpu, ...processes];
}
