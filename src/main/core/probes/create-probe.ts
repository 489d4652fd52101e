import { countingRunner, runCommand } from './command-runner.js';
import { DarwinCommandProbe, type DarwinProbeOptions } from './darwin/darwin-command-probe.js';
import { LinuxProbe } from './linux/linux-probe.js';
import type { PlatformProbe, ProbeReporter } from './probe-types.js';

/** The probe set for this platform. macOS uses commands until the native addon lands. */
export function createProbe(reporter: ProbeReporter, darwin: DarwinProbeOptions = {}): PlatformProbe {
  if (process.platform === 'darwin')
    return new DarwinCommandProbe(countingRunner(runCommand), reporter, darwin);
  if (process.platform === 'linux') return new LinuxProbe(reporter);
  throw new Error(`exo-sentinel runs on macOS and Linux, not on ${process.platform}`);
}
