import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { hostname, release } from 'node:os';
import { emptyGpu, emptyMemory, type GpuReading, type MemoryReading } from '../../../../shared/sample.js';
import type {
  MachineIdentity,
  PlatformProbe,
  ProbeDescription,
  ProbeReporter,
  ProcessEntry,
  ProcessStats,
} from '../probe-types.js';
import { linuxMemoryReading } from './linux-memory.js';
import { parseMeminfo } from './meminfo-parser.js';
import {
  parseCmdline,
  parseKeyValueKb,
  parseProcStat,
  parseRealUid,
  parseSystemStat,
} from './proc-pid-parser.js';
import { parsePsi } from './psi-parser.js';

/** USER_HZ: 100 on every mainstream Linux architecture (the kernel ABI fixes it for /proc). */
const CLOCK_TICKS = 100;
const PAGE_SIZE = 4096;
/** Bytes of a process's command line read (linux-probe readHead). */
const CMDLINE_BYTES = 16 * 1024;
/** Bytes of /proc/<pid>/status read for its Uid: line. */
const STATUS_HEAD_BYTES = 1024;

interface CachedEntry {
  entry: ProcessEntry;
  startTicks: number;
}

interface CpuMark {
  ticks: number;
  at: number;
}

/**
 * procfs readers: the daemon runs for real on Linux servers and on the build machines. No process is
 * spawned. The process table is cached by pid and start time: each tick lists /proc and reads only new
 * pids; the slow cadence re-reads every pid's stat to catch pid reuse.
 */
export class LinuxProbe implements PlatformProbe {
  readonly platform = 'linux' as const;
  readonly spawnCount = 0;
  /** Set by whoever chose this probe, to say why it is the one in use. */
  describe?: () => ProbeDescription;
  private readonly table = new Map<number, CachedEntry>();
  private readonly cpuMarks = new Map<string, CpuMark>();
  private bootTimeMs: number | null = null;

  constructor(
    private readonly reporter: ProbeReporter,
    private readonly procRoot = '/proc',
    private readonly now: () => number = Date.now,
  ) {
    this.reporter.unavailable('gpu', 'no Apple GPU on Linux: IOAccelerator figures exist only on macOS');
    this.reporter.unavailable('memory.speculative', 'Linux has no speculative page count');
  }

  /**
   * The first `max` bytes of a file (a process's command line: anyone chooses its length, and patterns see
   * the first 4096 characters; the whole 1.8 MB of one was held for as long as its process lived).
   */
  private readHead(path: string, max: number): string | null {
    let fd: number | null = null;
    try {
      fd = openSync(`${this.procRoot}/${path}`, 'r');
      const buf = Buffer.alloc(max);
      let got = 0;
      for (let n = 1; n > 0 && got < max; got += n) n = readSync(fd, buf, got, max - got, null);
      return buf.toString('utf8', 0, got);
    } catch {
      return null;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  private read(path: string): string | null {
    try {
      return readFileSync(`${this.procRoot}/${path}`, 'utf8');
    } catch {
      return null;
    }
  }

  async readMemory(): Promise<MemoryReading> {
    const text = this.read('meminfo');
    if (text === null) {
      this.reporter.failed('meminfo', `${this.procRoot}/meminfo is not readable`);
      return nullMemory();
    }
    const psiText = this.read('pressure/memory');
    return linuxMemoryReading(parseMeminfo(text), psiText === null ? null : parsePsi(psiText), this.reporter);
  }

  async readGpu(): Promise<GpuReading> {
    return emptyGpu();
  }

  private bootTime(): number | null {
    if (this.bootTimeMs === null) {
      const stat = this.read('stat');
      const boot = stat ? parseSystemStat(stat).bootTimeSeconds : null;
      this.bootTimeMs = boot === null ? null : boot * 1000;
    }
    return this.bootTimeMs;
  }

  private readEntry(pid: number): CachedEntry | null {
    const statText = this.read(`${pid}/stat`);
    const stat = statText ? parseProcStat(statText) : null;
    if (!stat) return null;
    const cmd = this.readHead(`${pid}/cmdline`, CMDLINE_BYTES);
    let executable: string | null = null;
    try {
      executable = readlinkSync(`${this.procRoot}/${pid}/exe`);
    } catch {
      executable = null;
    }
    const boot = this.bootTime();
    // The real uid (the Uid: line is within the first lines of status, after a 64-character name at most).
    const status = this.readHead(`${pid}/status`, STATUS_HEAD_BYTES);
    const uid = status ? parseRealUid(status) : null;
    return {
      startTicks: stat.startTimeTicks,
      entry: {
        pid,
        ppid: stat.ppid,
        argv: cmd ? parseCmdline(cmd) : [],
        executable,
        name: stat.comm,
        startTime: boot === null ? null : boot + (stat.startTimeTicks * 1000) / CLOCK_TICKS,
        uid,
      },
    };
  }

  async listProcesses(slow: boolean): Promise<ProcessEntry[]> {
    let names: string[];
    try {
      names = readdirSync(this.procRoot);
    } catch (e) {
      this.reporter.failed('process-table', `cannot list ${this.procRoot}: ${(e as Error).message}`);
      return [...this.table.values()].map((c) => c.entry);
    }
    const seen = new Set<number>();
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const pid = Number(name);
      seen.add(pid);
      const cached = this.table.get(pid);
      if (cached && !slow) continue;
      if (cached && slow) {
        const statText = this.read(`${pid}/stat`);
        const stat = statText ? parseProcStat(statText) : null;
        if (stat && stat.startTimeTicks === cached.startTicks) {
          cached.entry.ppid = stat.ppid;
          continue;
        }
      }
      const fresh = this.readEntry(pid);
      if (fresh) this.table.set(pid, fresh);
      else this.table.delete(pid);
    }
    for (const pid of this.table.keys()) if (!seen.has(pid)) this.table.delete(pid);
    return [...this.table.values()].map((c) => c.entry);
  }

  async readProcessStats(entries: ProcessEntry[]): Promise<Map<number, ProcessStats>> {
    const out = new Map<number, ProcessStats>();
    const now = this.now();
    const live = new Set<string>();
    for (const e of entries) {
      const statText = this.read(`${e.pid}/stat`);
      const stat = statText ? parseProcStat(statText) : null;
      if (!stat) continue;
      const key = `${e.pid}:${stat.startTimeTicks}`;
      live.add(key);
      const ticks = stat.utimeTicks + stat.stimeTicks;
      const mark = this.cpuMarks.get(key);
      this.cpuMarks.set(key, { ticks, at: now });
      const cpuPercent =
        mark && now > mark.at
          ? Math.round(((ticks - mark.ticks) / CLOCK_TICKS / ((now - mark.at) / 1000)) * 1000) / 10
          : null;
      const status = parseKeyValueKb(this.read(`${e.pid}/status`) ?? '');
      const anon = status['RssAnon'];
      if (anon === undefined)
        this.reporter.unavailable(
          'process.physFootprint',
          'this kernel has no RssAnon in /proc/<pid>/status',
        );
      out.set(e.pid, {
        rss: status['VmRSS'] ?? stat.rssPages * PAGE_SIZE,
        // Analogue of phys_footprint: anonymous resident memory plus what is swapped out. (smaps_rollup's
        // Private_Dirty is closer but costs ~1 ms per process per read; status costs ~15 µs.)
        physFootprint: anon === undefined ? null : anon + (status['VmSwap'] ?? 0),
        cpuPercent,
        threads: status['Threads'] ?? stat.numThreads,
      });
    }
    for (const key of this.cpuMarks.keys()) if (!live.has(key)) this.cpuMarks.delete(key);
    return out;
  }

  async identity(): Promise<MachineIdentity> {
    const meminfo = parseMeminfo(this.read('meminfo') ?? '');
    const osRelease = (() => {
      try {
        return readFileSync('/etc/os-release', 'utf8');
      } catch {
        return '';
      }
    })();
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? null;
    const cpu = /^model name\s*:\s*(.+)$/m.exec(this.read('cpuinfo') ?? '')?.[1] ?? null;
    return {
      platform: 'linux',
      hostname: hostname(),
      model: null,
      chip: cpu,
      memoryBytes: meminfo['MemTotal'] ?? null,
      osVersion: pretty,
      osBuild: null,
      kernelVersion: release(),
      kernelFamily: null,
      iogpuFamilyVersion: null,
    };
  }
}

function nullMemory(): MemoryReading {
  return emptyMemory();
}
