import { finiteNumber, finiteOrNull } from '../../util/finite.js';

/**
 * Per-process procfs files. `/proc/<pid>/stat` is split after the last `)` because the command name may
 * itself contain spaces and parentheses.
 */
export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utimeTicks: number;
  stimeTicks: number;
  numThreads: number;
  /** Clock ticks after boot. */
  startTimeTicks: number;
  rssPages: number;
}

export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pidText = text.slice(0, open).trim();
  const pid = /^\d+$/.test(pidText) ? finiteNumber(pidText) : null;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // Fields after comm, numbered from 3 (state) as in proc(5).
  const f = (n: number): number => (/^-?\d+$/.test(rest[n - 3] ?? '') ? Number(rest[n - 3]) : Number.NaN);
  if (pid === null || !Number.isInteger(pid) || rest.length < 22) return null;
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: f(4),
    utimeTicks: f(14),
    stimeTicks: f(15),
    numThreads: f(20),
    startTimeTicks: f(22),
    rssPages: f(24),
  };
  return Object.values(stat).some((v) => typeof v === 'number' && !Number.isFinite(v)) ? null : stat;
}

/** `/proc/<pid>/status` or `smaps_rollup`: `Key:  value [kB]` → bytes for kB values, numbers otherwise. */
export function parseKeyValueKb(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([\w_]+):\s+(\d+)(\s+kB)?\s*$/.exec(line);
    const n = m ? finiteOrNull(Number(m[2]) * (m[3] ? 1024 : 1)) : null;
    if (m && n !== null) out[m[1]!] = n;
  }
  return out;
}

/**
 * The real uid from `/proc/<pid>/status` (`Uid:  real  effective  saved  fs`); null when the line is not there.
 * The real one: a setuid-root program another user starts (`su` waiting for a password, with any argv) has
 * effective uid 0 but is that user's.
 */
export function parseRealUid(status: string): number | null {
  const m = /^Uid:\s+(\d+)\s/m.exec(status);
  return m ? finiteOrNull(Number(m[1])) : null;
}

/** `/proc/<pid>/cmdline`: NUL-separated argv (a trailing NUL is dropped; empty for kernel threads). */
export function parseCmdline(buf: string): string[] {
  if (buf === '') return [];
  const parts = buf.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** `/proc/stat`: boot time (epoch seconds) and the aggregate CPU tick counters. */
export function parseSystemStat(text: string): {
  bootTimeSeconds: number | null;
  cpuTotalTicks: number | null;
} {
  const btime = /^btime\s+(\d+)/m.exec(text);
  const cpu = /^cpu\s+([\d\s]+)$/m.exec(text);
  const total = cpu
    ? cpu[1]!
        .trim()
        .split(/\s+/)
        .reduce((s, v) => s + Number(v), 0)
    : null;
  return { bootTimeSeconds: finiteNumber(btime?.[1]), cpuTotalTicks: finiteOrNull(total) };
}
