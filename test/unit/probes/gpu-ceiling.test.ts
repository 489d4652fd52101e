import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EventCollector } from '../../../src/main/core/event-collector.js';
import { classifyProcesses } from '../../../src/main/core/exo/process-classifier.js';
import { estimateCeiling } from '../../../src/main/core/probes/ceiling-estimate.js';
import {
  type CommandResult,
  type CommandRunner,
  runInBackground,
} from '../../../src/main/core/probes/command-runner.js';
import {
  CeilingChain,
  exoPythonCandidates,
  MLX_DEVICE_INFO_CODE,
  untrustedExecutable,
  type WatchedProcess,
} from '../../../src/main/core/probes/gpu-ceiling.js';
import type { ProcessEntry } from '../../../src/main/core/probes/probe-types.js';
import { emptyGpu, emptyMemory, type GpuReading, type MemoryReading } from '../../../src/shared/sample.js';
import { fixture, fixturesRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/temp-dir.js';

const GiB = 1024 ** 3;
/** The captured `mx.metal.device_info()` of an M2 Ultra (MLX PR #1060). */
const DEVICE_INFO = 'macos/metal/mx.metal.device_info.m2ultra-192gb.mlx-pr1060.txt';
const M2_ULTRA_CEILING = 188743680000;

type Table = Array<{ pid: number; ppid: number; argv: string[]; executable: string }>;
const tables = JSON.parse(fixture('exo/process-tables.json')) as Record<string, Table>;

/** A fixture table through the real classifier: what the sampler hands the chain. */
function watchedOf(name: string): WatchedProcess[] {
  const entries: ProcessEntry[] = tables[name]!.map((p) => ({
    ...p,
    name: p.executable.split('/').pop() ?? null,
    startTime: 1_700_000_000_000,
  }));
  const roles = classifyProcesses(entries, {});
  return entries.filter((e) => roles.has(e.pid)).map((entry) => ({ entry, role: roles.get(entry.pid)! }));
}

const memory = (total: number | null): MemoryReading => ({ ...emptyMemory(), total, usable: total });

/** A Python runner answering with a captured output; records each call as (file, args). */
function fakePython(answer: (file: string) => CommandResult) {
  const calls: Array<{ file: string; args: string[] }> = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const run: CommandRunner = async (file, args) => {
    calls.push({ file, args });
    await gate;
    return answer(file);
  };
  return { run, calls, release };
}

const ok = (stdout: string): CommandResult => ({ ok: true, stdout, stderr: '', exitCode: 0 });
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('the estimated Metal ceiling (conservative side of the published defaults)', () => {
  it('is 2/3 of RAM up to 36 GB and 3/4 above', () => {
    assert.equal(estimateCeiling(32 * GiB), Math.floor((32 * GiB * 2) / 3));
    assert.equal(estimateCeiling(32 * GiB), 22906492245); // 21.33 GiB
    assert.equal(estimateCeiling(36 * GiB), 24 * GiB);
    assert.equal(estimateCeiling(64 * GiB), 48 * GiB);
    assert.equal(estimateCeiling(128 * GiB), 96 * GiB);
    assert.equal(estimateCeiling(192 * GiB), 144 * GiB);
    assert.equal(estimateCeiling(512 * GiB), 384 * GiB);
    assert.equal(estimateCeiling(null), null);
    assert.equal(estimateCeiling(0), null);
  });

  it('never lies above a published stock figure', () => {
    // RAM → recommendedMaxWorkingSetSize as published (knowledge table, fixtures/macos/metal).
    const published: Array<[number, number]> = [
      [16 * GiB, 10.67 * GiB], // M4 Mac mini, exo PR #1672
      [16 * GiB, 11.84 * GiB], // M3, llmfit PR #754
      [128 * GiB, 96 * GiB], // M3 Max, ollama PR #12808
      [128 * GiB, 107.52 * GiB], // M5 Max, ds4 PR #893
      [192 * GiB, M2_ULTRA_CEILING], // M2 Ultra, mlx PR #1060
    ];
    for (const [ram, stock] of published) assert.ok(estimateCeiling(ram)! <= stock, `${ram / GiB} GiB`);
  });
});

describe('the ceiling chain: metal, iogpu.wired_limit_mb, config, a Python, the estimate', () => {
  const events = () => new EventCollector(() => 0);
  const darwin = { platform: 'darwin' as const, untrusted: () => null };

  it("keeps the probe's own figure and its source (metal, then the wired-limit sysctl)", () => {
    const { run, calls } = fakePython(() => ok(fixture(DEVICE_INFO)));
    const chain = new CeilingChain(events(), { ...darwin, run, ceilingBytes: 1 * GiB });
    const metal: GpuReading = { ...emptyGpu(), ceilingBytes: 96 * GiB, ceilingSource: 'metal' };
    assert.deepEqual(chain.resolve(metal, memory(128 * GiB), watchedOf('source-install')), metal);
    const sysctl: GpuReading = {
      ...emptyGpu(),
      ceilingBytes: 26000 * 1024 ** 2,
      ceilingSource: 'wired-limit-sysctl',
    };
    assert.equal(chain.resolve(sysctl, memory(32 * GiB), []).ceilingSource, 'wired-limit-sysctl');
    assert.equal(calls.length, 0, 'no Python is asked when the probe knows');
  });

  it('then the configured gpu.ceilingBytes, before any Python', () => {
    const { run, calls } = fakePython(() => ok(fixture(DEVICE_INFO)));
    const chain = new CeilingChain(events(), { ...darwin, run, ceilingBytes: 40 * GiB });
    const g = chain.resolve(emptyGpu(), memory(64 * GiB), watchedOf('source-install'));
    assert.deepEqual([g.ceilingBytes, g.ceilingSource], [40 * GiB, 'config']);
    assert.equal(calls.length, 0);
  });

  it("asks EXO's own Python from its runner's argv once, in the background, with an argument array", async () => {
    const py = fakePython(() => ok(fixture(DEVICE_INFO)));
    const chain = new CeilingChain(events(), { ...darwin, run: py.run });
    const watched = watchedOf('source-install');
    // The first readings do not wait for the Python: the estimate stands meanwhile.
    const first = chain.resolve(emptyGpu(), memory(192 * GiB), watched);
    assert.deepEqual([first.ceilingBytes, first.ceilingSource], [144 * GiB, 'estimate']);
    assert.equal(chain.resolve(emptyGpu(), memory(192 * GiB), watched).ceilingSource, 'estimate');
    assert.deepEqual(py.calls, [
      // argv[0] of the runner (the venv's python3, which has MLX), never the resolved interpreter.
      { file: '/Users/me/exo/.venv/bin/python3', args: ['-c', MLX_DEVICE_INFO_CODE] },
    ]);
    py.release();
    await settle();
    const later = chain.resolve(emptyGpu(), memory(192 * GiB), watched);
    assert.deepEqual([later.ceilingBytes, later.ceilingSource], [M2_ULTRA_CEILING, 'exo-python']);
    for (let i = 0; i < 5; i++) chain.resolve(emptyGpu(), memory(192 * GiB), watched);
    assert.equal(py.calls.length, 1, 'cached for the boot');
    assert.deepEqual(chain.python, {
      bytes: M2_ULTRA_CEILING,
      source: 'exo-python',
      path: '/Users/me/exo/.venv/bin/python3',
    });
  });

  it('a configured gpu.mlxPython comes before EXO’s', async () => {
    const py = fakePython(() => ok(fixture(DEVICE_INFO)));
    const chain = new CeilingChain(events(), { ...darwin, run: py.run, mlxPython: '/opt/mlx/bin/python' });
    chain.resolve(emptyGpu(), memory(192 * GiB), watchedOf('source-install'));
    py.release();
    await settle();
    assert.equal(py.calls[0]!.file, '/opt/mlx/bin/python');
    assert.equal(chain.resolve(emptyGpu(), memory(192 * GiB), []).ceilingSource, 'mlx-python');
  });

  it('a Python without MLX is reported and not asked again; the next candidate is; at most three per boot', async () => {
    const answers: Record<string, CommandResult> = {
      '/opt/a/python3': { ok: false, error: "ModuleNotFoundError: No module named 'mlx'" },
    };
    const py = fakePython((file) => answers[file] ?? ok('no figure here'));
    const ev = events();
    const watched = watchedOf('source-install');
    const chain = new CeilingChain(ev, { ...darwin, run: py.run, mlxPython: '/opt/a/python3' });
    py.release();
    const more: WatchedProcess = {
      entry: {
        pid: 99,
        ppid: 4102,
        argv: ['/opt/b/python3', '-c', 'x'],
        executable: null,
        name: null,
        startTime: null,
      },
      role: 'exo-runner',
    };
    watched.push(more);
    for (let i = 0; i < 8; i++) {
      assert.equal(chain.resolve(emptyGpu(), memory(64 * GiB), watched).ceilingSource, 'estimate');
      await settle();
    }
    assert.deepEqual(
      py.calls.map((c) => c.file),
      [
        '/opt/a/python3',
        '/Users/me/exo/.venv/bin/python3',
        '/Users/me/.local/share/uv/python/cpython-3.13.5-macos-aarch64-none/bin/python3.13',
      ],
      'each once, in order, and no more than three',
    );
    const failed = ev.drain().filter((e) => e.kind === 'probe.failed');
    // (the collector folds repeats of one probe's failure: the two kinds of failure are what is asserted)
    assert.match(failed[0]!.message, /No module named 'mlx'/);
    assert.match(failed[1]!.message, /no max_recommended_working_set_size/);
  });

  it('an answer above RAM is not believed, and a runner that throws is a failure, never a crash', async () => {
    const ev = events();
    const py = fakePython(() => ok(fixture(DEVICE_INFO))); // 188743680000 bytes, more than 64 GiB
    py.release();
    const chain = new CeilingChain(ev, { ...darwin, run: py.run });
    const watched = watchedOf('source-install');
    chain.resolve(emptyGpu(), memory(64 * GiB), watched);
    await settle();
    const g = chain.resolve(emptyGpu(), memory(64 * GiB), watched);
    assert.deepEqual([g.ceilingBytes, g.ceilingSource], [48 * GiB, 'estimate']);
    assert.ok(
      ev
        .drain()
        .some((e) => e.kind === 'probe.failed' && /more than the 68719476736 bytes of RAM/.test(e.message)),
    );

    const ev2 = events(); // (the collector keeps one failure per probe a minute)
    const throwing = new CeilingChain(ev2, {
      ...darwin,
      run: async () => {
        throw new Error('spawn EACCES');
      },
    });
    throwing.resolve(emptyGpu(), memory(64 * GiB), watched);
    await settle();
    assert.equal(throwing.resolve(emptyGpu(), memory(64 * GiB), watched).ceilingSource, 'estimate');
    assert.ok(ev2.drain().some((e) => e.kind === 'probe.failed' && /spawn EACCES/.test(e.message)));
  });

  it('after a reboot (the boot time moved) the Pythons are asked again', async () => {
    let boot = 1_000_000;
    const py = fakePython(() => ok(fixture(DEVICE_INFO)));
    py.release();
    const chain = new CeilingChain(events(), { ...darwin, run: py.run, bootTime: () => boot });
    const watched = watchedOf('source-install');
    chain.resolve(emptyGpu(), memory(192 * GiB), watched);
    await settle();
    assert.equal(chain.resolve(emptyGpu(), memory(192 * GiB), watched).ceilingSource, 'exo-python');
    boot += 10 * 60_000;
    assert.equal(chain.resolve(emptyGpu(), memory(192 * GiB), watched).ceilingSource, 'estimate');
    await settle();
    assert.equal(py.calls.length, 2);
  });

  it('asks no Python off macOS (no Metal there): the estimate, flagged', () => {
    const py = fakePython(() => ok(fixture(DEVICE_INFO)));
    const chain = new CeilingChain(events(), { platform: 'linux', run: py.run });
    const g = chain.resolve(emptyGpu(), memory(32 * GiB), watchedOf('source-install'));
    assert.deepEqual([g.ceilingBytes, g.ceilingSource], [estimateCeiling(32 * GiB), 'estimate']);
    assert.equal(py.calls.length, 0);
  });

  it('with nothing at all (RAM unknown) the ceiling is null and says why', () => {
    const ev = events();
    const g = new CeilingChain(ev, { platform: 'linux' }).resolve(emptyGpu(), memory(null), []);
    assert.deepEqual([g.ceilingBytes, g.ceilingSource], [null, null]);
    assert.ok(
      ev.drain().some((e) => e.kind === 'probe.unavailable' && e.data?.['field'] === 'gpu.ceilingBytes'),
    );
  });
});

describe("EXO's Python in its process table", () => {
  it('source install: the venv python3 from the runner argv, then the main and tracker (same path once)', () => {
    assert.deepEqual(exoPythonCandidates(watchedOf('source-install')), [
      { path: '/Users/me/exo/.venv/bin/python3', source: 'exo-python', via: 'runner pid 4120 argv[0]' },
      {
        path: '/Users/me/.local/share/uv/python/cpython-3.13.5-macos-aarch64-none/bin/python3.13',
        source: 'exo-python',
        via: 'runner pid 4120 executable',
      },
    ]);
  });

  it('EXO.app: the frozen exo, since its resource tracker shows it runs -c code and exits', () => {
    assert.deepEqual(exoPythonCandidates(watchedOf('app-bundle')), [
      {
        path: '/Applications/EXO.app/Contents/Resources/exo/exo',
        source: 'exo-python',
        via: 'runner pid 1601 argv[0]',
      },
    ]);
  });

  it('EXO.app with no process run with -c: not asked (an older build would start a second EXO)', () => {
    assert.deepEqual(exoPythonCandidates(watchedOf('app-bundle-no-inline-code')), []);
  });

  it('never a relative path or a program of another process that is not a Python', () => {
    const w = (argv: string[], executable: string | null): WatchedProcess => ({
      entry: { pid: 9, ppid: 1, argv, executable, name: null, startTime: null },
      role: 'exo-runner',
    });
    assert.deepEqual(exoPythonCandidates([w(['python3', '-c', 'x'], null)]), []);
    assert.deepEqual(exoPythonCandidates([w(['/usr/bin/node', 'runner.js'], '/usr/bin/node')]), []);
    assert.equal(exoPythonCandidates([w(['/usr/local/bin/Python', '-c', 'x'], null)]).length, 1);
  });
});

describe('running the Python for real (a stand-in script, no MLX needed)', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('passes the code as one argument (no shell), reads its answer, and refuses a program anyone may write', async () => {
    const bin = join(dir.path, 'venv', 'bin');
    mkdirSync(bin, { recursive: true });
    const python = join(bin, 'python3');
    const argsFile = join(dir.path, 'args.txt');
    writeFileSync(
      python,
      `#!/bin/sh\nprintf '%s\\n' "$#" "$@" > '${argsFile}'\ncat '${join(fixturesRoot, DEVICE_INFO)}'\n`,
    );
    chmodSync(python, 0o755);
    assert.equal(untrustedExecutable(python), null);
    const r = await runInBackground(python, ['-c', MLX_DEVICE_INFO_CODE], { timeoutMs: 5000 });
    assert.equal(r.ok, true);
    assert.deepEqual(readFileSync(argsFile, 'utf8').split('\n').slice(0, 3), [
      '2',
      '-c',
      MLX_DEVICE_INFO_CODE,
    ]);

    const entry: ProcessEntry = {
      pid: 7,
      ppid: 1,
      argv: [
        python,
        '-c',
        'from multiprocessing.spawn import spawn_main; spawn_main()',
        '--multiprocessing-fork',
      ],
      executable: python,
      name: 'python3',
      startTime: null,
    };
    const chain = new CeilingChain(new EventCollector(() => 0), { platform: 'darwin' });
    chain.resolve(emptyGpu(), memory(192 * GiB), [{ entry, role: 'exo-runner' }]);
    const deadline = Date.now() + 5000;
    while (!chain.python && Date.now() < deadline) await settle();
    assert.equal(chain.resolve(emptyGpu(), memory(192 * GiB), []).ceilingBytes, M2_ULTRA_CEILING);

    chmodSync(python, 0o777);
    assert.equal(untrustedExecutable(python), 'writable by anyone');
    assert.equal(untrustedExecutable(join(bin, 'missing')), 'no such file');
  });

  it('a Python that does not answer in its budget is killed and reported', async () => {
    const slow = join(dir.path, 'python-slow');
    writeFileSync(slow, '#!/bin/sh\nsleep 5\n');
    chmodSync(slow, 0o755);
    const started = Date.now();
    const r = await runInBackground(slow, ['-c', 'x'], { timeoutMs: 300 });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /no answer within 300 ms/);
    assert.ok(Date.now() - started < 2000);
  });
});

describe('a Python’s answer kept for the rest of the boot', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('a restarted daemon (a new chain) in the same boot uses it without asking; after a reboot it asks again', async () => {
    const cacheFile = join(dir.path, 'metal-ceiling.json');
    const watched = watchedOf('source-install');
    const py = fakePython(() => ok(fixture(DEVICE_INFO)));
    py.release();
    const boot = 5_000_000;
    const first = new CeilingChain(new EventCollector(() => 0), {
      platform: 'darwin',
      untrusted: () => null,
      run: py.run,
      bootTime: () => boot,
      cacheFile,
    });
    first.resolve(emptyGpu(), memory(192 * GiB), watched);
    await settle();
    assert.equal(py.calls.length, 1);
    assert.deepEqual(JSON.parse(readFileSync(cacheFile, 'utf8')), {
      bootTime: boot,
      bytes: M2_ULTRA_CEILING,
      source: 'exo-python',
      path: '/Users/me/exo/.venv/bin/python3',
    });

    const restarted = new CeilingChain(new EventCollector(() => 0), {
      platform: 'darwin',
      run: py.run,
      bootTime: () => boot + 30_000, // the uptime clock and the wall clock drift a little
      cacheFile,
    });
    const g = restarted.resolve(emptyGpu(), memory(192 * GiB), watched);
    assert.deepEqual([g.ceilingBytes, g.ceilingSource], [M2_ULTRA_CEILING, 'exo-python']);
    assert.equal(py.calls.length, 1, 'not asked again in the same boot');

    const rebooted = new CeilingChain(new EventCollector(() => 0), {
      platform: 'darwin',
      untrusted: () => null,
      run: py.run,
      bootTime: () => boot + 3_600_000,
      cacheFile,
    });
    assert.equal(rebooted.resolve(emptyGpu(), memory(192 * GiB), watched).ceilingSource, 'estimate');
    await settle();
    assert.equal(py.calls.length, 2, 'asked again after a reboot');

    writeFileSync(cacheFile, '{"bootTime": 5000000, "bytes": "lots", "source": "exo-python", "path": "/x"}');
    const garbled = new CeilingChain(new EventCollector(() => 0), {
      platform: 'darwin',
      bootTime: () => boot,
      cacheFile,
    });
    assert.equal(
      garbled.resolve(emptyGpu(), memory(192 * GiB), []).ceilingSource,
      'estimate',
      'a bad file is ignored',
    );

    // A FIFO where the cache should be would have held the tick for a writer that never comes.
    rmSync(cacheFile);
    execFileSync('mkfifo', [cacheFile]);
    const t = performance.now();
    const fifo = new CeilingChain(new EventCollector(() => 0), {
      platform: 'darwin',
      bootTime: () => boot,
      cacheFile,
    });
    assert.equal(fifo.resolve(emptyGpu(), memory(192 * GiB), []).ceilingSource, 'estimate');
    assert.ok(performance.now() - t < 500);
  });
});
