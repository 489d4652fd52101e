import type { GpuReading, MemoryReading, ProcessRole } from '../../../shared/sample.js';
import type { ProbeDescription } from '../../../shared/status-view.js';

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
  /**
   * The real user id where the probe reads it (`/proc/<pid>/status`, `pbi_ruid`, ps `ruid`): who started it,
   * whatever setuid program it runs. The watch limit and the rate new processes are taken at put other users'
   * processes last: anyone can start copies of EXO's command lines.
   */
  uid?: number | null;
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

/** Which readers a probe uses, for `status --json` and `doctor --probes` (the status view's type). */
export type { ProbeDescription };

/** A pressure change delivered as it happens (PSI trigger, dispatch source), not on the next tick. */
export interface PressureChange {
  /** 1/2/4 where the source says (macOS); null when it only says "pressure rose" (a PSI trigger). */
  level: 1 | 2 | 4 | null;
  source: string;
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
  describe?(): ProbeDescription;
  /**
   * Starts watching for pressure changes; returns the stop function, or why it cannot watch. The handler runs
   * on the event loop, never on the watcher's thread.
   */
  watchPressure?(onChange: (change: PressureChange) => void): (() => void) | string;
  /** Stops background readers (the daemon's stop). */
  close?(): void;
  /**
   * The rest of the Metal ceiling chain (configured figure, a Python, the estimate from RAM), applied by the
   * sampler once the watched EXO processes are known. Absent: the probe's own ceiling stands.
   */
  ceiling?: CeilingResolver;
}

/** Fills in the GPU reading's ceiling and its source; never waits (a slow source answers on a later tick). */
export interface CeilingResolver {
  resolve(
    gpu: GpuReading,
    memory: MemoryReading,
    watched: ReadonlyArray<{ entry: ProcessEntry; role: ProcessRole }>,
  ): GpuReading;
}
