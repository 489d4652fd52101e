import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventCollector } from '../../../src/main/core/event-collector.js';
import {
  type CommandResult,
  countingRunner,
  runCommand,
} from '../../../src/main/core/probes/command-runner.js';
import { DarwinCommandProbe } from '../../../src/main/core/probes/darwin/darwin-command-probe.js';
import { fixture } from '../../support/fixtures.js';

const P = 16384;
const MiB = 1024 * 1024;

/**
 * A command runner that answers with outputs captured on Macs. The memory sysctls are one captured
 * `sysctl name…` answer assembled from the fixture files (each fixture is a single oid's output).
 */
function macRunner(overrides: Record<string, CommandResult | (() => CommandResult)> = {}) {
  const calls: string[] = [];
  const ok = (stdout: string): CommandResult => ({ ok: true, stdout, stderr: '', exitCode: 0 });
  const answers: Record<string, CommandResult> = {
    '/usr/bin/vm_stat': ok(fixture('macos/vm_stat/vm_stat.wide-53col.useful-system-monitor.txt')),
    '/usr/sbin/sysctl hw.memsize hw.memsize_usable vm.swapusage kern.memorystatus_vm_pressure_level kern.memorystatus_level':
      ok(
        [
          'hw.memsize: 17179869184',
          fixture('macos/sysctl/sysctl-vm.swapusage.high.macos27.diskdiet.txt').trim(),
          `kern.memorystatus_vm_pressure_level: ${fixture('macos/sysctl/sysctl-n-kern.memorystatus_vm_pressure_level.m5pro.wtfssd.txt').trim()}`,
          'kern.memorystatus_level: 39',
        ].join('\n'),
      ),
    '/usr/sbin/sysctl iogpu.wired_limit_mb': ok(
      fixture('macos/sysctl/sysctl-w-iogpu.wired_limit_mb.m1max-32gb.llmfit-issue570.txt'),
    ),
    '/usr/sbin/ioreg -r -d 1 -w 0 -c IOAccelerator': ok(
      fixture('macos/ioreg/ioreg-r-c-IOAccelerator-d1.m4pro.macos26.sonar.txt'),
    ),
    '/bin/ps -axww -o pid=,ppid=,lstart=,args=': ok(
      [
        '  500     1 Sat Aug  1 17:46:44 2026     /Applications/EXO.app/Contents/MacOS/EXO',
        ' 1577   500 Sat Aug  1 17:46:45 2026     /Applications/EXO.app/Contents/Resources/exo/exo',
        ' 1601  1577 Sat Aug  1 17:50:02 2026     /Applications/EXO.app/Contents/Resources/exo/exo --multiprocessing-fork tracker_fd=9 pipe_handle=11',
        '  900     1 Sat Aug  1 17:48:22 2026     /usr/libexec/logd',
      ].join('\n'),
    ),
    '/bin/ps -axww -o pid=,comm=': ok(
      [
        '  500 /Applications/EXO.app/Contents/MacOS/EXO',
        ' 1577 /Applications/EXO.app/Contents/Resources/exo/exo',
        ' 1601 /Applications/EXO.app/Contents/Resources/exo/exo',
        '  900 /usr/libexec/logd',
      ].join('\n'),
    ),
    '/bin/ps -o pid=,rss=,%cpu= -p 500,1577,1601': ok(
      '  500  81920   0.5\n 1577 524288   3.0\n 1601 1048576  97.5\n',
    ),
    // top reports the main process and the app; the runner is missing, so footprint -p is asked.
    '/usr/bin/top -l 1 -s 0 -stats pid,mem -pid 500 -pid 1577 -pid 1601': ok(
      'Processes: 3 total\nPhysMem: 15G used (4346M wired, 5972M compressor), 106M unused.\n\nPID    MEM\n500    90M\n1577   2048M+\n',
    ),
    '/usr/bin/footprint -p 1601': ok(
      fixture('macos/footprint/footprint.mlx-summary.m5max.mlx-issue3896.EXCERPT.txt'),
    ),
  };
  const runner = countingRunner(async (file, args) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    const o = overrides[key];
    if (o) return typeof o === 'function' ? o() : o;
    return answers[key] ?? { ok: false, error: `${key}: command not found` };
  });
  return { runner, calls };
}

describe('darwin command probe on captured outputs', () => {
  it('builds the memory reading from vm_stat and sysctl', async () => {
    const { runner } = macRunner();
    const events = new EventCollector(() => 0);
    const probe = new DarwinCommandProbe(runner, events);
    const m = await probe.readMemory(true);
    assert.deepEqual(m, {
      total: 17179869184,
      usable: 17179869184,
      free: 3860 * P,
      active: 176160 * P,
      inactive: 175255 * P,
      speculative: 299 * P,
      wired: 251285 * P,
      compressed: 389264 * P,
      swapUsed: Math.round(43437.06 * MiB),
      swapTotal: 45056 * MiB,
      pressureLevel: 1,
      freePercent: 39,
    });
    assert.equal(probe.spawnCount, 2);
  });

  it('falls back to memory_pressure -Q when the free-percentage sysctl is absent', async () => {
    const { runner, calls } = macRunner({
      '/usr/sbin/sysctl hw.memsize hw.memsize_usable vm.swapusage kern.memorystatus_vm_pressure_level kern.memorystatus_level':
        {
          ok: true,
          stdout: 'hw.memsize: 51539607552\n',
          stderr: "sysctl: unknown oid 'kern.memorystatus_level'",
          exitCode: 1,
        },
      '/usr/bin/memory_pressure -Q': {
        ok: true,
        stdout: fixture('macos/memory_pressure/memory_pressure-Q.macos27.48gb.diskdiet.txt'),
        stderr: '',
        exitCode: 0,
      },
    });
    const m = await new DarwinCommandProbe(runner, new EventCollector(() => 0)).readMemory(true);
    assert.equal(m.total, 51539607552);
    assert.equal(m.freePercent, 39);
    assert.ok(calls.includes('/usr/bin/memory_pressure -Q'));
    assert.ok(!calls.some((c) => /memory_pressure -[lp]/.test(c)), 'never the allocating modes');
  });

  it('reads the GPU on the slow cadence only, with the ceiling from iogpu.wired_limit_mb', async () => {
    const { runner } = macRunner();
    const probe = new DarwinCommandProbe(runner, new EventCollector(() => 0), {}, () => 42);
    const gpu = await probe.readGpu(true);
    assert.deepEqual(gpu, {
      inUseBytes: 10977263616,
      allocBytes: 66160230400,
      ceilingBytes: 26000 * MiB,
      utilization: 100,
      sampledAt: 42,
      recoveryCount: 0,
    });
    const spawned = probe.spawnCount;
    assert.deepEqual(await probe.readGpu(false), gpu, 'the fast cadence returns the last reading');
    assert.equal(probe.spawnCount, spawned, 'and spawns nothing');
  });

  it('says the ceiling is unknown rather than guessing when the wired limit is 0', async () => {
    const { runner } = macRunner({
      '/usr/sbin/sysctl iogpu.wired_limit_mb': {
        ok: true,
        stdout: 'iogpu.wired_limit_mb: 0\n',
        stderr: '',
        exitCode: 0,
      },
    });
    const events = new EventCollector(() => 0);
    const gpu = await new DarwinCommandProbe(runner, events).readGpu(true);
    assert.equal(gpu.ceilingBytes, null);
    assert.ok(
      events.drain().some((e) => e.kind === 'probe.unavailable' && e.data?.['field'] === 'gpu.ceilingBytes'),
    );
    const configured = await new DarwinCommandProbe(
      macRunner({
        '/usr/sbin/sysctl iogpu.wired_limit_mb': {
          ok: true,
          stdout: 'iogpu.wired_limit_mb: 0\n',
          stderr: '',
          exitCode: 0,
        },
      }).runner,
      events,
      { ceilingBytes: 96 * 1024 * MiB },
    ).readGpu(true);
    assert.equal(configured.ceilingBytes, 96 * 1024 * MiB);
  });

  it('finds EXO in ps output and reads footprints from top, then footprint -p for the rest', async () => {
    const { runner } = macRunner();
    const probe = new DarwinCommandProbe(runner, new EventCollector(() => 0));
    const entries = await probe.listProcesses(true);
    assert.equal(entries.length, 4);
    const runnerEntry = entries.find((e) => e.pid === 1601)!;
    assert.equal(runnerEntry.executable, '/Applications/EXO.app/Contents/Resources/exo/exo');
    assert.deepEqual(runnerEntry.argv.slice(1), ['--multiprocessing-fork', 'tracker_fd=9', 'pipe_handle=11']);
    assert.equal(runnerEntry.startTime, new Date(2026, 7, 1, 17, 50, 2).getTime());
    const exo = entries.filter((e) => e.pid !== 900);
    const stats = await probe.readProcessStats(exo, true);
    assert.deepEqual(stats.get(1577), {
      rss: 524288 * 1024,
      physFootprint: 2048 * MiB,
      cpuPercent: 3,
      threads: null,
    });
    assert.deepEqual(stats.get(1601), {
      rss: 1048576 * 1024,
      physFootprint: 110 * 1024 * MiB,
      cpuPercent: 97.5,
      threads: null,
    });
  });

  it('turns a hung or failing command into nulls and one event per minute, never an exception', async () => {
    let now = 0;
    const events = new EventCollector(() => now);
    const failing = countingRunner(async (file) => ({
      ok: false,
      error: `${file}: no answer within 2000 ms`,
    }));
    const probe = new DarwinCommandProbe(failing, events);
    const m = await probe.readMemory(true);
    assert.equal(m.wired, null);
    assert.equal(m.total, null);
    await probe.readMemory(true);
    const first = events.drain().filter((e) => e.kind === 'probe.failed');
    assert.deepEqual(first.map((e) => e.data?.['probe']).sort(), ['memory_pressure', 'sysctl', 'vm_stat']);
    now = 61_000;
    await probe.readMemory(true);
    assert.equal(events.drain().filter((e) => e.kind === 'probe.failed').length, 3);
    const gpu = await probe.readGpu(true);
    assert.equal(gpu.inUseBytes, null);
    assert.deepEqual(await probe.listProcesses(true), []);
  });
});

describe('command runner (real processes)', () => {
  it('runs with an argument array and LC_ALL=C', async () => {
    const r = await runCommand('/bin/sh', [
      '-c',
      'printf "%s|%s" "$LC_ALL" "$1"',
      'sh',
      'a b; echo injected',
    ]);
    assert.ok(r.ok);
    assert.equal(r.stdout, 'C|a b; echo injected', 'an argument is never interpreted by a shell');
  });

  it('kills a hung command at its timeout and says so', async () => {
    const t = Date.now();
    const r = await runCommand('/bin/sleep', ['10'], { timeoutMs: 200 });
    assert.deepEqual(r, { ok: false, error: '/bin/sleep 10: no answer within 200 ms' });
    assert.ok(Date.now() - t < 2000);
  });

  it('reports a missing command, keeps stdout of a non-zero exit, and caps output', async () => {
    assert.deepEqual(await runCommand('/no/such/tool', []), {
      ok: false,
      error: '/no/such/tool: command not found',
    });
    const partial = await runCommand('/bin/sh', [
      '-c',
      'echo "hw.memsize: 1"; echo "unknown oid" >&2; exit 1',
    ]);
    assert.ok(partial.ok && partial.exitCode === 1 && partial.stdout === 'hw.memsize: 1\n');
    const big = await runCommand('/bin/sh', ['-c', 'head -c 300000 /dev/zero'], { maxBytes: 1000 });
    assert.ok(!big.ok && /output over the cap/.test(big.error));
  });
});
