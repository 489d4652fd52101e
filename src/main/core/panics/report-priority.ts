/**
 * How macOS names a kernel panic report, with the time it was written: `panic-full-2026-04-23-100035.0002.panic`
 * (macOS 11 and later; `panic-base-…` for the short form), `Kernel-2019-05-01-123456.panic` and
 * `Kernel_2019-05-01-123456_Host.panic` (older releases).
 */
const PANIC_NAME = /^(?:panic-(?:full|base)-|Kernel[-_])(\d{4}-\d{2}-\d{2}-\d{6})[^/]*\.panic$/i;

/** The name's `YYYY-MM-DD-HHMMSS` when it is named as macOS names a panic report, else null. */
export function panicNameStamp(name: string): string | null {
  return PANIC_NAME.exec(name)?.[1] ?? null;
}

/**
 * The key that sorts panic-named files oldest first by the time in their name (then by name): a scan takes
 * them in reverse, newest first (see nameOfKey).
 */
export const priorityKey = (stamp: string, name: string): string => `${stamp}\u0000${name}`;

export const nameOfKey = (key: string): string => key.slice(key.indexOf('\u0000') + 1);
