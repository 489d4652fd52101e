import { emptyGpu, emptyMemory, type ProcessReading, type Sample } from '../../src/shared/sample.js';

const GiB = 1024 ** 3;

/** A plausible sample at `time`; `wiredGiB` and the runner footprint vary so aggregates can be checked. */
export function makeSample(time: number, wiredGiB = 10, runnerFootprint: number | null = 40 * GiB): Sample {
  const memory = emptyMemory();
  Object.assign(memory, {
    total: 128 * GiB,
    usable: 127 * GiB,
    free: 20 * GiB,
    wired: wiredGiB * GiB,
    compressed: 1 * GiB,
    swapUsed: 0,
    swapTotal: 0,
    pressureLevel: 1,
    freePercent: 60,
  });
  const gpu = {
    ...emptyGpu(),
    inUseBytes: 50 * GiB,
    allocBytes: 60 * GiB,
    ceilingBytes: 96 * GiB,
    utilization: 80,
    sampledAt: time,
  };
  const processes: ProcessReading[] = [
    {
      pid: 1577,
      ppid: 500,
      role: 'exo-main',
      startTime: 1000,
      rss: GiB,
      physFootprint: 2 * GiB,
      cpuPercent: 5,
      threads: 31,
    },
    {
      pid: 1601,
      ppid: 1577,
      role: 'exo-runner',
      startTime: 2000,
      rss: GiB,
      physFootprint: runnerFootprint,
      cpuPercent: 95,
      threads: 12,
    },
  ];
  return { time, memory, gpu, processes, exo: { reachable: true, inFlight: 1 } };
}
