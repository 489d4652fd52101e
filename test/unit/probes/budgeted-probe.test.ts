import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetedProbe, BudgetedReader } from '../../../src/main/core/probes/budgeted-probe.js';
import type {
  PlatformProbe,
  ProbeReporter,
  ProcessEntry,
} from '../../../src/main/core/probes/probe-types.js';
import { emptyGpu, emptyMemory, type MemoryReading } from '../../../src/shared/sample.js';

function recorder(): ProbeReporter & { failures: string[] } {
  const failures: string[] = [];
  return { failures, unavailable: () => undefined, failed: (p, e) => failures.push(`${p}: ${e}`) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe('BudgetedReader', () => {
  it('waits for a fresh reading at most its budget, then keeps the last one and reports the overrun once', async () => {
    const r = recorder();
    const reader = new BudgetedReader('reader.memory', 50, 0, r);
    assert.equal(await reader.fresh(async () => 1), 1);
    const hung = deferred<number>();
    let calls = 0;
    const started = Date.now();
    const v = await reader.fresh(() => {
      calls++;
      return hung.promise;
    });
    const waited = Date.now() - started;
    assert.equal(v, 1, 'the last reading stands');
    assert.ok(waited >= 45 && waited < 400, `waited ${waited} ms for a 50 ms budget`);
    // The next tick does not start a second read while the first still runs, and does not report again.
    assert.equal(await reader.fresh(async () => 99), 1);
    assert.equal(calls, 1);
    assert.deepEqual(r.failures, [
      'reader.memory: over its 50 ms budget: abandoned, the last reading stands',
    ]);
    assert.equal(reader.overruns, 1);
    // The abandoned read's late result is dropped; the next read is taken.
    hung.resolve(42);
    await sleep(5);
    assert.equal(await reader.fresh(async () => 3), 3);
  });

  it('in the background: returns at once after the first reading, and refreshes only when asked', async () => {
    const reader = new BudgetedReader<number>('reader.gpu', 1000, 0, recorder());
    let n = 0;
    const slowRead = async () => {
      await sleep(30);
      return ++n;
    };
    assert.equal(await reader.background(false, slowRead), 1, 'the first reading is waited for');
    const t = Date.now();
    assert.equal(await reader.background(true, slowRead), 1, 'a refresh starts, the last reading returns');
    assert.ok(Date.now() - t < 20);
    await sleep(50);
    assert.equal(await reader.background(false, slowRead), 2);
    assert.equal(n, 2, 'no read started without a refresh');
  });

  it('a failing read is reported and the last reading stands', async () => {
    const r = recorder();
    const reader = new BudgetedReader('reader.processes', 100, 7, r);
    assert.equal(await reader.fresh(() => Promise.reject(new Error('ps: timed out after 4000 ms'))), 7);
    assert.deepEqual(r.failures, ['reader.processes: ps: timed out after 4000 ms']);
  });
});

describe('BudgetedProbe', () => {
  it('the 1 s memory reading never waits behind a process table or GPU read that hangs', async () => {
    const hang = deferred<ProcessEntry[]>();
    let memoryReads = 0;
    const inner: PlatformProbe = {
      platform: 'darwin',
      spawnCount: 0,
      readMemory: async (): Promise<MemoryReading> => ({
        ...emptyMemory(),
        total: 1000,
        free: ++memoryReads,
      }),
      readGpu: () => new Promise(() => undefined), // an ioreg that never returns
      listProcesses: () => hang.promise,
      readProcessStats: async () => new Map(),
      identity: () => Promise.reject(new Error('unused')),
    };
    const r = recorder();
    const probe = new BudgetedProbe(inner, r, emptyMemory(), emptyGpu(), {
      memoryMs: 100,
      gpuMs: 60,
      processesMs: 60,
      statsMs: 60,
    });
    // The first slow tick waits at most the budgets for the first readings...
    const t0 = Date.now();
    await Promise.all([probe.readMemory(true), probe.readGpu(true), probe.listProcesses(true)]);
    assert.ok(Date.now() - t0 < 400, `first tick took ${Date.now() - t0} ms`);
    // ...and every later tick reads memory without waiting for them.
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      const [mem] = await Promise.all([
        probe.readMemory(false),
        probe.readGpu(true),
        probe.listProcesses(true),
      ]);
      assert.ok(Date.now() - t < 50, `tick ${i} waited ${Date.now() - t} ms`);
      assert.equal(mem.free, i + 2, 'a fresh memory reading each tick');
    }
    assert.ok(r.failures.some((f) => f.startsWith('reader.gpu: over its 60 ms budget')));
    assert.ok(r.failures.some((f) => f.startsWith('reader.processes: over its 60 ms budget')));
    assert.equal(probe.overruns['reader.memory'], 0);
  });
});
