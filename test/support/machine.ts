/**
 * What the tests compare the daemon's readings with, read the way each platform tells it (Linux: procfs; macOS:
 * sysctl and ps), so the suites that start real daemons run on both. Each reader is independent of the probes
 * under test.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

const linux = process.platform === 'linux';

/** Physical memory, bytes: Linux MemTotal (kB × 1024), macOS hw.memsize (what Node's totalmem reads there). */
export function machineMemoryTotal(): number {
  if (linux) return Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  return totalmem();
}

/** Resident memory of a process, bytes: Linux VmRSS, macOS `ps -o rss=` (KiB); 0 when it is gone. */
export function residentBytes(pid: number): number {
  try {
    if (linux)
      return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    return (
      Number(execFileSync('/bin/ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024
    );
  } catch {
    return 0;
  }
}

/** This boot's identity: Linux boot_id, macOS kern.bootsessionuuid. */
export function bootId(): string {
  if (linux) return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return execFileSync('/usr/sbin/sysctl', ['-n', 'kern.bootsessionuuid'], { encoding: 'utf8' }).trim();
}

/** How a process's start is recorded in a pidfile: Linux start ticks, macOS `ps -o lstart=` text. */
export const PROCESS_START = linux ? /^\d+$/ : /^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \d{4}$/;

/** The free share of memory, 0-1: Linux MemAvailable / MemTotal, macOS kern.memorystatus_level / 100. */
export function freeRatio(): number {
  if (linux) {
    const meminfo = readFileSync('/proc/meminfo', 'utf8');
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)![1]);
    return kib('MemAvailable') / kib('MemTotal');
  }
  return (
    Number(execFileSync('/usr/sbin/sysctl', ['-n', 'kern.memorystatus_level'], { encoding: 'utf8' })) / 100
  );
}

/**
 * CPU time a process's event loop has used, ms. Linux: its main thread's utime + stime (10 ms ticks); macOS has
 * no per-thread figure outside the process, so the whole process's (`ps -o time=`, centiseconds): never less.
 */
export function eventLoopCpuMs(pid: number): number {
  if (linux) {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }
  const time = execFileSync('/bin/ps', ['-o', 'time=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  // [[dd-]hh:]mm:ss.cc
  const [days, rest] = time.includes('-') ? time.split('-') : ['0', time];
  const parts = (rest ?? '').split(':').map(Number);
  const seconds = parts.reduce((acc, p) => acc * 60 + p, 0);
  return Math.round((Number(days) * 86_400 + seconds) * 1000);
}
