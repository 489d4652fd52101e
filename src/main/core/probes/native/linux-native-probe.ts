import { emptyMemory, type GpuReading, type MemoryReading } from '../../../../shared/sample.js';
import { linuxMemoryReading } from '../linux/linux-memory.js';
import { LinuxProbe } from '../linux/linux-probe.js';
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
import type { NativeBinding, NativeLinuxMemory, NativeStatus } from './native-binding.js';

/**
 * Linux readers over the addon: memory (sysinfo(2), /proc/meminfo, PSI) and the watched processes' stats read in
 * C, a PSI trigger on the addon's thread. A new EXO process is seen on the next tick, as with the procfs probe.
 */
export class LinuxNativeProbe implements PlatformProbe {
  readonly platform = 'linux' as const;
  readonly spawnCount = 0;
  private readonly cpu = new CpuMeter();
  private readonly procfs: LinuxProbe;

  constructor(
    private readonly native: NativeBinding,
    private readonly status: NativeStatus,
    private readonly reporter: ProbeReporter,
    private readonly now: () => number = Date.now,
  ) {
    this.procfs = new LinuxProbe(reporter, '/proc', now);
  }

  private call<T>(what: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (e) {
      this.reporter.failed(`native.${what}`, (e as Error).message);
      return fallback;
    }
  }

  async readMemory(): Promise<MemoryReading> {
    const m = this.call('readMemory', () => this.native.readMemory() as NativeLinuxMemory, null);
    if (!m?.meminfo) {
      this.reporter.failed('native.readMemory', 'no /proc/meminfo reading');
      return emptyMemory();
    }
    const psi = m.psi ? { some: m.psi.some, full: m.psi.full } : null;
    return linuxMemoryReading(m.meminfo, psi, this.reporter);
  }

  async readGpu(): Promise<GpuReading> {
    return this.procfs.readGpu();
  }

  /**
   * The process table from procfs in JS, cached by pid and start time (a new pid costs three small reads,
   * a known one nothing): cheaper per tick than listing every process again natively. The native listing is
   * what `doctor --probes` compares against it.
   */
  listProcesses(slow: boolean): Promise<ProcessEntry[]> {
    return this.procfs.listProcesses(slow);
  }

  async readProcessStats(entries: ProcessEntry[]): Promise<Map<number, ProcessStats>> {
    const out = new Map<number, ProcessStats>();
    if (entries.length === 0) return out;
    const stats = this.call(
      'readProcessStats',
      () => this.native.readProcessStats(entries.map((e) => e.pid)),
      [],
    );
    const now = this.now();
    for (const s of stats) {
      out.set(s.pid, {
        rss: s.rss,
        physFootprint: s.physFootprint,
        cpuPercent: this.cpu.percent(`${s.pid}:${s.startTicks ?? ''}`, s.cpuSeconds, now),
        threads: s.threads,
      });
    }
    this.cpu.keepOnly(stats.map((s) => `${s.pid}:${s.startTicks ?? ''}`));
    return out;
  }

  identity(): Promise<MachineIdentity> {
    return this.procfs.identity();
  }

  watchPressure(onChange: (change: PressureChange) => void): (() => void) | string {
    try {
      const watch = this.native.watchPressure((e) => {
        if (e.kind === 'error')
          this.reporter.failed('native.pressure', e.data ?? 'the pressure watcher stopped');
        else onChange({ level: null, source: 'psi-trigger' });
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
        memory: 'native:/proc/meminfo+sysinfo',
        gpu: 'none (no Apple GPU on Linux)',
        processes: 'procfs:/proc/<pid> (cached by pid and start time)',
        processStats: 'native:/proc/<pid>/{stat,status}',
        pressureEvents: 'native:psi-trigger',
      },
    };
  }
}
