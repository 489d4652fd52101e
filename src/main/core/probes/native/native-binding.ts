/**
 * The typed face of the native sampling addon (src/native) and how it is found and loaded. Loading never
 * throws: a missing, unloadable or wrong-platform build is a status with the reason, and the probes fall back
 * to commands (macOS) or procfs (Linux).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativePsiLine {
  avg10: number;
  avg60: number;
  avg300: number;
  totalMicros: number;
}

/** Linux: sysinfo(2), /proc/meminfo (bytes for kB values) and /proc/pressure/memory. */
export interface NativeLinuxMemory {
  sysinfo: {
    totalRam: number;
    freeRam: number;
    bufferRam: number;
    sharedRam: number;
    totalSwap: number;
    freeSwap: number;
    uptimeSeconds: number;
    processes: number;
  } | null;
  meminfo: Record<string, number> | null;
  psi: { some: NativePsiLine | null; full: NativePsiLine | null } | null;
}

/** darwin: the page counts as vm_stat prints them, in bytes. */
export interface NativeVmStatistics {
  pageSize: number;
  free: number;
  active: number;
  inactive: number;
  speculative: number;
  throttled: number;
  wired: number;
  purgeable: number;
  fileBacked: number;
  anonymous: number;
  storedInCompressor: number;
  occupiedByCompressor: number;
  swapins: number;
  swapouts: number;
}

export interface NativeSwapUsage {
  total: number;
  used: number;
  available: number;
  encrypted: boolean;
}

export interface NativeDarwinMemory {
  memsize: number | null;
  memsizeUsable: number | null;
  pressureLevel: number | null;
  memorystatusLevel: number | null;
  wiredLimitMb: number | null;
  pageableInternalPages: number | null;
  pageableExternalPages: number | null;
  swap: NativeSwapUsage | null;
  vm: NativeVmStatistics | null;
}

export interface NativeGpuStats {
  inUseBytes: number | null;
  allocBytes: number | null;
  inUseDriverBytes: number | null;
  utilization: number | null;
  recoveryCount: number | null;
  lastRecoveryTime: number | null;
}

export interface NativeProcess {
  pid: number;
  ppid: number;
  name: string | null;
  /** Epoch ms. */
  startTime: number | null;
  /** Linux only: the start time in clock ticks since boot (exact, for pid-reuse checks). */
  startTicks?: number;
  executable: string | null;
  /** The first 16 KiB of the command line (KERN_PROCARGS2, /proc/<pid>/cmdline); empty for another user's on macOS. */
  argv: string[];
  /** The real uid (`pbi_ruid`; /proc/<pid>/status): who started it, whatever setuid program it runs. */
  uid?: number | null;
}

export interface NativeProcessStats {
  pid: number;
  startTicks?: number;
  cpuSeconds: number;
  rss: number | null;
  physFootprint: number | null;
  physFootprintMax: number | null;
  threads: number | null;
}

export interface NativePressureEvent {
  /** `psi` (a Linux trigger fired), `darwin` (the dispatch source, with level), `fd` (a test pipe), `error`. */
  kind: 'psi' | 'darwin' | 'fd' | 'error';
  level: 1 | 2 | 4 | null;
  data: string | null;
  /** Events dropped so far because the bounded queue was full. */
  dropped: number;
}

export interface NativePressureWatch {
  readonly source: 'psi' | 'dispatch' | 'fd';
  /** Stops the thread and releases the trigger; true the first time. */
  close(): boolean;
}

export interface NativeBinding {
  readonly platform: 'linux' | 'darwin';
  version(): string;
  readMemory(): NativeLinuxMemory | NativeDarwinMemory;
  listProcesses(): NativeProcess[];
  readProcessStats(pids: number[]): NativeProcessStats[];
  readGpu(): NativeGpuStats | null;
  metalCeiling(): number | null;
  kextVersion(bundleId?: string): string | null;
  sysctl(name: string, kind?: 'string' | 'number'): string | number | null;
  watchPressure(
    onEvent: (e: NativePressureEvent) => void,
    options?: { fd?: number; psiPath?: string; stallMicros?: number; windowMicros?: number },
  ): NativePressureWatch;
  marshalVmStatistics(struct: Buffer, pageSize: number): NativeVmStatistics;
  marshalSwapUsage(struct: Buffer): NativeSwapUsage;
  marshalGpuStats(struct: Buffer): NativeGpuStats;
  /** The argv in what KERN_PROCARGS2 gives, as `listProcesses` reads it on a Mac. */
  marshalProcArgs(procargs: Buffer): string[];
}

export interface NativeStatus {
  loaded: boolean;
  version: string | null;
  /** Why it is not in use: disabled, not built, failed to load, failed its start-up check. */
  error: string | null;
  path: string | null;
}

export interface NativeLoad {
  binding: NativeBinding | null;
  status: NativeStatus;
}

const FILE = 'exo_sentinel_native.node';
const EXPORTS = [
  'version',
  'readMemory',
  'listProcesses',
  'readProcessStats',
  'readGpu',
  'metalCeiling',
  'kextVersion',
  'sysctl',
  'watchPressure',
] as const;

/** The project root: the nearest folder above this module whose package.json is exo-sentinel's. */
export function projectRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'exo-sentinel')
          return dir;
      } catch {
        // not ours: keep walking up
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * Where a build for this platform can be: what `npm run build` copied into dist/native, a local node-gyp
 * build, a prebuild made on a Mac (`prebuildify --napi`). In the app, dist/native sits in app.asar.unpacked.
 */
export function nativeCandidates(root: string, platform = process.platform, arch = process.arch): string[] {
  const tag = `${platform}-${arch}`;
  const prebuilt = join(root, 'src', 'native', 'prebuilds', tag);
  const prebuilds = existsSync(prebuilt)
    ? readdirSync(prebuilt)
        .filter((f) => f.endsWith('.node'))
        .map((f) => join(prebuilt, f))
    : [];
  return [
    join(root, 'dist', 'native', tag, FILE),
    join(root, 'src', 'native', 'build', 'Release', FILE),
    ...prebuilds,
  ];
}

/** Loads the addon unless disabled (EXO_SENTINEL_NATIVE=0 at the composition root). Never throws. */
export function loadNative(options: { disabled?: boolean; candidates?: string[] } = {}): NativeLoad {
  const fail = (error: string, path: string | null = null): NativeLoad => ({
    binding: null,
    status: { loaded: false, version: null, error, path },
  });
  if (options.disabled) return fail('disabled (EXO_SENTINEL_NATIVE=0)');
  const root = projectRoot();
  const candidates = options.candidates ?? (root ? nativeCandidates(root) : []);
  const path = candidates.find((p) => existsSync(p));
  if (!path)
    return fail(
      `not built for ${process.platform}-${process.arch} (npm run build:native; looked in ${candidates.length} place(s))`,
    );
  let mod: Record<string, unknown>;
  try {
    mod = createRequire(import.meta.url)(path) as Record<string, unknown>;
  } catch (e) {
    return fail(`cannot load ${path}: ${(e as Error).message.split('\n')[0]}`, path);
  }
  const missing = EXPORTS.filter((name) => typeof mod[name] !== 'function');
  if (missing.length > 0) return fail(`${path} lacks ${missing.join(', ')}: not this version's addon`, path);
  if (mod['platform'] !== process.platform)
    return fail(`${path} was built for ${String(mod['platform'])}, not ${process.platform}`, path);
  const binding = mod as unknown as NativeBinding;
  let version: string;
  try {
    version = binding.version();
  } catch (e) {
    return fail(`${path}: version() failed: ${(e as Error).message}`, path);
  }
  return { binding, status: { loaded: true, version, error: null, path } };
}
