/**
 * Finds a kext's version in the places it is printed:
 * - `kmutil showloaded` rows: `… com.apple.iokit.IOGPUFamily (130.13) <UUID> <deps>`
 * - panic backtrace kext lists: `com.apple.iokit.IOGPUFamily(129.3.2)[UUID]@0x…` (also JSON-escaped)
 * - the panic's loaded-kexts list: `com.apple.iokit.IOGPUFamily<TAB>129.3.2`
 * Dependencies are `dependency: …` lines of another kext and are not mistaken for it (exact bundle id).
 */

export const IOGPU_FAMILY = 'com.apple.iokit.IOGPUFamily';

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function findKextVersion(text: string, bundleId: string = IOGPU_FAMILY): string | null {
  const id = escapeRegex(bundleId);
  // `(` right after the id (backtrace) or after a space (kmutil); `\t` or spaces then a version (loaded list).
  const re = new RegExp(
    `(?:^|[^\\w.-])${id}(?:\\s*\\((\\d+(?:\\.\\d+)*)\\)|[ \\t]+(\\d+(?:\\.\\d+)*)(?=\\s|$))`,
    'm',
  );
  const m = re.exec(text);
  if (!m) return null;
  return m[1] ?? m[2] ?? null;
}

export interface LoadedKext {
  bundleId: string;
  version: string;
}

/** Every `bundle.id (version)` row of `kmutil showloaded` output. */
export function parseKmutilShowloaded(text: string): LoadedKext[] {
  const out: LoadedKext[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*\d+\s+\d+\s+\S+\s+\S+\s+\S+\s+([\w.-]+) \(([^)]+)\)/.exec(line);
    if (m) out.push({ bundleId: m[1]!, version: m[2]! });
  }
  return out;
}
