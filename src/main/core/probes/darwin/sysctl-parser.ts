import { finiteNumber, finiteOrNull } from '../../util/finite.js';
/**
 * `sysctl name...` prints `name: value` lines; `sysctl -n name` prints the bare value.
 * `sysctl -w` prints `name: old -> new`. Unknown oids go to stderr, so they are simply absent here.
 */

export type SysctlValues = Record<string, string>;

const LINE = /^([a-z][\w.]*):\s?(.*)$/;

/** Parses `name: value` lines. Lines that are not sysctl output (a shell prompt, a `sudo` echo) are skipped. */
export function parseSysctl(text: string): SysctlValues {
  const out: SysctlValues = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const m = LINE.exec(line);
    if (!m) continue;
    const value = m[2]!;
    const arrow = /^(.*?)\s+->\s+(.*)$/.exec(value);
    out[m[1]!] = (arrow ? arrow[2]! : value).trim();
  }
  return out;
}

/** A whole-number sysctl value, or null if absent or not a number. */
export function sysctlInt(values: SysctlValues, name: string): number | null {
  const v = values[name];
  if (v === undefined || !/^-?\d+$/.test(v.trim())) return null;
  return finiteNumber(v.trim());
}

export interface SwapUsage {
  total: number;
  used: number;
  free: number;
  encrypted: boolean;
}

const UNIT: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * `vm.swapusage`: `total = 45056.00M  used = 43437.06M  free = 1618.94M  (encrypted)`, with or without the
 * `vm.swapusage:` prefix; the decimal separator is a comma under de_DE (`1024,00M`).
 */
export function parseSwapUsage(text: string): SwapUsage | null {
  const field = (name: string): number | null => {
    const m = new RegExp(`${name}\\s*=\\s*([\\d.,]+)\\s*([BKMGT])?`).exec(text);
    if (!m) return null;
    const n = Number(m[1]!.replace(',', '.'));
    if (!Number.isFinite(n)) return null;
    return finiteOrNull(Math.round(n * (UNIT[m[2] ?? 'B'] ?? 1)));
  };
  const total = field('total');
  const used = field('used');
  const free = field('free');
  if (total === null || used === null || free === null) return null;
  return { total, used, free, encrypted: /\(encrypted\)/.test(text) };
}

/** `sysctl -n kern.memorystatus_vm_pressure_level`: 1, 2 or 4; anything else is not a level. */
export function parsePressureLevel(text: string): 1 | 2 | 4 | null {
  const v = text.trim().split(/\s+/).pop();
  return v === '1' ? 1 : v === '2' ? 2 : v === '4' ? 4 : null;
}
