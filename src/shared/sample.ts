/**
 * The one reading the watchdog takes per tick. Shared by the core, the shells and the dashboard:
 * plain data, no Node or DOM types. Every number is bytes unless its name says otherwise.
 * A field the platform cannot give is null; the reason is recorded once as a `probe.unavailable` event.
 */

/** 1 normal, 2 warn, 4 critical: the values of kern.memorystatus_vm_pressure_level. */
export type PressureLevel = 1 | 2 | 4;

export interface MemoryReading {
  total: number | null;
  usable: number | null;
  free: number | null;
  active: number | null;
  inactive: number | null;
  speculative: number | null;
  wired: number | null;
  compressed: number | null;
  swapUsed: number | null;
  swapTotal: number | null;
  pressureLevel: PressureLevel | null;
  /** 0-100: kern.memorystatus_level on macOS, MemAvailable/MemTotal on Linux. */
  freePercent: number | null;
}

/**
 * Where the Metal working-set ceiling came from, best first: the addon's
 * `MTLDevice.recommendedMaxWorkingSetSize` (`metal`), `iogpu.wired_limit_mb` when set above 0
 * (`wired-limit-sysctl`), the configured `gpu.ceilingBytes` (`config`), the configured `gpu.mlxPython` (`mlx-python`),
 * EXO's own Python found in its processes' argv (`exo-python`), else a conservative figure from physical RAM
 * (`estimate`).
 */
export type CeilingSource =
  | 'metal'
  | 'wired-limit-sysctl'
  | 'config'
  | 'mlx-python'
  | 'exo-python'
  | 'estimate';

export const CEILING_SOURCES: readonly CeilingSource[] = [
  'metal',
  'wired-limit-sysctl',
  'config',
  'mlx-python',
  'exo-python',
  'estimate',
];

export const isCeilingSource = (v: unknown): v is CeilingSource =>
  (CEILING_SOURCES as readonly unknown[]).includes(v);

export interface GpuReading {
  /** IOAccelerator "In use system memory", all processes. */
  inUseBytes: number | null;
  /** IOAccelerator "Alloc system memory" (>= in use: pooled by the driver). */
  allocBytes: number | null;
  /** The Metal working-set ceiling (recommendedMaxWorkingSetSize, iogpu.wired_limit_mb, … or an estimate). */
  ceilingBytes: number | null;
  /**
   * Where `ceilingBytes` came from; null when no ceiling is known. Optional: readings stored before the source
   * was recorded, and replayed scenarios, leave it out.
   */
  ceilingSource?: CeilingSource | null;
  /** "Device Utilization %", 0-100. */
  utilization: number | null;
  /**
   * IOAccelerator PerformanceStatistics `recoveryCount`: GPU recoveries (hang and reset of the GPU) since
   * boot. Optional: readers that cannot see it leave it out or null.
   */
  recoveryCount?: number | null;
  /** When the GPU figures were read (they come from a slower probe); null if never. */
  sampledAt: number | null;
}

export type ProcessRole =
  | 'exo-main'
  | 'exo-runner'
  | 'exo-macmon'
  | 'exo-resource-tracker'
  | 'exo-app'
  | 'exo-other'
  | 'mlx-server';

export interface ProcessReading {
  pid: number;
  ppid: number | null;
  role: ProcessRole;
  /** Epoch milliseconds; with the pid it identifies the process against pid reuse. */
  startTime: number | null;
  rss: number | null;
  /** phys_footprint on macOS (includes Metal buffers); private dirty + swap on Linux. */
  physFootprint: number | null;
  /** Percent of one core over the last interval. */
  cpuPercent: number | null;
  threads: number | null;
}

export interface ExoReading {
  /** EXO's API answered at the last poll; null when not polled (no EXO configured yet). */
  reachable: boolean | null;
  /** Requests in flight (EXO's unfinished tasks). */
  inFlight: number | null;
}

export interface Sample {
  /** Epoch milliseconds. */
  time: number;
  memory: MemoryReading;
  gpu: GpuReading;
  processes: ProcessReading[];
  exo: ExoReading;
  /** The watchdog's level at this tick (0 ok … 3 critical); null before the risk engine ran. */
  riskLevel?: number | null;
}

export const emptyMemory = (): MemoryReading => ({
  total: null,
  usable: null,
  free: null,
  active: null,
  inactive: null,
  speculative: null,
  wired: null,
  compressed: null,
  swapUsed: null,
  swapTotal: null,
  pressureLevel: null,
  freePercent: null,
});

export const emptyGpu = (): GpuReading => ({
  inUseBytes: null,
  allocBytes: null,
  ceilingBytes: null,
  ceilingSource: null,
  utilization: null,
  sampledAt: null,
});
