import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventCollector } from '../../../src/main/core/event-collector.js';
import { countingRunner, runCommand } from '../../../src/main/core/probes/command-runner.js';
import { DarwinCommandProbe } from '../../../src/main/core/probes/darwin/darwin-command-probe.js';
import {
  type CapturedMacOptions,
  type CapturedProcess,
  capturedMac,
  capturedProcesses,
  capturedUid,
  sysctlLines,
} from '../../support/captured-mac.js';
import { fixture } from '../../support/fixtures.js';

const P = 16384;
const MiB = 1024 * 1024;

/**
 * EXO as ps and top would show it (no published capture of an EXO process table exists): the app, its Python
 * main process, and a runner that top leaves out, so footprint -p is asked for it (the captured MLX footprint).
 */
const EXO: CapturedProcess[] = [
  {
    pid: 500,
    ppid: 1,
    lstart: 'Sat Aug  1 17:46:44 2026',
    comm: '/Applications/EXO.app/Contents/MacOS/EXO',
    args: '/Applications/EXO.app/Contents/MacOS/EXO',
    rssKiB: 81920,
    cpuPercent: 0.5,
    topMem: '90M',
  },
  {
    pid: 1577,
    ppid: 500,
    lstart: 'Sat Aug  1 17:46:45 2026',
    comm: '/Applications/EXO.app/Contents/Resources/exo/exo',
    args: '/Applications/EXO.app/Contents/Resources/exo/exo',
    rssKiB: 524288,
    cpuPercent: 3,
    topMem: '2048M+',
  },
  {
    pid: 1601,
    ppid: 1577,
    lstart: 'Sat Aug  1 17:50:02 2026',
    comm: '/Applications/EXO.app/Contents/Resources/exo/exo',
    args: '/Applications/EXO.app/Contents/Resources/exo/exo --multiprocessing-fork tracker_fd=9 pipe_handle=11',
    rssKiB: 1048576,
    cpuPercent: 97.5,
    footprintFixture: 'macos/footprint/footprint.mlx-summary.m5max.mlx-issue3896.EXCERPT.txt',
  },
];

/** The darwin command probe on a Mac made of captured outputs, with the runner counting spawns. */
function onCapturedMac(options: CapturedMacOptions = {}, now?: () => number) {
  const mac = capturedMac({ extraProcesses: EXO, ...options });
  const events = new EventCollector(() => 0);
  const probe = new DarwinCommandProbe(countingRunner(mac.runner), events, {}, now);
  return { ...mac, events, probe };
}

describe('the captured Mac answers as macOS would, whatever form the reader chooses', () => {
  it('sysctl: any oids in any order, -n for values only, unknown oids on stderr with exit 1', async () => {
    const { runner } = capturedMac();
    const r = await runner('/usr/sbin/sysctl', ['vm.swapusage', 'hw.memsize', 'kern.memorystatus_level']);
    assert.ok(r.ok);
    assert.equal(
      r.stdout,
      'vm.swapusage: total = 45056.00M  used = 43437.06M  free = 1618.94M  (encrypted)\nhw.memsize: 17179869184\n',
    );
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /unknown oid 'kern\.memorystatus_level'/);
    const n = await runner('sysctl', ['-n', 'iogpu.wired_limit_mb']);
    assert.ok(n.ok && n.stdout === '26000\n');
    assert.equal((await runner('/usr/sbin/sysctl', ['-a'])).ok, false, 'no full dump was captured');
    assert.equal((await runner('/usr/sbin/sysctl', ['iogpu.wired_limit_mb=0'])).ok, false, 'never a write');
    assert.equal((await runner('/sbin/sysctl', ['hw.memsize'])).ok, false, 'sysctl lives in /usr/sbin');
  });

  it('ps: the keywords in the order asked, headers hidden by =, variable-width columns last only', async () => {
    const { runner } = capturedMac();
    const a = await runner('/bin/ps', ['-p', '1,542', '-o', 'rss=,pid=,comm=']);
    assert.ok(a.ok);
    assert.equal(a.stdout, '  8912     1 /sbin/launchd\n  9792   542 /usr/libexec/logd\n');
    const b = await runner('/bin/ps', ['-o', 'pid,lstart', '-p', '1']);
    assert.ok(b.ok);
    assert.equal(b.stdout, '  PID STARTED\n    1 Sat Aug  1 17:46:44 2026\n');
    assert.equal((await runner('/bin/ps', ['-ax', '-o', 'args=,pid='])).ok, false, 'ps would cut args');
    const bad = await runner('/bin/ps', ['-ax', '-o', 'pid=,footprint=']);
    assert.ok(!bad.ok && /footprint: keyword not found/.test(bad.error));
  });

  it('the captured process table: two ps captures of one Mac joined by pid', () => {
    const table = capturedProcesses();
    assert.equal(table.length, 800, '801 rows each, one pid in each that the other lacks');
    assert.deepEqual(
      table.find((p) => p.pid === 542),
      {
        pid: 542,
        ppid: 1,
        lstart: 'Sat Aug  1 17:48:22 2026',
        comm: '/usr/libexec/logd',
        args: '/usr/libexec/logd',
        user: 'root',
        rssKiB: 9792,
        cpuPercent: 0,
      },
    );
  });

  it('ps: every line whole into a pipe, whatever -w or COLUMNS say; a runner asked to cuts each line', async () => {
    const { runner } = capturedMac();
    const widest = async (args: string[], options = {}): Promise<number> => {
      const r = await runner('/bin/ps', args, options);
      assert.ok(r.ok);
      return Math.max(...r.stdout.split('\n').map((l) => l.length));
    };
    const longest = Math.max(...capturedProcesses().map((p) => p.args.length)) + 6;
    assert.ok(longest > 131, `${longest}: the capture has a path longer than one -w`);
    assert.equal(await widest(['-ax', '-o', 'pid=,args=']), longest);
    assert.equal(await widest(['-ax', '-o', 'pid=,args='], { env: { COLUMNS: '100' } }), longest);
    assert.equal(await widest(['-axw', '-o', 'pid=,args=']), longest);
    assert.equal(await widest(['-axww', '-o', 'pid=,args='], { maxLineBytes: 100 }), 100);
  });

  it('refuses what would hang, allocate or was never captured', async () => {
    const { runner } = capturedMac();
    assert.equal((await runner('/usr/bin/vm_stat', ['1'])).ok, false);
    assert.equal((await runner('/usr/bin/memory_pressure', ['-l', 'warn'])).ok, false);
    assert.equal(
      (await runner('/usr/bin/top', ['-stats', 'pid,mem'])).ok,
      false,
      'top without -l never exits',
    );
    assert.equal((await runner('/usr/sbin/ioreg', ['-a', '-c', 'IOAccelerator'])).ok, false);
  });
});

describe('darwin command probe on captured outputs', () => {
  it('builds the memory reading from vm_stat, sysctl and, as that Mac has no kern.memorystatus_level, memory_pressure -Q', async () => {
    const { probe, programs } = onCapturedMac();
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
    assert.deepEqual(programs().sort(), ['memory_pressure', 'sysctl', 'vm_stat']);
    assert.equal(probe.spawnCount, 3);
  });

  it('takes the free percentage from sysctl when the kernel has it, and the usable size where it is given', async () => {
    // kern.memorystatus_level is the figure memory_pressure -Q prints (its capture: 39 %); the M3 Max capture
    // has hw.memsize_usable.
    const m3max = sysctlLines(fixture('macos/sysctl/sysctl-hw-machdep.m3max.macos15.archspec.txt'));
    const { probe, programs } = onCapturedMac({
      sysctl: {
        'hw.memsize': m3max['hw.memsize']!,
        'hw.memsize_usable': m3max['hw.memsize_usable']!,
        'kern.memorystatus_level': '39',
      },
    });
    const m = await probe.readMemory(true);
    assert.equal(m.total, 38654705664);
    assert.equal(m.usable, 37751357440);
    assert.equal(m.freePercent, 39);
    assert.ok(!programs().includes('memory_pressure'), 'no third command when sysctl answered');
    assert.equal(probe.spawnCount, 2);
  });

  it('reads the GPU on the slow cadence only, with the ceiling from iogpu.wired_limit_mb', async () => {
    const { probe } = onCapturedMac({}, () => 42);
    const gpu = await probe.readGpu(true);
    // The ioreg capture's PerformanceStatistics and the wired limit as set (26000 MB).
    assert.deepEqual(
      {
        inUseBytes: gpu.inUseBytes,
        allocBytes: gpu.allocBytes,
        ceilingBytes: gpu.ceilingBytes,
        utilization: gpu.utilization,
        sampledAt: gpu.sampledAt,
        recoveryCount: gpu.recoveryCount,
        ceilingSource: gpu.ceilingSource,
      },
      {
        inUseBytes: 10977263616,
        allocBytes: 66160230400,
        ceilingBytes: 26000 * MiB,
        utilization: 100,
        sampledAt: 42,
        recoveryCount: 0,
        ceilingSource: 'wired-limit-sysctl',
      },
    );
    const spawned = probe.spawnCount;
    assert.deepEqual(await probe.readGpu(false), gpu, 'the fast cadence returns the last reading');
    assert.equal(probe.spawnCount, spawned, 'and spawns nothing');
  });

  it('gives no ceiling of its own when the wired limit is 0 (the chain goes on), or the configured one', async () => {
    // 0 is the system default (no capture of it read back exists: SOURCES.md). Metal's default then needs the
    // addon or a Python: the sampler's CeilingChain asks one in the background, never within this reader.
    const { probe, events, calls } = onCapturedMac({ sysctl: { 'iogpu.wired_limit_mb': '0' } });
    const gpu = await probe.readGpu(true);
    assert.deepEqual([gpu.ceilingBytes, gpu.ceilingSource], [null, null]);
    assert.ok(!calls.some((c) => /python/i.test(c)), 'no Python on the GPU reader');
    const mac = capturedMac({ sysctl: { 'iogpu.wired_limit_mb': '0' } });
    const configured = await new DarwinCommandProbe(countingRunner(mac.runner), events, {
      ceilingBytes: 96 * 1024 * MiB,
      mlxPython: '/opt/mlx/bin/python3',
    }).readGpu(true);
    assert.deepEqual([configured.ceilingBytes, configured.ceilingSource], [96 * 1024 * MiB, 'config']);
    assert.ok(!mac.calls.some((c) => /python/i.test(c)), 'the configured Python is the chain’s to ask');
  });

  it('lists every process of the captured table and EXO, with exact start times and executables', async () => {
    const { probe } = onCapturedMac();
    const entries = await probe.listProcesses(true);
    assert.equal(entries.length, 800 + EXO.length);
    const launchd = entries.find((e) => e.pid === 1)!;
    assert.equal(launchd.executable, '/sbin/launchd');
    assert.equal(launchd.name, 'launchd');
    assert.equal(launchd.ppid, 0);
    assert.equal(launchd.startTime, new Date(2026, 7, 1, 17, 46, 44).getTime());
    const runnerEntry = entries.find((e) => e.pid === 1601)!;
    assert.equal(runnerEntry.executable, '/Applications/EXO.app/Contents/Resources/exo/exo');
    assert.equal(runnerEntry.ppid, 1577);
    assert.deepEqual(runnerEntry.argv.slice(1), ['--multiprocessing-fork', 'tracker_fd=9', 'pipe_handle=11']);
    assert.equal(runnerEntry.startTime, new Date(2026, 7, 1, 17, 50, 2).getTime());
    // Owners, for the watch limit: root's, the login user's (EXO's) and a service account's processes.
    assert.deepEqual(
      [launchd.uid, runnerEntry.uid, entries.find((e) => e.name === 'WindowServer')?.uid],
      [0, 501, capturedUid('_windowserver')],
    );
    assert.ok(![0, 501].includes(capturedUid('_windowserver')));
  });

  it('reads the first 16 KiB of each command line: 2000 processes with long ones do not freeze the table', async () => {
    // Any local user can start these (a Mac allows 1 MiB of arguments); read whole, the output went over its
    // cap and the process table froze at its last reading.
    const args = `/bin/sleep ${'9'.repeat(64 * 1024)}`;
    const huge: CapturedProcess[] = Array.from({ length: 2000 }, (_, i) => ({
      pid: 20000 + i,
      ppid: 1,
      lstart: 'Sat Aug  1 18:00:00 2026',
      comm: '/bin/sleep',
      args,
      user: 'mallory',
      rssKiB: 1000,
      cpuPercent: 0,
    }));
    const mac = capturedMac({ extraProcesses: [...EXO, ...huge] });
    const events = new EventCollector(() => 0);
    const probe = new DarwinCommandProbe(countingRunner(mac.runner), events, {}, undefined);
    const entries = await probe.listProcesses(true);
    assert.equal(entries.length, 800 + EXO.length + huge.length, JSON.stringify(events.drain()));
    const sleeper = entries.find((e) => e.pid === 20000)!;
    // The line is kept to 16 KiB and 128 bytes; pid, ppid, ruid and lstart take its first 47.
    assert.equal(sleeper.argv.join(' ').length, 16 * 1024 + 128 - 47);
    assert.equal(sleeper.uid, capturedUid('mallory'));
    assert.deepEqual(entries.find((e) => e.pid === 1601)?.argv.slice(1), [
      '--multiprocessing-fork',
      'tracker_fd=9',
      'pipe_handle=11',
    ]);
  });

  it('reads footprints from top, then footprint for only the pids top left out', async () => {
    const { probe, calls, programs } = onCapturedMac();
    const exo = (await probe.listProcesses(true)).filter((e) => EXO.some((x) => x.pid === e.pid));
    const before = calls.length;
    const stats = await probe.readProcessStats(exo, true);
    assert.deepEqual(stats.get(500), {
      rss: 81920 * 1024,
      physFootprint: 90 * MiB,
      cpuPercent: 0.5,
      threads: null,
    });
    assert.deepEqual(stats.get(1577), {
      rss: 524288 * 1024,
      physFootprint: 2048 * MiB,
      cpuPercent: 3,
      threads: null,
    });
    // The captured MLX footprint: `phys_footprint: 110 GB`.
    assert.deepEqual(stats.get(1601), {
      rss: 1048576 * 1024,
      physFootprint: 110 * 1024 * MiB,
      cpuPercent: 97.5,
      threads: null,
    });
    const asked = calls.slice(before).filter((c) => /\/footprint /.test(c));
    assert.equal(asked.length, 1, asked.join('\n'));
    assert.match(asked[0]!, /\b1601$/);
    assert.deepEqual([...new Set(programs().slice(before))].sort(), ['footprint', 'ps', 'top']);
  });

  it('reads the identity from sysctl, uname -a and kmutil', async () => {
    const { probe } = onCapturedMac();
    const id = await probe.identity();
    assert.equal(id.platform, 'darwin');
    assert.equal(id.chip, 'Apple M1 Pro');
    assert.equal(id.memoryBytes, 17179869184);
    assert.equal(id.model, null, 'that capture has no hw.model');
    assert.equal(id.kernelVersion, '24.0.0');
    assert.equal(id.kernelFamily, 'T6031');
    assert.equal(id.iogpuFamilyVersion, null, 'the captured listing has no IOGPUFamily row');
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

  it('cuts each line to its first bytes as it reads, for a real command: memory by lines, not by bytes printed', async () => {
    // 40 lines of 1 MiB each, then a short one: 40 MiB read, 40 × 100 bytes kept.
    const script =
      "for i in $(seq 1 40); do printf '%s:' $i; head -c 1048576 /dev/zero | tr '\\0' x; echo; done; echo last";
    const r = await runCommand('/bin/sh', ['-c', script], {
      maxLineBytes: 100,
      maxBytes: 64 * 1024 * 1024,
      timeoutMs: 20_000,
    });
    assert.ok(r.ok, r.ok ? '' : r.error);
    const lines = r.stdout.split('\n');
    assert.equal(lines.length, 42);
    assert.ok(lines.slice(0, 40).every((l, i) => l.startsWith(`${i + 1}:x`) && Buffer.byteLength(l) === 100));
    assert.deepEqual(lines.slice(40), ['last', '']);
    // What is read still has its cap.
    const over = await runCommand('/bin/sh', ['-c', script], {
      maxLineBytes: 100,
      maxBytes: 4 * 1024 * 1024,
      timeoutMs: 20_000,
    });
    assert.ok(!over.ok && /output over the cap/.test(over.error));
    // 8 MiB of empty lines: a Buffer a line took 1.9 GB; what is kept is one buffer.
    const before = process.memoryUsage().rss;
    const empty = await runCommand('/bin/sh', ['-c', 'head -c 8388608 /dev/zero | tr "\\0" "\\n"'], {
      maxLineBytes: 100,
      maxBytes: 64 * 1024 * 1024,
      timeoutMs: 20_000,
    });
    assert.ok(empty.ok && empty.stdout.length === 8 * 1024 * 1024);
    assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'held as one buffer');
    // What is kept has a cap of its own (64 MiB) under a larger read cap: 70 MiB of empty lines is over it.
    const flood = await runCommand('/bin/sh', ['-c', 'head -c 73400320 /dev/zero | tr "\\0" "\\n"'], {
      maxLineBytes: 100,
      maxBytes: 256 * 1024 * 1024,
      timeoutMs: 20_000,
    });
    assert.ok(!flood.ok && /output over the cap/.test(flood.error));
    const missing = await runCommand('/no/such/tool', [], { maxLineBytes: 100 });
    assert.deepEqual(missing, { ok: false, error: '/no/such/tool: command not found' });
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
