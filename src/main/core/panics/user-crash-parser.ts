import { finiteNumber } from '../util/finite.js';
import { visibleText } from '../util/format.js';
import { parseReportTimestamp } from './panic-parser.js';
import { readContainer } from './report-container.js';

/**
 * Non-rebooting warnings that often come before a panic: crash reports of the watched processes
 * (`.ips`, bug_type "309") and JetsamEvent reports (bug_type "298").
 */

export type CrashCause =
  | 'metalCheckError'
  | 'commandBufferOutOfMemory'
  | 'gpuHangTimeout'
  | 'pageFault'
  | 'jetsamKill'
  | 'other';

export interface UserCrashInfo {
  bugType: string;
  cause: CrashCause;
  processName: string | null;
  pid: number | null;
  parentPid: number | null;
  processPath: string | null;
  exceptionType: string | null;
  signal: string | null;
  /** A line of explanation: the abort message, the termination reason. Never memory contents. */
  detail: string | null;
  crashTime: string | null;
}

export interface JetsamInfo {
  bugType: string;
  time: string | null;
  largestProcess: string | null;
  pageSize: number | null;
  freePages: number | null;
  killed: Array<{ pid: number | null; name: string; reason: string; residentPages: number | null }>;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
/** A name as lists and events show it: no control character or bidirectional override changes how it reads. */
const shown = (v: string | null): string | null => (v === null ? null : visibleText(v));
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const rec = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

const isoOf = parseReportTimestamp;

/** Classification by what the report says, most specific first. */
export function classifyCrashText(
  text: string,
  exceptionType: string | null,
  termination: string,
): CrashCause {
  if (/check_error|\[METAL\] Command buffer execution failed/.test(text)) return 'metalCheckError';
  if (/OutOfMemory|Insufficient Memory|kIOGPUCommandBufferCallbackErrorOutOfMemory/i.test(text))
    return 'commandBufferOutOfMemory';
  if (/GPU Hang|kIOGPUCommandBufferCallbackErrorTimeout|Impacting Interactivity|GPU Timeout/i.test(text))
    return 'gpuHangTimeout';
  if (/JETSAM|jetsam|per-process-limit|vm-pageshortage/.test(termination)) return 'jetsamKill';
  if (exceptionType === 'EXC_BAD_ACCESS' || /KERN_INVALID_ADDRESS|KERN_PROTECTION_FAILURE/.test(text))
    return 'pageFault';
  return 'other';
}

export function parseUserCrash(raw: string): UserCrashInfo | null {
  const c = readContainer(raw);
  if (c.bugType !== '309') return null;
  const b = c.body ?? {};
  const s = c.bodyStrings;
  const exception = rec(b['exception']);
  const termination = rec(b['termination']);
  const asi = rec(b['asi']);
  const asiText = Object.values(asi)
    .flat()
    .filter((x) => typeof x === 'string')
    .join(' ');
  const terminationText = [
    termination['namespace'],
    termination['indicator'],
    ...(Array.isArray(termination['reasons']) ? termination['reasons'] : []),
  ]
    .filter((x) => typeof x === 'string')
    .join(' ');
  const exceptionType = str(exception['type']) ?? /"type"\s*:\s*"(EXC_\w+)"/.exec(c.bodyText)?.[1] ?? null;
  const header = c.header ?? {};
  return {
    bugType: '309',
    cause: classifyCrashText(c.bodyText, exceptionType, terminationText),
    processName: shown(
      str(b['procName']) ?? str(s['procName']) ?? str(header['app_name']) ?? str(header['name']),
    ),
    pid: int(b['pid']) ?? finiteNumber(/"pid"\s*:\s*(\d+)/.exec(c.bodyText)?.[1]),
    parentPid: int(b['parentPid']),
    processPath: str(b['procPath']) ?? str(s['procPath']),
    exceptionType,
    signal: str(exception['signal']),
    detail: (asiText || terminationText || null)?.slice(0, 300) ?? null,
    crashTime: isoOf(b['captureTime']) ?? isoOf(header['timestamp']),
  };
}

export function parseJetsamEvent(raw: string): JetsamInfo | null {
  const c = readContainer(raw);
  if (c.bugType !== '298') return null;
  const b = c.body ?? {};
  const memory = rec(b['memoryStatus']);
  const pages = rec(memory['memoryPages']);
  const procs = Array.isArray(b['processes']) ? (b['processes'] as unknown[]) : [];
  const killed = procs
    .map(rec)
    .filter((p) => typeof p['reason'] === 'string')
    .map((p) => ({
      pid: int(p['pid']),
      name: str(p['name']) ?? '?',
      reason: p['reason'] as string,
      residentPages: int(p['rpages']),
    }));
  return {
    bugType: '298',
    time: isoOf(b['date']) ?? isoOf(c.header?.['timestamp']),
    largestProcess: str(b['largestProcess']),
    pageSize: int(memory['pageSize']),
    freePages: int(pages['free']),
    killed,
  };
}
