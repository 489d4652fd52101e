import type { CeilingSource } from '../../../shared/sample.js';
import type { ExoVersion } from '../exo/exo-version.js';
import type { MachineIdentity } from '../probes/probe-types.js';
import { formatBytes } from '../util/format.js';
import { type ExoKnob, type ExoProcessFacts, exoKnobs } from './exo-knobs.js';
import {
  type Advisory,
  assessPlatform,
  loadAdvisory,
  modelEvidence,
  type PlatformAssessment,
} from './platform-advisory.js';

export interface DoctorInputs {
  identity: MachineIdentity | null;
  /** The shell runs under Rosetta (uname says x86_64 on an ARM64 kernel). */
  translated: boolean;
  ceilingBytes: number | null;
  /** Where the ceiling came from (metal, wired-limit-sysctl, …, estimate); optional for older callers. */
  ceilingSource?: CeilingSource | null;
  /** iogpu.wired_limit_mb; 0 = the system default; null = not readable here. */
  wiredLimitMb: number | null;
  reportDirs: Array<{
    dir: string;
    exists: boolean;
    readable: boolean;
    reports: number;
    unreadable: number;
    problem: string | null;
  }>;
  exo: {
    url: string;
    reachable: boolean;
    error: string | null;
    version: ExoVersion;
    models: string[];
    /** EXO's main process as the process map records it (argv) and its environment where readable. */
    process?: ExoProcessFacts;
  };
}

export interface Advice {
  severity: 'info' | 'warning' | 'action';
  text: string;
  command?: string;
}

export interface DoctorReport {
  identity: MachineIdentity | null;
  platform: PlatformAssessment;
  metal: {
    ramBytes: number | null;
    ceilingBytes: number | null;
    ceilingSource: CeilingSource | null;
    ceilingRatio: number | null;
    wiredLimitMb: number | null;
  };
  reportDirs: DoctorInputs['reportDirs'];
  exo: DoctorInputs['exo'];
  modelEvidence: ReturnType<typeof modelEvidence>;
  /** EXO's own settings against the panic: the current value (or unknown), the advised one and its cost. */
  exoKnobs: ExoKnob[];
  advice: Advice[];
}

/**
 * The machine's standing against the panic family: identity, whether the platform has public reports,
 * the evidence, the Metal ceiling against RAM, the wired limit, whether reports are readable, and advice —
 * with the exact command where one applies. (Never `MLX_METAL_MAX_BUFFER_SIZE`: MLX has no such setting.)
 */
export function diagnose(inp: DoctorInputs, advisory: Advisory = loadAdvisory()): DoctorReport {
  const id = inp.identity;
  const platform = assessPlatform(
    {
      platform: id?.platform ?? 'unknown',
      chip: id?.chip ?? null,
      memoryBytes: id?.memoryBytes ?? null,
      osVersion: id?.osVersion ?? null,
      osBuild: id?.osBuild ?? null,
      iogpuFamilyVersion: id?.iogpuFamilyVersion ?? null,
      translated: inp.translated,
    },
    advisory,
  );
  const ram = id?.memoryBytes ?? null;
  const ratio = ram && inp.ceilingBytes ? inp.ceilingBytes / ram : null;
  const evidence = inp.exo.models.flatMap((m) => modelEvidence(m, advisory));
  const knobs = exoKnobs(inp.exo.process ?? { argv: null, env: null }, ram);
  const advice: Advice[] = [
    ...(inp.translated
      ? [
          {
            severity: 'warning' as const,
            text: 'This shell runs under Rosetta (x86_64 on an Apple silicon kernel): run exo-sentinel with an arm64 Node so its readings are native.',
            command: 'arch -arm64 /bin/zsh -l',
          },
        ]
      : []),
    ...(platform.affected ? affectedAdvice(inp, knobs, ram, evidence) : []),
    ...machineAdvice(inp, ram, ratio),
    {
      severity: 'info',
      text: 'After a panic, write the report to file upstream.',
      command: 'exo-sentinel report --latest --out panic-report.md',
    },
  ];
  return {
    identity: id,
    platform,
    metal: {
      ramBytes: ram,
      ceilingBytes: inp.ceilingBytes,
      ceilingSource: inp.ceilingSource ?? null,
      ceilingRatio: ratio,
      wiredLimitMb: inp.wiredLimitMb,
    },
    reportDirs: inp.reportDirs,
    exo: inp.exo,
    modelEvidence: evidence,
    exoKnobs: knobs,
    advice,
  };
}

/** On an affected platform: EXO's knobs away from the advised values, the wired limit, the loaded models. */
function affectedAdvice(
  inp: DoctorInputs,
  knobs: ExoKnob[],
  ram: number | null,
  evidence: ReturnType<typeof modelEvidence>,
): Advice[] {
  const advice: Advice[] = [];
  for (const k of knobs) {
    if (k.atAdvised === true) continue;
    advice.push({
      severity: k.name === 'EXO_MAX_CONCURRENT_REQUESTS' ? 'action' : 'info',
      text: `${k.name} ${knobValue(k)} → ${k.advised}: ${k.why}. Cost: ${k.cost}. EXO reads it at start (restart EXO; EXO.app: Settings → Advanced → custom environment variables).`,
      command: k.command,
    });
  }
  advice.push({
    severity: 'info',
    text: 'EXO wires the whole Metal working set at every model load (mx.set_wired_limit). Not setting it was the one measured cure (3/3 panics → 0 in 10 runs, ml-explore/mlx#3186); EXO has no option for it, so keep contexts bounded and avoid loading/unloading models under load.',
  });
  if (ram && inp.wiredLimitMb && inp.wiredLimitMb * 1024 * 1024 > 0.85 * ram) {
    const suggested = Math.floor((0.75 * ram) / (1024 * 1024));
    advice.push({
      severity: 'action',
      text: `iogpu.wired_limit_mb is ${inp.wiredLimitMb} MB, over 85% of RAM: lower it (it reverts to 0 = default at reboot).`,
      command: `sudo sysctl iogpu.wired_limit_mb=${suggested}`,
    });
  }
  if (evidence.length > 0) {
    advice.push({
      severity: 'warning',
      text: `A loaded model has public panic reports: ${evidence.map((e) => `${e.model} on ${e.hardware} (${e.source})`).join('; ')}.`,
    });
  }
  return advice;
}

/** On any platform: unreadable report directories; on a Mac: EXO unreachable, an estimated ceiling, no version. */
function machineAdvice(inp: DoctorInputs, ram: number | null, ratio: number | null): Advice[] {
  const advice: Advice[] = [];
  for (const d of inp.reportDirs) {
    if (d.exists && (!d.readable || d.unreadable > 0)) {
      advice.push({
        severity: 'action',
        text: `${d.dir}: ${d.unreadable > 0 ? `${d.unreadable} report(s) present but unreadable` : 'not readable'} — panics cannot be recognised. Reports are readable by admin users (group _analyticsusers).`,
        command: 'sudo dseditgroup -o edit -a "$USER" -t user _analyticsusers',
      });
    }
  }
  if (inp.identity?.platform !== 'darwin') return advice;
  if (!inp.exo.reachable)
    advice.push({
      severity: 'info',
      text: `EXO does not answer at ${inp.exo.url} (${inp.exo.error}); if it runs elsewhere, pass --exo-url.`,
    });
  if (inp.ceilingSource === 'estimate')
    advice.push({
      severity: 'warning',
      text: `The Metal ceiling is estimated (${formatBytes(inp.ceilingBytes)}, ${ram ? `${ratio ? (ratio * 100).toFixed(0) : '?'}% of RAM` : 'from RAM'}): neither Metal, iogpu.wired_limit_mb nor a Python with MLX told it, so the GPU signals and the guard rest on a guess. Build the native addon (it reads recommendedMaxWorkingSetSize) and check that it agrees with the commands.`,
      command: 'npm run build:native && exo-sentinel doctor --probes',
    });
  if (inp.exo.version.version === 'unknown')
    advice.push({
      severity: 'info',
      text: 'EXO version unknown: no /Applications/EXO.app and no source checkout found from a running EXO.',
    });
  return advice;
}

/** A knob's current value in words: the value and where it comes from, or why it is unknown. */
export function knobValue(k: ExoKnob): string {
  if (k.current === null)
    return `unknown (EXO's environment is not readable here; EXO's default is ${k.defaultValue})`;
  if (k.source === 'default') return `${k.current} (EXO's default: not set)`;
  return `${k.current} (from EXO's ${k.source === 'argv' ? 'command line' : 'environment'})`;
}

export function renderDoctor(r: DoctorReport): string {
  const id = r.identity;
  const lines = [
    `machine       ${id?.model ?? '—'} ${id?.chip ?? ''} ${id?.memoryBytes ? formatBytes(id.memoryBytes) : ''} — ${id?.platform ?? '?'} ${id?.osVersion ?? ''}${id?.osBuild ? ` (${id.osBuild})` : ''}`.trimEnd(),
    `kernel        ${id?.kernelVersion ?? '—'}${id?.kernelFamily ? ` ${id.kernelFamily}` : ''}; IOGPUFamily ${id?.iogpuFamilyVersion ?? '—'}`,
    `verdict       ${r.platform.verdict}: ${r.platform.summary}`,
    ...r.platform.builds.map(
      (b) => `  evidence    macOS ${b.macos} (${b.build}) ${b.assertion}: ${b.sources.join(' ')}`,
    ),
    ...r.platform.observations.map(
      (o) =>
        `  observed    macOS ${o.macos} (${o.build}) without panics ${o.condition} — not a fix: ${o.sources.join(' ')}`,
    ),
    ...r.platform.chips.map(
      (c) => `  evidence    ${c.chip} (${c.ramGB.join('/')} GB) panicked: ${c.sources.join(' ')}`,
    ),
    `metal         ceiling ${formatBytes(r.metal.ceilingBytes)} of ${formatBytes(r.metal.ramBytes)} RAM${r.metal.ceilingRatio ? ` (${(r.metal.ceilingRatio * 100).toFixed(0)}%)` : ''}${r.metal.ceilingSource ? (r.metal.ceilingSource === 'estimate' ? ', estimated from RAM' : `, from ${r.metal.ceilingSource}`) : ''}; iogpu.wired_limit_mb ${r.metal.wiredLimitMb ?? '—'}`,
    ...r.reportDirs.map(
      (d) =>
        `reports       ${d.dir}: ${!d.exists ? 'absent' : d.readable ? `${d.reports} report(s)${d.unreadable ? `, ${d.unreadable} unreadable` : ''}` : `not readable (${d.problem})`}`,
    ),
    `exo           ${r.exo.reachable ? `answers at ${r.exo.url}` : `not reachable at ${r.exo.url}`}; version ${r.exo.version.version}${r.exo.models.length ? `; models ${r.exo.models.join(', ')}` : ''}`,
    'exo knobs',
    ...r.exoKnobs.map(
      (k) =>
        `  ${k.name.padEnd(28)} ${knobValue(k)}; advised ${k.advised}${k.atAdvised ? ' (already)' : ''}; cost: ${k.cost}`,
    ),
    '',
    'advice',
    ...r.advice.map((a) => `  [${a.severity}] ${a.text}${a.command ? `\n      $ ${a.command}` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}
