import { hostname } from 'node:os';
import {
  type CeilingSource,
  emptyGpu,
  emptyMemory,
  type GpuReading,
  type MemoryReading,
} from '../../../../shared/sample.js';
import type { CommandRunner } from '../command-runner.js';
import type {
  MachineIdentity,
  PlatformProbe,
  ProbeReporter,
  ProcessEntry,
  ProcessStats,
} from '../probe-types.js';
import { parseFootprint } from './footprint-parser.js';
import { parseIdentity, parseUname } from './identity-parser.js';
import { parseIoregAccelerators } from './ioreg-accelerator-parser.js';
import { findKextVersion } from './kext-version-parser.js';
import { parseMemoryPressure } from './memory-pressure-parser.js';
import { parsePs } from './ps-parser.js';
import { parsePressureLevel, parseSwapUsage, parseSysctl, sysctlInt } from './sysctl-parser.js';
import { topFootprints } from './top-parser.js';
import { parseVmStat } from './vm-stat-parser.js';

const MEMORY_SYSCTLS = [
  'hw.memsize',
  'hw.memsize_usable',
  'vm.swapusage',
  'kern.memorystatus_vm_pressure_level',
  'kern.memorystatus_level',
];

const FOOTPRINT_FALLBACK_MAX = 4;

export interface DarwinProbeOptions {
  /** A configured Metal ceiling, used when iogpu.wired_limit_mb is 0 (the system default). */
  ceilingBytes?: number | null;
  /** A python that has MLX, asked once for recommendedMaxWorkingSetSize (by the sampler's `CeilingChain`). */
  mlxPython?: string | null;
  /** Where the `CeilingChain` keeps a Python's answer for the rest of the boot (the daemon's data directory). */
  ceilingCacheFile?: string | null;
}

/** Bytes of a command line kept per process, as the native and procfs readers read. */
const ARGV_CHARS = 16 * 1024;
/** Room for the columns before `args`/`comm` (pid, ppid, ruid, lstart, spaces; wider pids included). */
const PS_PREFIX_CHARS = 128;
/**
 * Bytes of ps output read at most (kept: 16 KiB a line): 256 processes with the largest command line macOS
 * allows (1 MiB). Past it the process table is kept from the last reading and the failure said.
 */
const PS_READ_MAX_BYTES = 256 * 1024 * 1024;

/**
 * macOS readers over commands, the fallback when the native addon is not built: `vm_stat` and one
 * `sysctl` per tick (µs natively, a few ms as spawns), and on the slow cadence `ioreg` (≈47 KB, tens of
 * ms), `ps` and `top` for the process table and phys_footprint. Every command runs with an argument
 * array, LC_ALL=C and a timeout; a failure gives nulls and a `probe.failed` event.
 */
export class DarwinCommandProbe implements PlatformProbe {
  readonly platform = 'darwin' as const;
  private lastGpu: GpuReading = emptyGpu();
  private lastEntries: ProcessEntry[] = [];
  private lastStats = new Map<number, ProcessStats>();

  constructor(
    private readonly run: CommandRunner & { count: number },
    private readonly reporter: ProbeReporter,
    private readonly options: DarwinProbeOptions = {},
    private readonly now: () => number = Date.now,
  ) {}

  get spawnCount(): number {
    return this.run.count;
  }

  /** Memory is cheap enough to read every tick, on either cadence. */
  async readMemory(_slow = true): Promise<MemoryReading> {
    const [vm, sc] = await Promise.all([
      this.run('/usr/bin/vm_stat', [], { timeoutMs: 2000 }),
      this.run('/usr/sbin/sysctl', MEMORY_SYSCTLS, { timeoutMs: 2000 }),
    ]);
    const mem = emptyMemory();
    if (vm.ok) {
      const v = parseVmStat(vm.stdout);
      mem.free = v.bytes.free;
      mem.active = v.bytes.active;
      mem.inactive = v.bytes.inactive;
      mem.speculative = v.bytes.speculative;
      mem.wired = v.bytes.wired;
      mem.compressed = v.bytes.occupiedByCompressor;
    } else this.reporter.failed('vm_stat', vm.error);
    if (sc.ok) {
      const s = parseSysctl(sc.stdout);
      mem.total = sysctlInt(s, 'hw.memsize');
      mem.usable = sysctlInt(s, 'hw.memsize_usable') ?? mem.total;
      const swap = s['vm.swapusage'] ? parseSwapUsage(s['vm.swapusage']) : null;
      mem.swapUsed = swap?.used ?? null;
      mem.swapTotal = swap?.total ?? null;
      const level = s['kern.memorystatus_vm_pressure_level'];
      mem.pressureLevel = level ? parsePressureLevel(level) : null;
      mem.freePercent = sysctlInt(s, 'kern.memorystatus_level');
    } else this.reporter.failed('sysctl', sc.error);
    if (mem.freePercent === null) {
      // The same figure, printed by memory_pressure -Q (never -l or -p: those allocate memory).
      const mp = await this.run('/usr/bin/memory_pressure', ['-Q'], { timeoutMs: 3000 });
      if (mp.ok) mem.freePercent = parseMemoryPressure(mp.stdout).freePercent;
      else this.reporter.failed('memory_pressure', mp.error);
    }
    return mem;
  }

  /**
   * What the machine says without the addon: `iogpu.wired_limit_mb` when set above 0, else the configured
   * gpu.ceilingBytes. Metal's own default needs the addon or a Python: the sampler's `CeilingChain` asks one in
   * the background (never within this reader's budget) and falls back to an estimate from RAM.
   */
  private async probeCeiling(): Promise<{ bytes: number | null; source: CeilingSource | null }> {
    const sc = await this.run('/usr/sbin/sysctl', ['iogpu.wired_limit_mb'], { timeoutMs: 2000 });
    const limitMb = sc.ok ? sysctlInt(parseSysctl(sc.stdout), 'iogpu.wired_limit_mb') : null;
    if (limitMb !== null && limitMb > 0)
      return { bytes: limitMb * 1024 * 1024, source: 'wired-limit-sysctl' };
    if (this.options.ceilingBytes) return { bytes: this.options.ceilingBytes, source: 'config' };
    return { bytes: null, source: null };
  }

  async readGpu(slow: boolean): Promise<GpuReading> {
    if (!slow) return this.lastGpu;
    const r = await this.run('/usr/sbin/ioreg', ['-r', '-d', '1', '-w', '0', '-c', 'IOAccelerator'], {
      timeoutMs: 4000,
      maxBytes: 512 * 1024,
    });
    const gpu = emptyGpu();
    if (r.ok) {
      const node = parseIoregAccelerators(r.stdout).find((n) => n.inUseSystemMemory !== null);
      if (node) {
        gpu.inUseBytes = node.inUseSystemMemory;
        gpu.allocBytes = node.allocSystemMemory;
        gpu.utilization = node.deviceUtilization;
        gpu.recoveryCount = node.recoveryCount;
        gpu.sampledAt = this.now();
      } else this.reporter.failed('ioreg', 'no IOAccelerator node with PerformanceStatistics');
    } else this.reporter.failed('ioreg', r.error);
    const ceiling = await this.probeCeiling();
    gpu.ceilingBytes = ceiling.bytes;
    gpu.ceilingSource = ceiling.source;
    this.lastGpu = gpu;
    return gpu;
  }

  async listProcesses(slow: boolean): Promise<ProcessEntry[]> {
    if (!slow && this.lastEntries.length > 0) return this.lastEntries;
    // Each line is kept to its first 16 KiB as it is read (what the native and procfs readers read of a command
    // line): macOS's ps never cuts a line when its output is a pipe, whatever -w or COLUMNS say, and a few
    // processes with 1 MiB of arguments each made the output overflow its cap and froze the process table.
    // The real uid: a setuid-root program another user starts is theirs.
    const [argsOut, commOut] = await Promise.all([
      this.run('/bin/ps', ['-axww', '-o', 'pid=,ppid=,ruid=,lstart=,args='], {
        timeoutMs: 4000,
        maxBytes: PS_READ_MAX_BYTES,
        maxLineBytes: ARGV_CHARS + PS_PREFIX_CHARS,
      }),
      // comm is the executable's path on macOS: at most MAXPATHLEN (1024).
      this.run('/bin/ps', ['-axww', '-o', 'pid=,comm='], {
        timeoutMs: 4000,
        maxBytes: PS_READ_MAX_BYTES,
        maxLineBytes: 1024 + PS_PREFIX_CHARS,
      }),
    ]);
    if (!argsOut.ok) {
      this.reporter.failed('ps', argsOut.error);
      return this.lastEntries;
    }
    const comms = new Map<number, string>();
    if (commOut.ok)
      for (const r of parsePs(commOut.stdout, ['pid', 'comm'])) if (r.comm) comms.set(r.pid, r.comm);
    this.lastEntries = parsePs(argsOut.stdout, ['pid', 'ppid', 'ruid', 'lstart', 'args']).map((r) => {
      const executable = comms.get(r.pid) ?? null;
      return {
        pid: r.pid,
        ppid: r.ppid ?? null,
        // ps joins argv with spaces; an argument that itself holds spaces cannot be told apart here.
        argv: (r.args ?? '').split(' ').filter((a) => a !== ''),
        executable,
        name: executable ? (executable.split('/').pop() ?? null) : null,
        startTime: r.startTime ?? null,
        uid: r.ruid ?? null,
      };
    });
    return this.lastEntries;
  }

  async readProcessStats(entries: ProcessEntry[], slow: boolean): Promise<Map<number, ProcessStats>> {
    if ((!slow && this.lastStats.size > 0) || entries.length === 0) return this.lastStats;
    const pids = entries.map((e) => String(e.pid));
    const topArgs = ['-l', '1', '-s', '0', '-stats', 'pid,mem'];
    for (const p of pids) topArgs.push('-pid', p);
    const [ps, top] = await Promise.all([
      this.run('/bin/ps', ['-o', 'pid=,rss=,%cpu=', '-p', pids.join(',')], { timeoutMs: 3000 }),
      this.run('/usr/bin/top', topArgs, { timeoutMs: 5000 }),
    ]);
    const footprints = top.ok ? topFootprints(top.stdout) : new Map<number, number>();
    if (!top.ok) this.reporter.failed('top', top.error);
    // `footprint -p` for the pids top did not report (~100 ms each, so only a few per slow tick).
    const missing = pids
      .map(Number)
      .filter((pid) => !footprints.has(pid))
      .slice(0, FOOTPRINT_FALLBACK_MAX);
    for (const pid of missing) {
      const fp = await this.run('/usr/bin/footprint', ['-p', String(pid)], { timeoutMs: 3000 });
      const bytes = fp.ok ? parseFootprint(fp.stdout).physFootprintBytes : null;
      if (bytes !== null) footprints.set(pid, bytes);
      else if (!fp.ok) this.reporter.failed('footprint', fp.error);
    }
    this.reporter.unavailable('process.threads', 'thread counts need the native addon on macOS');
    const out = new Map<number, ProcessStats>();
    for (const r of ps.ok ? parsePs(ps.stdout, ['pid', 'rss', 'pcpu']) : []) {
      out.set(r.pid, {
        rss: r.rssBytes ?? null,
        physFootprint: footprints.get(r.pid) ?? null,
        cpuPercent: r.cpuPercent ?? null,
        threads: null,
      });
    }
    if (!ps.ok) this.reporter.failed('ps', ps.error);
    this.lastStats = out;
    return out;
  }

  async identity(): Promise<MachineIdentity> {
    const [sc, un, km] = await Promise.all([
      this.run('/usr/sbin/sysctl', [
        'hw.model',
        'machdep.cpu.brand_string',
        'hw.memsize',
        'hw.targettype',
        'kern.osproductversion',
        'kern.osversion',
      ]),
      this.run('/usr/bin/uname', ['-a']),
      this.run('/usr/bin/kmutil', ['showloaded', '--bundle-identifier', 'com.apple.iokit.IOGPUFamily'], {
        timeoutMs: 10000,
      }),
    ]);
    const id = sc.ok ? parseIdentity(sc.stdout) : null;
    const u = un.ok ? parseUname(un.stdout) : null;
    return {
      platform: 'darwin',
      hostname: hostname(),
      model: id?.model ?? null,
      chip: id?.chip ?? null,
      memoryBytes: id?.memsize ?? null,
      osVersion: id?.osProductVersion ?? null,
      osBuild: id?.osBuild ?? null,
      kernelVersion: u?.darwinVersion ?? null,
      kernelFamily: u?.kernelFamily ?? null,
      iogpuFamilyVersion: km.ok ? findKextVersion(km.stdout) : null,
    };
  }
}
