/**
 * The native sampling addon, built by `npm ci` (postinstall) and `npm run build`: loaded for real, read against
 * the procfs readers, its PSI trigger registered and released, its event path driven through a FIFO standing in
 * for the PSI file, and its darwin marshalling fed with figures from outputs captured on Macs.
 * EXO_SENTINEL_NATIVE=0 in the environment (a machine without a compiler) skips the suite, saying so.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createProbe, createProbePair, nativeStartupCheck } from '../../src/main/core/probes/create-probe.js';
import { parseIoregAccelerators } from '../../src/main/core/probes/darwin/ioreg-accelerator-parser.js';
import { parseSwapUsage } from '../../src/main/core/probes/darwin/sysctl-parser.js';
import { parseVmStat } from '../../src/main/core/probes/darwin/vm-stat-parser.js';
import {
  loadNative,
  type NativeBinding,
  type NativePressureEvent,
} from '../../src/main/core/probes/native/native-binding.js';
import { compareProbes } from '../../src/main/core/probes/probe-agreement.js';
import type { ProbeReporter } from '../../src/main/core/probes/probe-types.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const disabled = process.env['EXO_SENTINEL_NATIVE'] === '0';
const linux = process.platform === 'linux';

function recorder(): ProbeReporter & { notes: string[] } {
  const notes: string[] = [];
  return {
    notes,
    unavailable: (field, reason) => notes.push(`unavailable ${field}: ${reason}`),
    failed: (probe, error) => notes.push(`failed ${probe}: ${error}`),
  };
}

function binding(): NativeBinding {
  const loaded = loadNative();
  assert.ok(loaded.binding, `the addon must be built here (npm run build:native): ${loaded.status.error}`);
  return loaded.binding;
}

const waitFor = async <T>(get: () => T | undefined, ms: number): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`nothing within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the native sampling addon', { skip: disabled ? 'EXO_SENTINEL_NATIVE=0' : false }, () => {
  it('loads, says its version and platform, and passes the start-up check', () => {
    const loaded = loadNative();
    assert.equal(loaded.status.loaded, true, String(loaded.status.error));
    assert.match(loaded.status.version ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(loaded.binding?.platform, process.platform);
    assert.equal(nativeStartupCheck(binding()), null);
  });

  it('reads every signal as the fallback readers do on this machine', {
    // On a Mac the fallback is the command readers: CI's `doctor --probes --json` step compares them there.
    skip: !linux && 'Linux: against the procfs readers (macOS: the doctor --probes step of CI)',
  }, async () => {
    const pair = createProbePair(recorder());
    assert.ok(pair.native);
    const rows = await compareProbes(pair.native, pair.fallback);
    assert.ok(rows.length >= 20, `${rows.length} signals compared`);
    assert.deepEqual(
      rows.filter((r) => !r.agree),
      [],
    );
    const total = rows.find((r) => r.signal === 'memory.total');
    assert.ok(typeof total?.native === 'number' && total.native > 0);
    assert.equal(rows.find((r) => r.signal === 'process.self.found')?.native, 'yes');
    assert.equal(rows.find((r) => r.signal === 'process.self.uid')?.native, process.getuid?.());
  });

  it('is the probe the daemon takes, and says so', async () => {
    const probe = createProbe(recorder());
    const d = probe.describe?.();
    assert.equal(d?.backend, 'native');
    assert.equal(d?.native.loaded, true);
    assert.equal(probe.spawnCount, 0);
    const m = await probe.readMemory(true);
    assert.ok((m.total ?? 0) > 0 && (m.free ?? -1) >= 0);
  });

  it('registers a PSI trigger on its own thread and releases it on close', {
    skip: !linux && 'Linux only: PSI (/proc/pressure/memory)',
  }, () => {
    const psiFds = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === '/proc/pressure/memory';
        } catch {
          return false;
        }
      }).length;
    const before = psiFds();
    const watch = binding().watchPressure(() => undefined);
    assert.equal(watch.source, 'psi');
    assert.equal(psiFds(), before + 1, 'the trigger holds /proc/pressure/memory open');
    assert.equal(watch.close(), true);
    assert.equal(psiFds(), before, 'closed: the trigger is released');
    assert.equal(watch.close(), false, 'a second close is a no-op');
  });

  it('refuses a trigger the kernel would refuse, naming the bounds, and a missing PSI file by path', () => {
    assert.throws(
      () => binding().watchPressure(() => undefined, { windowMicros: 5 }),
      /windowMicros in \[500000/,
    );
    assert.throws(
      () => binding().watchPressure(() => undefined, { stallMicros: 3_000_000, windowMicros: 2_000_000 }),
      /stallMicros must be in/,
    );
    if (linux)
      assert.throws(
        () => binding().watchPressure(() => undefined, { psiPath: '/nonexistent/pressure' }),
        /cannot open \/nonexistent\/pressure/,
      );
    assert.throws(
      () => (binding().watchPressure as (x: unknown) => unknown)('no callback'),
      /expects a callback/,
    );
  });

  it('delivers events from its thread to the event loop: a FIFO stands in for the PSI file', async () => {
    const dir = tempDir();
    try {
      const fifo = join(dir.path, 'psi');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      // O_RDWR keeps the FIFO open with no other writer: no end-of-file between writes.
      const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
      const seen: NativePressureEvent[] = [];
      const watch = binding().watchPressure((e) => seen.push(e), { fd });
      assert.equal(watch.source, 'fd');
      writeSync(fd, 'some avg10=12.00');
      const first = await waitFor(() => seen[0], 2000);
      assert.equal(first.kind, 'fd');
      assert.equal(first.data, 'some avg10=12.00');
      writeSync(fd, 'second');
      await waitFor(() => seen[1], 2000);
      assert.equal(seen[1]?.data, 'second');
      assert.equal(watch.close(), true);
      writeSync(fd, 'after close');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(seen.length, 2, 'nothing is delivered after close');
      closeSync(fd);
    } finally {
      dir.cleanup();
    }
  });

  it('marshals vm_statistics64 as vm_stat prints it, from figures captured on a Mac', () => {
    const text = fixture('macos/vm_stat/vm_stat.wide-53col.useful-system-monitor.txt');
    const v = parseVmStat(text);
    const n = (label: string): number => v.values[label] ?? 0;
    // struct vm_statistics64 up to swapped_count (mach/vm_statistics.h), little-endian.
    const b = Buffer.alloc(160);
    b.writeUInt32LE(n('Pages free') + n('Pages speculative'), 0); // free_count includes speculative pages
    b.writeUInt32LE(n('Pages active'), 4);
    b.writeUInt32LE(n('Pages inactive'), 8);
    b.writeUInt32LE(n('Pages wired down'), 12);
    b.writeUInt32LE(n('Pages purgeable'), 88);
    b.writeUInt32LE(n('Pages speculative'), 92);
    b.writeBigUInt64LE(BigInt(n('Swapins')), 112);
    b.writeBigUInt64LE(BigInt(n('Swapouts')), 120);
    b.writeUInt32LE(n('Pages occupied by compressor'), 128);
    b.writeUInt32LE(n('Pages throttled'), 132);
    b.writeUInt32LE(n('File-backed pages'), 136);
    b.writeUInt32LE(n('Anonymous pages'), 140);
    b.writeBigUInt64LE(BigInt(n('Pages stored in compressor')), 144);
    const out = binding().marshalVmStatistics(b, v.pageSize ?? 0);
    assert.equal(out.pageSize, v.pageSize);
    for (const key of [
      'free',
      'active',
      'inactive',
      'speculative',
      'throttled',
      'wired',
      'purgeable',
      'fileBacked',
      'anonymous',
      'storedInCompressor',
      'occupiedByCompressor',
    ] as const)
      assert.equal(out[key], v.bytes[key], key);
    // The captured figures themselves (16 KiB pages): a parser and the marshalling agreeing on a wrong number
    // would not pass.
    assert.equal(out.pageSize, 16384);
    assert.equal(out.wired, 251285 * 16384);
    assert.equal(out.free, 3860 * 16384);
    assert.equal(out.occupiedByCompressor, 389264 * 16384);
    assert.equal(out.speculative, 299 * 16384);
    assert.throws(
      () => binding().marshalVmStatistics(Buffer.alloc(10), 16384),
      /expected a Buffer of 160 bytes, got 10/,
    );
    assert.throws(() => binding().marshalVmStatistics(b, 0), /page size/);
  });

  it('marshals xsw_usage (vm.swapusage) and the GPU statistics as the command parsers read them', () => {
    const swap = parseSwapUsage(fixture('macos/sysctl/sysctl-vm.swapusage.high.macos27.diskdiet.txt'));
    assert.ok(swap && swap.total !== null && swap.used !== null && swap.free !== null);
    const s = Buffer.alloc(32);
    s.writeBigUInt64LE(BigInt(Math.round(swap.total)), 0);
    s.writeBigUInt64LE(BigInt(Math.round(swap.free)), 8);
    s.writeBigUInt64LE(BigInt(Math.round(swap.used)), 16);
    s.writeUInt32LE(16384, 24);
    s.writeInt32LE(1, 28);
    const out = binding().marshalSwapUsage(s);
    assert.deepEqual(out, {
      total: Math.round(swap.total),
      used: Math.round(swap.used),
      available: Math.round(swap.free),
      encrypted: true,
    });
    // `total = 45056.00M  used = 43437.06M  free = 1618.94M`
    assert.equal(out.total, 45056 * 1024 * 1024);
    assert.equal(out.used, Math.round(43437.06 * 1024 * 1024));

    const node = parseIoregAccelerators(
      fixture('macos/ioreg/ioreg-r-c-IOAccelerator-d1.m4pro.macos26.sonar.txt'),
    ).find((x) => x.inUseSystemMemory !== null);
    assert.ok(node);
    // es_gpu_stats: valid bits, reserved, then six doubles.
    const g = Buffer.alloc(56);
    let valid = 0;
    const put = (bit: number, slot: number, v: number | null): void => {
      if (v === null) return;
      valid |= bit;
      g.writeDoubleLE(v, 8 + slot * 8);
    };
    put(1, 0, node.inUseSystemMemory);
    put(2, 1, node.allocSystemMemory);
    put(8, 3, node.deviceUtilization);
    put(16, 4, node.recoveryCount);
    put(32, 5, node.lastRecoveryTime);
    g.writeUInt32LE(valid, 0);
    const gpu = binding().marshalGpuStats(g);
    assert.equal(gpu.inUseBytes, node.inUseSystemMemory);
    assert.equal(gpu.allocBytes, node.allocSystemMemory);
    assert.equal(gpu.utilization, node.deviceUtilization);
    assert.equal(gpu.inUseDriverBytes, null, 'a field the dictionary lacks stays null');
    assert.equal(gpu.recoveryCount, node.recoveryCount);
    // The M4 Pro capture: "In use system memory"=10977263616, "Alloc system memory"=66160230400, 100 %.
    assert.deepEqual(
      [gpu.inUseBytes, gpu.allocBytes, gpu.utilization, gpu.recoveryCount],
      [10977263616, 66160230400, 100, 0],
    );
  });

  it('reads KERN_PROCARGS2 as a Mac gives it: argc, the exec path, padding, argv, then the environment', () => {
    // EXO.app's runner as process-shapes.json lists it, laid out as the kernel does (the exec path is padded
    // with NULs to a word; the environment follows argv and is never read).
    const runner = (
      JSON.parse(fixture('exo/process-shapes.json')) as Record<string, Array<{ argv: string[] }>>
    )['app-frozen']!.find((p) => p.argv.includes('--multiprocessing-fork'))!.argv;
    const procargs = (argv: string[], argc = argv.length): Buffer => {
      const head = Buffer.alloc(4);
      head.writeInt32LE(argc, 0);
      const exec = Buffer.from(`${argv[0]}\0\0\0\0\0`);
      const args = Buffer.from(`${argv.join('\0')}\0`);
      return Buffer.concat([head, exec, args, Buffer.from('HOME=/Users/exo\0PATH=/usr/bin\0')]);
    };
    assert.deepEqual(binding().marshalProcArgs(procargs(runner)), runner);
    // argc is the bound, not the NULs: the environment is not taken for arguments.
    assert.deepEqual(binding().marshalProcArgs(procargs(runner, 2)), runner.slice(0, 2));
    // Nothing that holds an argv (another user's process answers nothing; a short or lying answer).
    assert.deepEqual(binding().marshalProcArgs(Buffer.alloc(0)), []);
    assert.deepEqual(binding().marshalProcArgs(Buffer.from([5, 0])), []);
    assert.deepEqual(binding().marshalProcArgs(procargs(runner, -3)), []);
    const noTerminator = procargs(runner).subarray(0, 4 + runner[0]!.length + 5 + 10);
    assert.deepEqual(binding().marshalProcArgs(noTerminator), [runner[0]!.slice(0, 10)]);
  });

  it('reads at most 16 KiB of a command line on either platform, and the owner of each process', async () => {
    // 1 MiB of arguments (a Mac allows that much): only the first 16 KiB becomes strings, as the procfs reader.
    const many = Array.from(
      { length: 64 },
      (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(16 * 1024 - 3)}`,
    );
    assert.deepEqual(
      binding().marshalProcArgs(
        Buffer.concat([
          Buffer.from([64, 0, 0, 0]),
          Buffer.from('/bin/sleep\0\0'),
          Buffer.from(`${many.join('\0')}\0`),
        ]),
      ),
      [many[0]!.slice(0, 16 * 1024)],
    );
    if (!linux) return;
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', 'a'.repeat(40 * 1024), 'b'], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const listed = binding().listProcesses();
      const mine = listed.find((p) => p.pid === child.pid);
      assert.ok(mine, 'the child is listed');
      assert.equal(mine.uid, process.getuid?.());
      assert.equal(mine.argv.join('\0').length, 16 * 1024, 'its first 16 KiB, cut inside the long argument');
      assert.equal(mine.argv.at(-1), 'a'.repeat(16 * 1024 - mine.argv.slice(0, -1).join('\0').length - 1));
      const procfs = await createProbe(recorder(), {}, { nativeDisabled: true }).listProcesses(true);
      assert.deepEqual(procfs.find((p) => p.pid === child.pid)?.argv, mine.argv, 'the procfs reader agrees');
      assert.equal(listed.find((p) => p.pid === 1)?.uid, 0);
    } finally {
      child.kill();
    }
  });

  it("a setuid-root program another user starts is that user's: both readers give the real uid", {
    skip: (!linux || process.getuid?.() !== 0 || !existsSync('/bin/su')) && 'root on Linux, with su',
  }, async () => {
    // su waiting for a password: effective uid 0, started by nobody, with any argv[0] (here EXO's runner's).
    const su = spawn('/bin/su', ['--', 'root', '--multiprocessing-fork'], {
      uid: 65534,
      gid: 65534,
      stdio: ['pipe', 'ignore', 'ignore'],
      argv0: '/Applications/EXO.app/Contents/Resources/exo/exo',
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const status = readFileSync(`/proc/${su.pid}/status`, 'utf8');
      assert.match(status, /^Uid:\s+65534\s+0\s/m, 'really running setuid');
      assert.equal(
        binding()
          .listProcesses()
          .find((p) => p.pid === su.pid)?.uid,
        65534,
      );
      const procfs = await createProbe(recorder(), {}, { nativeDisabled: true }).listProcesses(true);
      assert.equal(procfs.find((p) => p.pid === su.pid)?.uid, 65534);
    } finally {
      su.kill('SIGKILL');
    }
  });

  it('takes the fallback and says why when disabled or when the build cannot be loaded', () => {
    const off = recorder();
    const probe = createProbe(off, {}, { nativeDisabled: true });
    assert.equal(probe.describe?.().backend, linux ? 'procfs' : 'command');
    assert.match(probe.describe?.().native.error ?? '', /disabled \(EXO_SENTINEL_NATIVE=0\)/);
    assert.ok(
      off.notes.some((n) => /unavailable probes\.native: .*disabled/.test(n)),
      off.notes.join('\n'),
    );

    const dir = tempDir();
    try {
      const bogus = join(dir.path, 'exo_sentinel_native.node');
      writeFileSync(bogus, 'not an ELF or Mach-O file');
      const broken = recorder();
      const p = createProbe(broken, {}, { nativeCandidates: [bogus] });
      assert.equal(p.describe?.().native.loaded, false);
      assert.match(p.describe?.().native.error ?? '', /cannot load .*exo_sentinel_native\.node/);
      const missing = createProbe(recorder(), {}, { nativeCandidates: [join(dir.path, 'absent.node')] });
      assert.match(missing.describe?.().native.error ?? '', /not built for/);
    } finally {
      dir.cleanup();
    }
  });

  it('is not trusted when its figures disagree with what Node reads', () => {
    const b = binding();
    assert.match(nativeStartupCheck(b, 1024) ?? '', /bytes of memory where Node reads 1024/);
  });
});
