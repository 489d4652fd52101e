import { closeSync, constants, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { resolveDataDir } from '../../core/config/data-dir.js';
import { EventCollector } from '../../core/event-collector.js';
import { readExoPidfile } from '../../core/exo/exo-pidfile.js';
import { readExoVersion } from '../../core/exo/exo-version.js';
import { defaultReportDirs, REPORT_FILE } from '../../core/panics/report-ingester.js';
import { runCommand } from '../../core/probes/command-runner.js';
import { createProbe, nativeDisabledBy } from '../../core/probes/create-probe.js';
import { parseUname } from '../../core/probes/darwin/identity-parser.js';
import { parseSysctl, sysctlInt } from '../../core/probes/darwin/sysctl-parser.js';
import { type DoctorInputs, diagnose, renderDoctor } from '../../core/risk/doctor.js';
import { type ExoProcessFacts, knobsFromEnviron, knobsFromPsEnvironment } from '../../core/risk/exo-knobs.js';
import { startProgress } from '../progress.js';
import { httpUrl } from '../usage-error.js';
import { runProbeCheck } from './probes-check.js';
import { configFor, pollExo, takeReading } from './status-command.js';

function inspectReportDir(dir: string): DoctorInputs['reportDirs'][number] {
  if (!existsSync(dir))
    return { dir, exists: false, readable: false, reports: 0, unreadable: 0, problem: null };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => REPORT_FILE.test(n));
  } catch (e) {
    return {
      dir,
      exists: true,
      readable: false,
      reports: 0,
      unreadable: 0,
      problem: (e as NodeJS.ErrnoException).code ?? (e as Error).message,
    };
  }
  let unreadable = 0;
  for (const n of names) {
    try {
      closeSync(openSync(join(dir, n), constants.O_RDONLY | constants.O_NONBLOCK));
    } catch {
      unreadable++;
    }
  }
  return { dir, exists: true, readable: true, reports: names.length, unreadable, problem: null };
}

/**
 * EXO's knobs from its main process's environment, where the platform lets a same-user process read it:
 * Linux `/proc/PID/environ` (first 1 MiB), macOS `ps -E` (once, for this command only). Only the three
 * knob keys are kept; nothing else of the environment is printed, stored or logged.
 */
async function readExoEnviron(pid: number): Promise<ExoProcessFacts['env']> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  if (process.platform === 'darwin') {
    const r = await runCommand('/bin/ps', ['-E', '-ww', '-o', 'command=', '-p', String(pid)], {
      timeoutMs: 2000,
      maxBytes: 1024 * 1024,
    });
    return r.ok ? knobsFromPsEnvironment(r.stdout) : null;
  }
  if (process.platform !== 'linux') return null;
  let fd: number | null = null;
  try {
    fd = openSync(`/proc/${pid}/environ`, constants.O_RDONLY);
    const buf = Buffer.alloc(1024 * 1024);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    return knobsFromEnviron(buf.subarray(0, n).toString('latin1'));
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'this machine against the panic family: identity, affected builds, evidence, Metal ceiling, wired limit, report access, advice',
    )
    .option('--json', 'print one JSON object')
    .option('--exo-url <url>', "EXO's API (default http://127.0.0.1:52415 or the config's)", httpUrl)
    .option(
      '--probes',
      'read every signal with the native addon and with the fallback readers, and compare (exit 1 on a disagreement)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<{
        json?: boolean;
        dataDir?: string;
        exoUrl?: string;
        probes?: boolean;
      }>();
      const config = configFor(resolveDataDir(flags.dataDir), flags.exoUrl);
      if (!config) return;
      if (flags.probes) {
        process.exitCode = await runProbeCheck(config, flags.json === true);
        return;
      }
      const probe = createProbe(
        new EventCollector(() => Date.now()),
        {
          ceilingBytes: config.gpu.ceilingBytes,
          mlxPython: config.gpu.mlxPython,
        },
        { nativeDisabled: nativeDisabledBy(process.env) },
      );
      const darwin = process.platform === 'darwin';
      const progress = startProgress('doctor');
      progress.update('reading this machine, its GPU and EXO');
      const [identity, gpu, reading, exo, uname, wired] = await Promise.all([
        probe.identity().catch(() => null),
        probe.readGpu(true),
        takeReading(config),
        pollExo(config),
        darwin ? runCommand('/usr/bin/uname', ['-a']) : Promise.resolve(null),
        darwin ? runCommand('/usr/sbin/sysctl', ['iogpu.wired_limit_mb']) : Promise.resolve(null),
      ]);
      progress.update("checking report directories and EXO's settings");
      // Several EXO-shaped processes can run (two installs, a test tree): the one EXO's pidfile names is
      // the EXO this machine serves, so its knobs are the ones reported.
      const mains = reading.result.watched.filter((w) => w.role === 'exo-main');
      const pidfilePid = readExoPidfile(config.watch.exoPidfile ?? undefined);
      const exoMain = mains.find((w) => w.entry.pid === pidfilePid) ?? mains[0];
      const report = diagnose({
        identity,
        translated: uname?.ok ? (parseUname(uname.stdout)?.translated ?? false) : false,
        // The probe's own figure, else the rest of the chain as the reading resolved it (config, a Python, the estimate).
        ...(gpu.ceilingBytes
          ? { ceilingBytes: gpu.ceilingBytes, ceilingSource: gpu.ceilingSource ?? null }
          : {
              ceilingBytes: reading.result.sample.gpu.ceilingBytes,
              ceilingSource: reading.result.sample.gpu.ceilingSource ?? null,
            }),
        wiredLimitMb: wired?.ok ? sysctlInt(parseSysctl(wired.stdout), 'iogpu.wired_limit_mb') : null,
        reportDirs: (config.reports.dirs ?? defaultReportDirs()).map(inspectReportDir),
        exo: {
          url: exo.url,
          reachable: exo.reachable,
          error: exo.error,
          version: readExoVersion(exoMain ? { exoArgv: exoMain.entry.argv } : {}),
          models: [...new Set(exo.instances.map((i) => i.modelId).filter((m): m is string => m !== null))],
          process: exoMain
            ? { argv: exoMain.entry.argv, env: await readExoEnviron(exoMain.entry.pid) }
            : { argv: null, env: null },
        },
      });
      progress.done();
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
    });
}
