import type { GpuReading, MemoryReading } from '../../../shared/sample.js';

/** One row of the process table, enough to classify it and to tell it from a later process with its pid. */
export interface ProcessEntry {
  pid: number;
  ppid: number | null;
  argv: string[];
  /** Full path of the executable where the platform gives it (macOS `comm`, Linux `/proc/<pid>/exe`). */
  executable: string | null;
  /** Short name (Linux `comm`, 15 chars), or the executable's basename. */
  name: string | null;
  /** Epoch ms. */
  startTime: number | null;
}

export interface ProcessStats {
  rss: number | null;
  physFootprint: number | null;
  cpuPercent: number | null;
  threads: number | null;
}

/** Where probes report what they cannot give and what went wrong; the daemon turns these into events. */
export interface ProbeReporter {
  /** A field this platform or set-up cannot give. Recorded once per field. */
  unavailable(field: string, reason: string): void;
  /** A probe call that failed this time (timeout, exit code, unreadable file). */
  failed(probe: string, error: string): void;
}

export interface MachineIdentity {
  platform: NodeJS.Platform;
  hostname: string;
  model: string | null;
  chip: string | null;
  memoryBytes: number | null;
  osVersion: string | null;
  osBuild: string | null;
  kernelVersion: string | null;
  kernelFamily: string | null;
  iogpuFamilyVersion: string | null;
}

/**
 * A platform's readers. `slow` is true on the expensive cadence (default every 5 s): probes that spawn
 * commands or walk every process do that work only then and return their last reading otherwise.
 */
export interface PlatformProbe {
  readonly platform: 'darwin' | 'linux';
  readMemory(slow: boolean): Promise<MemoryReading>;
  readGpu(slow: boolean): Promise<GpuReading>;
  listProcesses(slow: boolean): Promise<ProcessEntry[]>;
  readProcessStats(entries: ProcessEntry[], slow: boolean): Promise<Map<number, ProcessStats>>;
  identity(): Promise<MachineIdentity>;
  /** Spawned child processes so far (the benchmark asserts none on the fast path). */
  readonly spawnCount: number;
}
