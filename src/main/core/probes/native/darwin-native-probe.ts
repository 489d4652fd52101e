import { hostname } from 'node:os';
import {
  type CeilingSource,
  emptyGpu,
  emptyMemory,
  type GpuReading,
  type MemoryReading,
  type PressureLevel,
} from '../../../../shared/sample.js';
import { identityFromSysctl, parseUname } from '../darwin/identity-parser.js';
import type {
  MachineIdentity,
  PlatformProbe,
  PressureChange,
  ProbeDescription,
  ProbeReporter,
  ProcessEntry,
  ProcessStats,
} from '../probe-types.js';
import { CpuMeter } from './cpu-meter.js';
import type { NativeBinding, NativeDarwinMemory, NativeGpuStats, NativeStatus } from './native-binding.js';

const IDENTITY_STRINGS = [
  'hw.model',
  'machdep.cpu.brand_string',
  'hw.targettype',
  'kern.osproductversion',
  'kern.osversion',
];
const IDENTITY_NUMBERS = [
  'hw.memsize',
  'hw.memsize_usable',
  'hw.pagesize',
  'hw.optional.arm64',
  'hw.perflevel0.physicalcpu',
  'hw.perflevel1.physicalcpu',
];

const pressureLevel = (v: number | null): PressureLevel | null => (v === 1 || v === 2 || v === 4 ? v : null);

/**
 * macOS readers over the addon: no process spawned. Memory (sysctl + host_statistics64) and the watched
 * processes' phys_footprint (proc_pid_rusage) are read every tick in microseconds; the process table
 * (proc_listallpids + KERN_PROCARGS2) and the GPU (IOAccelerator, Metal's recommendedMaxWorkingSetSize) on
 * the slow cadence. A memory-pressure dispatch source reports a level change at once.
 */
export class DarwinNativeProbe implements PlatformProbe {
  readonly platform = 'darwin' as const;
  readonly spawnCount = 0;
  private entries: ProcessEntry[] = [];
  private lastGpu: GpuReading = emptyGpu();
  private wiredLimitMb: number | null = null;
  private readonly cpu = new CpuMeter();

  constructor(
    private readonly native: NativeBinding,
    private readonly status: NativeStatus,
    private readonly reporter: ProbeReporter,
    private readonly now: () => number = Date.now,
  ) {}

  private call<T>(what: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (e) {
      this.reporter.failed(`native.${what}`, (e as Error).message);
      return fallback;
    }
  }

  async readMemory(): Promise<MemoryReading> {
    const m = this.call('readMemory', () => this.native.readMemory() as NativeDarwinMemory, null);
    const mem = emptyMemory();
    if (!m) return mem;
    mem.total = m.memsize;
    mem.usable = m.memsizeUsable ?? m.memsize;
    if (m.vm) {
      mem.free = m.vm.free;
      mem.active = m.vm.active;
      mem.inactive = m.vm.inactive;
      mem.speculative = m.vm.speculative;
      mem.wired = m.vm.wired;
      mem.compressed = m.vm.occupiedByCompressor;
    } else this.reporter.failed('native.host_statistics64', 'HOST_VM_INFO64 gave no reading');
    mem.swapUsed = m.swap?.used ?? null;
    mem.swapTotal = m.swap?.total ?? null;
    mem.pressureLevel = pressureLevel(m.pressureLevel);
    mem.freePercent = m.memorystatusLevel;
    this.wiredLimitMb = m.wiredLimitMb;
    return mem;
  }

  /**
   * Metal's own figure first (what EXO wires), then `iogpu.wired_limit_mb` when set above 0; the rest of the
   * chain (configured figure, a Python, the estimate) is the sampler's `CeilingChain`.
   */
  private probeCeiling(): { bytes: number | null; source: CeilingSource | null } {
    const metal = this.call('metalCeiling', () => this.native.metalCeiling(), null);
    if (metal !== null && metal > 0) return { bytes: metal, source: 'metal' };
    if (this.wiredLimitMb !== null && this.wiredLimitMb > 0)
      return { bytes: this.wiredLimitMb * 1024 * 1024, source: 'wired-limit-sysctl' };
    return { bytes: null, source: null };
  }

  async readGpu(slow: boolean): Promise<GpuReading> {
    if (!slow) return this.lastGpu;
    const stats: NativeGpuStats | null = this.call('readGpu', () => this.native.readGpu(), null);
    const gpu = emptyGpu();
    if (stats) {
      gpu.inUseBytes = stats.inUseBytes;
      gpu.allocBytes = stats.allocBytes;
      gpu.utilization = stats.utilization;
      gpu.sampledAt = this.now();
    } else this.reporter.failed('native.IOAccelerator', 'no IOAccelerator with PerformanceStatistics');
    const ceiling = this.probeCeiling();
    gpu.ceilingBytes = ceiling.bytes;
    gpu.ceilingSource = ceiling.source;
    gpu.recoveryCount = stats?.recoveryCount ?? null;
    this.lastGpu = gpu;
    return gpu;
  }

  async listProcesses(slow: boolean): Promise<ProcessEntry[]> {
    if (!slow && this.entries.length > 0) return this.entries;
    const list = this.call('listProcesses', () => this.native.listProcesses(), null);
    if (list === null) return this.entries;
    this.entries = list.map((p) => ({
      pid: p.pid,
      ppid: p.ppid,
      argv: p.argv,
      executable: p.executable,
      name: p.name ?? (p.executable ? (p.executable.split('/').pop() ?? null) : null),
      startTime: p.startTime,
      uid: p.uid ?? null,
    }));
    return this.entries;
  }

  async readProcessStats(entries: ProcessEntry[]): Promise<Map<number, ProcessStats>> {
    const out = new Map<number, ProcessStats>();
    if (entries.length === 0) return out;
    const starts = new Map(entries.map((e) => [e.pid, e.startTime]));
    const stats = this.call('readProcessStats', () => this.native.readProcessStats([...starts.keys()]), []);
    const now = this.now();
    const keys: string[] = [];
    for (const s of stats) {
      const key = `${s.pid}:${starts.get(s.pid) ?? ''}`;
      keys.push(key);
      out.set(s.pid, {
        rss: s.rss,
        physFootprint: s.physFootprint,
        cpuPercent: this.cpu.percent(key, s.cpuSeconds, now),
        threads: s.threads,
      });
    }
    this.cpu.keepOnly(keys);
    return out;
  }

  async identity(): Promise<MachineIdentity> {
    const values: Record<string, string> = {};
    for (const name of IDENTITY_STRINGS) {
      const v = this.call('sysctl', () => this.native.sysctl(name, 'string'), null);
      if (typeof v === 'string') values[name] = v;
    }
    for (const name of IDENTITY_NUMBERS) {
      const v = this.call('sysctl', () => this.native.sysctl(name, 'number'), null);
      if (typeof v === 'number') values[name] = String(v);
    }
    const id = identityFromSysctl(values);
    const release = this.call('sysctl', () => this.native.sysctl('kern.osrelease', 'string'), null);
    const version = this.call('sysctl', () => this.native.sysctl('kern.version', 'string'), null);
    const uname =
      typeof release === 'string' && typeof version === 'string'
        ? parseUname(`Darwin ${hostname()} ${release} ${version} ${process.arch}`)
        : null;
    return {
      platform: 'darwin',
      hostname: hostname(),
      model: id.model,
      chip: id.chip,
      memoryBytes: id.memsize,
      osVersion: id.osProductVersion,
      osBuild: id.osBuild,
      kernelVersion: uname?.darwinVersion ?? null,
      kernelFamily: uname?.kernelFamily ?? null,
      iogpuFamilyVersion: this.call(
        'kextVersion',
        () => this.native.kextVersion('com.apple.iokit.IOGPUFamily'),
        null,
      ),
    };
  }

  watchPressure(onChange: (change: PressureChange) => void): (() => void) | string {
    try {
      const watch = this.native.watchPressure((e) => {
        if (e.kind === 'error')
          this.reporter.failed('native.pressure', e.data ?? 'the pressure source stopped');
        else onChange({ level: e.level, source: 'dispatch-memorypressure' });
      });
      return () => {
        watch.close();
      };
    } catch (e) {
      return (e as Error).message;
    }
  }

  describe(): ProbeDescription {
    return {
      backend: 'native',
      native: { loaded: true, version: this.status.version, error: null },
      sources: {
        memory: 'native:sysctl+host_statistics64',
        gpu: 'native:IOAccelerator+Metal',
        processes: 'native:proc_listallpids+KERN_PROCARGS2',
        processStats: 'native:proc_pid_rusage',
        pressureEvents: 'native:dispatch-memorypressure',
      },
    };
  }
}
