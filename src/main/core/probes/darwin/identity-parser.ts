import { parseSysctl, type SysctlValues, sysctlInt } from './sysctl-parser.js';

/**
 * Machine identity from `sysctl hw.* machdep.* kern.*` and `uname -a`. The kernel's `RELEASE_ARM64_Txxxx`
 * suffix is the kernelcache family, not the die (an M4 Pro reports T6041); `hw.targettype` is the board.
 */

export interface DarwinIdentity {
  model: string | null;
  chip: string | null;
  targetType: string | null;
  memsize: number | null;
  memsizeUsable: number | null;
  pageSize: number | null;
  performanceCores: number | null;
  efficiencyCores: number | null;
  osProductVersion: string | null;
  osBuild: string | null;
  arm64: boolean | null;
}

export function identityFromSysctl(values: SysctlValues): DarwinIdentity {
  const str = (k: string): string | null => {
    const v = values[k];
    return v === undefined || v === '' ? null : v;
  };
  const arm = sysctlInt(values, 'hw.optional.arm64');
  return {
    model: str('hw.model'),
    chip: str('machdep.cpu.brand_string'),
    targetType: str('hw.targettype'),
    memsize: sysctlInt(values, 'hw.memsize'),
    memsizeUsable: sysctlInt(values, 'hw.memsize_usable'),
    pageSize: sysctlInt(values, 'hw.pagesize'),
    performanceCores: sysctlInt(values, 'hw.perflevel0.physicalcpu'),
    efficiencyCores: sysctlInt(values, 'hw.perflevel1.physicalcpu'),
    osProductVersion: str('kern.osproductversion'),
    osBuild: str('kern.osversion'),
    arm64: arm === null ? null : arm === 1,
  };
}

export const parseIdentity = (text: string): DarwinIdentity => identityFromSysctl(parseSysctl(text));

export interface UnameInfo {
  hostname: string | null;
  darwinVersion: string | null;
  xnuVersion: string | null;
  /** e.g. `T6041`: a kernel family, not a chip. */
  kernelFamily: string | null;
  machine: string | null;
  /** `x86_64` on Apple Silicon kernels means the shell runs under Rosetta. */
  translated: boolean;
}

export function parseUname(text: string): UnameInfo | null {
  const m =
    /^Darwin\s+(\S+)\s+(\d+\.\d+(?:\.\d+)?)\s+.*?root:xnu-([\w.~-]+?)\/RELEASE_(\w+?)_(T\d+|VMAPPLE|\w+)\s+(\S+)\s*$/m.exec(
      text,
    );
  if (!m) return null;
  const arch = m[4]!;
  const machine = m[6]!;
  return {
    hostname: m[1]!,
    darwinVersion: m[2]!,
    xnuVersion: m[3]!,
    kernelFamily: /^T\d+$/.test(m[5]!) ? m[5]! : null,
    machine,
    translated: arch === 'ARM64' && machine === 'x86_64',
  };
}

/** Darwin major → macOS major: 23 → 14, 24 → 15, 25 → 26 (Tahoe), 27 → 27. */
export function macosMajorForDarwin(darwinVersion: string): number | null {
  const major = Number.parseInt(darwinVersion, 10);
  if (!Number.isFinite(major)) return null;
  if (major >= 27) return major;
  if (major === 25) return 26;
  if (major >= 20) return major - 9;
  return null;
}
