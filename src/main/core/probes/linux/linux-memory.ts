import type { MemoryReading } from '../../../../shared/sample.js';
import type { ProbeReporter } from '../probe-types.js';
import { type Psi, psiToPressureLevel } from './psi-parser.js';

/**
 * /proc/meminfo (bytes) and memory PSI → the sample's memory reading. One mapping for both Linux readers
 * (procfs in JS and the native addon), so they cannot drift apart.
 */
export function linuxMemoryReading(
  m: Record<string, number>,
  psi: Psi | null,
  reporter: ProbeReporter,
): MemoryReading {
  const total = m['MemTotal'] ?? null;
  const available = m['MemAvailable'] ?? null;
  if (psi === null)
    reporter.unavailable('memory.pressureLevel', 'no /proc/pressure/memory (kernel without PSI)');
  if (m['Zswap'] === undefined)
    reporter.unavailable('memory.compressed', 'zswap is not enabled on this kernel');
  return {
    total,
    usable: total,
    free: m['MemFree'] ?? null,
    active: m['Active'] ?? null,
    inactive: m['Inactive'] ?? null,
    speculative: null,
    // Closest analogue of macOS wired pages: unevictable memory (mlock'd pages, ramfs).
    wired: m['Unevictable'] ?? null,
    compressed: m['Zswap'] ?? null,
    swapUsed:
      m['SwapTotal'] !== undefined && m['SwapFree'] !== undefined ? m['SwapTotal'] - m['SwapFree'] : null,
    swapTotal: m['SwapTotal'] ?? null,
    pressureLevel: psi === null ? null : psiToPressureLevel(psi),
    freePercent: total && available !== null ? Math.round((1000 * available) / total) / 10 : null,
  };
}
