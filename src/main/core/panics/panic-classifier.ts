/**
 * The kinds of kernel panic exo-sentinel tells apart, from the panic line alone. Matches the assertion
 * text and the source file, never the caller address (KASLR-slid, different every boot) or UUIDs.
 */
export type PanicKind = 'completeMemory' | 'iogpuSibling' | 'watchdogTimeout' | 'other' | 'unknown';

// Matched against the line with all whitespace removed: a pasted copy wrapped anywhere (mid-phrase,
// mid-word) classifies like the unwrapped text.
const COMPLETE_MEMORY = /completeMemory\(\)preparecountunderflow.{0,40}?@IOGPUMemory\.cpp:\d+/;
const IOGPU_ASSERTION = /@IOGPU\w*\.cpp:\d+/;
const WATCHDOG = /watchdogtimeout:nocheckinsfromwatchdogd/;

/** @param panicLine the panic line, with its continuation when a pasted copy wrapped it; null if none. */
export function classifyPanicLine(panicLine: string | null): PanicKind {
  if (panicLine === null) return 'unknown';
  const squashed = panicLine.replace(/\s+/g, '');
  if (COMPLETE_MEMORY.test(squashed)) return 'completeMemory';
  if (IOGPU_ASSERTION.test(squashed)) return 'iogpuSibling';
  if (WATCHDOG.test(squashed)) return 'watchdogTimeout';
  return 'other';
}

/** The IOGPU family of panics: what the guard and the post-panic hold care about. */
/** The panics of the IOGPU family: the underflow itself and its sibling assertions. */
export const IOGPU_PANIC_KINDS: readonly PanicKind[] = ['completeMemory', 'iogpuSibling'];
export const isIogpuKind = (kind: PanicKind): boolean => IOGPU_PANIC_KINDS.includes(kind);
