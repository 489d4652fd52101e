import { totalmem } from 'node:os';
import { emptyGpu, emptyMemory } from '../../../shared/sample.js';
import { BudgetedProbe } from './budgeted-probe.js';
import { countingRunner, runCommand } from './command-runner.js';
import { DarwinCommandProbe, type DarwinProbeOptions } from './darwin/darwin-command-probe.js';
import { CeilingChain } from './gpu-ceiling.js';
import { LinuxProbe } from './linux/linux-probe.js';
import { DarwinNativeProbe } from './native/darwin-native-probe.js';
import { LinuxNativeProbe } from './native/linux-native-probe.js';
import {
  loadNative,
  type NativeBinding,
  type NativeDarwinMemory,
  type NativeLinuxMemory,
  type NativeStatus,
} from './native/native-binding.js';
import type { PlatformProbe, ProbeDescription, ProbeReporter } from './probe-types.js';

export interface ProbeOptions {
  /** EXO_SENTINEL_NATIVE=0, read by the composition root: the fallback readers even when the addon loads. */
  nativeDisabled?: boolean;
  /** Where to look for the addon (tests); default: dist/native, the local build, the prebuilds. */
  nativeCandidates?: string[];
}

/**
 * Before trusting the addon: its total memory must agree with what Node itself reads (sysinfo on Linux,
 * hw.memsize on macOS) within 1 %, and a reading must not throw. Returns why not, or null.
 */
export function nativeStartupCheck(native: NativeBinding, expectedTotal = totalmem()): string | null {
  let total: number | null | undefined;
  try {
    const m = native.readMemory();
    total =
      native.platform === 'linux'
        ? ((m as NativeLinuxMemory).meminfo?.['MemTotal'] ?? null)
        : (m as NativeDarwinMemory).memsize;
    native.listProcesses();
  } catch (e) {
    return `a reading threw: ${(e as Error).message}`;
  }
  if (total === null || total === undefined) return 'it read no total memory';
  if (Math.abs(total - expectedTotal) > expectedTotal * 0.01)
    return `it read ${total} bytes of memory where Node reads ${expectedTotal}`;
  return null;
}

const fallbackDescription = (
  backend: 'command' | 'procfs',
  native: NativeStatus,
  sources: ProbeDescription['sources'],
): ProbeDescription => ({
  backend,
  native: { loaded: false, version: native.version, error: native.error },
  sources,
});

/**
 * The probe set for this platform: the native addon when it is built, loads and passes its start-up check;
 * else the command readers (macOS, each signal group in its own budget) or procfs (Linux). Why the addon is
 * not used is an event and part of `status --json`.
 */
export function createProbe(
  reporter: ProbeReporter,
  darwin: DarwinProbeOptions = {},
  options: ProbeOptions = {},
): PlatformProbe {
  if (process.platform !== 'darwin' && process.platform !== 'linux')
    throw new Error(`exo-sentinel runs on macOS and Linux, not on ${process.platform}`);
  const loaded = loadNative({
    disabled: options.nativeDisabled === true,
    ...(options.nativeCandidates ? { candidates: options.nativeCandidates } : {}),
  });
  let status = loaded.status;
  // The ceiling chain after what the probe reads itself: configured figure, a Python, the estimate from RAM.
  const withCeiling = (probe: PlatformProbe): PlatformProbe => {
    probe.ceiling = new CeilingChain(reporter, {
      ceilingBytes: darwin.ceilingBytes ?? null,
      mlxPython: darwin.mlxPython ?? null,
      cacheFile: darwin.ceilingCacheFile ?? null,
    });
    return probe;
  };
  if (loaded.binding) {
    const problem = nativeStartupCheck(loaded.binding);
    if (problem === null) {
      return withCeiling(
        process.platform === 'darwin'
          ? new DarwinNativeProbe(loaded.binding, status, reporter)
          : new LinuxNativeProbe(loaded.binding, status, reporter),
      );
    }
    status = { ...status, loaded: false, error: `failed its start-up check: ${problem}` };
  }
  reporter.unavailable('probes.native', `the native sampling addon is not used: ${status.error}`);
  if (process.platform === 'darwin') {
    const commands = new DarwinCommandProbe(countingRunner(runCommand), reporter, darwin);
    return withCeiling(
      new BudgetedProbe(commands, reporter, emptyMemory(), emptyGpu(), undefined, () =>
        fallbackDescription('command', status, {
          memory: 'command:vm_stat+sysctl',
          gpu: 'command:ioreg',
          processes: 'command:ps',
          processStats: 'command:ps+top+footprint',
          pressureEvents: 'none (polled each tick)',
        }),
      ),
    );
  }
  const procfs = new LinuxProbe(reporter);
  procfs.describe = () =>
    fallbackDescription('procfs', status, {
      memory: 'procfs:/proc/meminfo',
      gpu: 'none (no Apple GPU on Linux)',
      processes: 'procfs:/proc/<pid>',
      processStats: 'procfs:/proc/<pid>/{stat,status}',
      pressureEvents: 'none (polled each tick)',
    });
  return withCeiling(procfs);
}

/** `EXO_SENTINEL_NATIVE=0` forces the fallback readers (read by the shells, passed as `nativeDisabled`). */
export const nativeDisabledBy = (env: Record<string, string | undefined>): boolean =>
  env['EXO_SENTINEL_NATIVE'] === '0';

/** Both reader sets side by side, for `doctor --probes`: the addon's (null, with why, when it cannot load). */
export function createProbePair(
  reporter: ProbeReporter,
  darwin: DarwinProbeOptions = {},
  options: ProbeOptions = {},
): { native: PlatformProbe | null; fallback: PlatformProbe; status: NativeStatus } {
  const loaded = loadNative({
    disabled: options.nativeDisabled === true,
    ...(options.nativeCandidates ? { candidates: options.nativeCandidates } : {}),
  });
  const fallback =
    process.platform === 'darwin'
      ? new DarwinCommandProbe(countingRunner(runCommand), reporter, darwin)
      : new LinuxProbe(reporter);
  if (!loaded.binding) return { native: null, fallback, status: loaded.status };
  const native =
    process.platform === 'darwin'
      ? new DarwinNativeProbe(loaded.binding, loaded.status, reporter)
      : new LinuxNativeProbe(loaded.binding, loaded.status, reporter);
  return { native, fallback, status: loaded.status };
}
