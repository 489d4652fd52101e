/**
 * The kinds of kernel panic exo-sentinel tells apart, from the panic line alone. Matches the assertion
 * text and the source file, never the caller address (KASLR-slid, different every boot) or UUIDs.
 */
export type PanicKind = 'completeMemory' | 'iogpuSibling' | 'watchdogTimeout' | 'other' | 'unknown';

const COMPLETE_MEMORY = /completeMemory\(\) prepare count underflow[\s\S]{0,40}?@IOGPUMemory\.cpp:\d+/;
const IOGPU_ASSERTION = /@IOGPU\w*\.cpp:\d+/;
const WATCHDOG = /watchdog timeout: no checkins from watchdogd/;

/** @param panicLine the panic line, with its continuation when a pasted copy wrapped it; null if none. */
export function classifyPanicLine(panicLine: string | null): PanicKind {
  if (panicLine === null) return 'unknown';
  if (COMPLETE_MEMORY.test(panicLine)) return 'completeMemory';
  if (IOGPU_ASSERTION.test(panicLine)) return 'iogpuSibling';
  if (WATCHDOG.test(panicLine)) return 'watchdogTimeout';
  return 'other';
}

/** The IOGPU family of panics: what the guard and the post-panic hold care about. */
export const isIogpuKind = (kind: PanicKind): boolean => kind === 'completeMemory' || kind === 'iogpuSibling';
