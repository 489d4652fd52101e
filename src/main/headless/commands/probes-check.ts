import type { Config } from '../../core/config/config-schema.js';
import { EventCollector } from '../../core/event-collector.js';
import { createProbePair, nativeDisabledBy } from '../../core/probes/create-probe.js';
import { compareProbes, type SignalAgreement } from '../../core/probes/probe-agreement.js';

const show = (v: number | string | null): string =>
  v === null
    ? '—'
    : typeof v === 'number'
      ? String(Math.round(v * 100) / 100)
      : JSON.stringify(v).slice(0, 60);

/**
 * `exo-sentinel doctor --probes [--json]`: every signal read by the native addon and by the fallback readers
 * on this machine, with whether they agree. Exit 0 when all agree, 1 on a disagreement or when the addon
 * cannot be loaded (the reason is printed).
 */
export async function runProbeCheck(config: Config, json: boolean): Promise<number> {
  const pair = createProbePair(
    new EventCollector(() => Date.now()),
    { ceilingBytes: config.gpu.ceilingBytes, mlxPython: config.gpu.mlxPython },
    { nativeDisabled: nativeDisabledBy(process.env) },
  );
  const probes: SignalAgreement[] = pair.native ? await compareProbes(pair.native, pair.fallback) : [];
  const agree = pair.native !== null && probes.every((p) => p.agree);
  const native = {
    loaded: pair.status.loaded,
    version: pair.status.version,
    error: pair.status.error,
    path: pair.status.path,
  };
  const fallback = pair.fallback.platform === 'darwin' ? 'command' : 'procfs';
  if (json) {
    process.stdout.write(`${JSON.stringify({ native, fallback, agree, probes }, null, 2)}\n`);
  } else {
    process.stdout.write(
      pair.native
        ? `native addon ${native.version} (${native.path}) against the ${fallback} readers:\n`
        : `the native addon cannot be compared: ${native.error}\n`,
    );
    for (const p of probes)
      process.stdout.write(
        `  ${p.agree ? 'agree   ' : 'DISAGREE'} ${p.signal.padEnd(28)} native ${show(p.native).padEnd(16)} ${fallback} ${show(p.fallback).padEnd(16)} (${p.tolerance})\n`,
      );
    if (pair.native)
      process.stdout.write(
        agree
          ? `all ${probes.length} signals agree\n`
          : `${probes.filter((p) => !p.agree).length} signal(s) disagree\n`,
      );
  }
  return agree ? 0 : 1;
}
