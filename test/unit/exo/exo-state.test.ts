import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { parseExoLogLine } from '../../../src/main/core/exo/exo-log-parser.js';
import { ExoLogTail } from '../../../src/main/core/exo/exo-log-tail.js';
import { diffSnapshots, type ExoSnapshot, emptySnapshot } from '../../../src/main/core/exo/exo-monitor.js';
import {
  detectFailures,
  parseInstances,
  parseNodeIdentities,
  parseNodeMemory,
  parseRunners,
  parseTasks,
} from '../../../src/main/core/exo/exo-state-parser.js';
import { fixture } from '../../support/fixtures.js';
import { tempDir } from '../../support/temp-dir.js';

const ring = JSON.parse(fixture('exo/state-2node-ring-pipeline-running.json'));
const jaccl = JSON.parse(fixture('exo/state-subpaths-jaccl-tensor.json'));
const dir = tempDir();
after(dir.cleanup);

describe("EXO's /state shapes (fixtures/exo)", () => {
  it('reads a pipeline MlxRingInstance: shards, layer ranges, node of each runner, the model card', () => {
    const [i] = parseInstances(ring.instances);
    assert.ok(i);
    assert.equal(i.kind, 'MlxRingInstance');
    assert.equal(i.modelId, 'mlx-community/Qwen3-Coder-Next-4bit');
    assert.deepEqual(
      i.shards.map((s) => [s.runnerId, s.nodeId, s.kind, s.startLayer, s.endLayer, s.worldSize]),
      [
        ['a1d2c3b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d', '3f9a1c2e7b4d4a6f9e0c1b2a3d4e5f60', 'pipeline', 0, 33, 2],
        ['c9b8a7d6-e5f4-4321-9abc-def012345678', 'b7c4e2a19d3f4c5b8a6e7d0f1c2b3a49', 'pipeline', 33, 48, 2],
      ],
    );
    assert.deepEqual(i.shards[0]?.card, {
      modelId: 'mlx-community/Qwen3-Coder-Next-4bit',
      nLayers: 48,
      hiddenSize: 2048,
      numKeyValueHeads: 2,
      storageBytes: 45644286500,
      contextLength: 262144,
      quantization: '4bit',
    });
  });

  it('reads a tensor MlxJacclInstance and runner states, including RunnerFailed with diagnostics', () => {
    const [i] = parseInstances(jaccl['GET /state/instances']);
    assert.equal(i?.kind, 'MlxJacclInstance');
    assert.ok(i?.shards.every((s) => s.kind === 'tensor' && s.worldSize === 2));
    const runners = parseRunners(jaccl['GET /state/runners']);
    assert.deepEqual(
      runners.map((r) => r.status),
      ['RunnerFailed', 'RunnerLoading', 'RunnerReady', 'RunnerShuttingDown'],
    );
    assert.equal(runners[0]?.errorMessage, 'Terminated (signal=6 (Abort trap: 6))');
    assert.match(
      runners[0]?.diagnostics[0] ?? '',
      /^RunnerMetalGpuTimeout: Metal GPU timeout: \[METAL\] Command buffer execution failed/,
    );
    assert.deepEqual([runners[1]?.layersLoaded, runners[1]?.totalLayers], [27, 62]);
    const failures = detectFailures(parseInstances(jaccl['GET /state/instances']), runners);
    assert.equal(failures[0]?.kind, 'runner-failed');
    assert.equal(failures[0]?.kind === 'runner-failed' && failures[0].signal, 6);
  });

  it('reads tasks without keeping the prompt: only its length', () => {
    const [t] = parseTasks(ring.tasks);
    assert.deepEqual(t, {
      taskId: 'f0e1d2c3-b4a5-4968-8776-655443322110',
      kind: 'TextGeneration',
      status: 'Running',
      instanceId: '6e0f6c8a-3b1d-4c2e-9f7a-2d5b8c1e4a90',
      commandId: '2b7d9e41-0c3a-4f58-b6e2-91a4c7d35e08',
      model: 'mlx-community/Qwen3-Coder-Next-4bit',
      maxOutputTokens: null,
      inputChars:
        ring.tasks['f0e1d2c3-b4a5-4968-8776-655443322110'].TextGeneration.taskParams.input[0].content.length,
      stream: true,
    });
    assert.ok(!JSON.stringify(t).includes('ELIDED'), 'no prompt text');
    assert.deepEqual(parseTasks(jaccl['GET /state/tasks (empty when idle; finished tasks are deleted)']), []);
  });

  it('reads node memory ({"inBytes"}) and identities', () => {
    const m = parseNodeMemory(ring.nodeMemory);
    assert.deepEqual(m['3f9a1c2e7b4d4a6f9e0c1b2a3d4e5f60'], {
      ramTotal: 51539607552,
      ramAvailable: 3607772528,
      swapTotal: 2147483648,
      swapAvailable: 1181116006,
    });
    const single = parseNodeMemory({ x: jaccl['GET /state/nodeMemory/5d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6'] });
    assert.equal(single['x']?.ramTotal, 549755813888);
    assert.deepEqual(parseNodeIdentities(ring.nodeIdentities)['b7c4e2a19d3f4c5b8a6e7d0f1c2b3a49'], {
      modelId: 'Mac16,11',
      chipId: 'Apple M4 Pro',
      friendlyName: 'Lab',
      osVersion: '26.3.1',
      osBuildVersion: '25D2128',
    });
  });

  it('sees runners gone while the instance remains (requests would hang)', () => {
    const failures = detectFailures(parseInstances(ring.instances), []);
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.kind, 'runners-missing');
    assert.equal(failures[0]?.kind === 'runners-missing' && failures[0].missing.length, 2);
  });

  it('tolerates garbage without throwing', () => {
    for (const junk of [null, 42, 'x', [], { a: 1 }, { a: { B: 1 } }, { a: { B: {}, C: {} } }]) {
      assert.deepEqual(parseInstances(junk), []);
      assert.ok(Array.isArray(parseRunners(junk)));
      assert.ok(Array.isArray(parseTasks(junk)));
    }
  });
});

describe('snapshot changes become events', () => {
  const snap = (over: Partial<ExoSnapshot>): ExoSnapshot => ({
    ...emptySnapshot('http://x'),
    reachable: true,
    error: null,
    checkedAt: 1,
    nodeId: 'n1',
    ...over,
  });
  it('reports reachability, restarts, instances, runner states and failures once each', () => {
    const instances = parseInstances(ring.instances);
    const a = snap({ instances: [], runners: [] });
    const b = snap({ instances, runners: parseRunners(ring.runners) });
    assert.deepEqual(
      diffSnapshots(a, b).map((e) => e.kind),
      ['exo.instance-added', 'exo.runner-status', 'exo.runner-status'],
    );
    const failed = parseRunners({
      'a1d2c3b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d': {
        RunnerFailed: { errorMessage: 'Terminated (signal=9 (Killed))' },
      },
    });
    const c = snap({ instances, runners: failed, failures: detectFailures(instances, failed) });
    const evs = diffSnapshots(b, c);
    assert.deepEqual(
      evs.map((e) => [e.kind, e.severity]),
      [
        ['exo.runner-failed', 'error'],
        ['exo.runners-missing', 'error'],
      ],
    );
    assert.equal(diffSnapshots(c, c).length, 0, 'a failure is reported once');
    const down = { ...c, reachable: false, error: 'ECONNREFUSED' };
    assert.deepEqual(
      diffSnapshots(c, down).map((e) => e.kind),
      ['exo.unreachable'],
    );
    const back = { ...c, nodeId: 'n2' };
    assert.deepEqual(
      diffSnapshots(down, back).map((e) => e.kind),
      ['exo.reachable', 'exo.restarted'],
    );
  });
});

describe("EXO's log", () => {
  const line = (msg: string, level = 'INFO'): string =>
    `[ 2026-06-22 14:03:11.512 | ${level.padEnd(8)} | exo.worker.runner:run:42 ] ${msg}`;

  it('recognises the lines that matter, with their local time', () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['Wired limit set to 96.00 GB.', 'exo.wired-limit-set', { limit: '96.00 GB' }],
      ['KV cache evicted LRU entry (48211 tokens) due to memory usage', 'exo.kv-evicted', { tokens: 48211 }],
      ['KV cache added: 1200 tokens', 'exo.kv-added', { tokens: 1200 }],
      ['KV cache updated (index 3): 5000 tokens', 'exo.kv-updated', { index: 3, tokens: 5000 }],
      ['Starting prefill', 'exo.prefill-started', {}],
      [
        'Runner terminated with signal=9 (Killed)',
        'exo.runner-terminated',
        { detail: 'signal=9 (Killed)', signal: 9 },
      ],
      [
        'Starting node 3f9a1c2e7b4d4a6f9e0c1b2a3d4e5f60',
        'exo.node-started',
        { nodeId: '3f9a1c2e7b4d4a6f9e0c1b2a3d4e5f60' },
      ],
    ];
    for (const [msg, kind, data] of cases) {
      const e = parseExoLogLine(line(msg));
      assert.equal(e?.kind, kind, msg);
      assert.deepEqual({ ...e?.data, source: undefined }, { ...data, source: undefined });
      assert.equal(e?.time, new Date(2026, 5, 22, 14, 3, 11, 512).getTime());
    }
    assert.equal(parseExoLogLine(line('Serving on 0.0.0.0:52415')), null);
    assert.equal(parseExoLogLine('garbage'), null);
  });

  it('follows appends, a partial last line, and rotation on restart', () => {
    const path = `${dir.path}/exo.log`;
    writeFileSync(path, `${line('Wired limit set to 96.00 GB.')}\n${line('Starting prefill')}\n`);
    const tail = new ExoLogTail(path);
    assert.deepEqual(
      tail.poll().events.map((e) => e.kind),
      ['exo.wired-limit-set', 'exo.prefill-started'],
    );
    appendFileSync(path, line('KV cache evicted LRU entry (10 tokens) due to memory usage').slice(0, 40));
    assert.equal(tail.poll().events.length, 0, 'a half-written line waits');
    appendFileSync(path, `${line('KV cache evicted LRU entry (10 tokens) due to memory usage').slice(40)}\n`);
    assert.deepEqual(
      tail.poll().events.map((e) => e.kind),
      ['exo.kv-evicted'],
    );
    renameSync(path, `${dir.path}/exo.2026-06-22.log`);
    writeFileSync(path, `${line('Starting node abc')}\n`);
    const r = tail.poll();
    assert.equal(r.rotated, true);
    assert.deepEqual(
      r.events.map((e) => e.kind),
      ['exo.node-started'],
    );
    assert.deepEqual(new ExoLogTail(`${dir.path}/none.log`).poll(), {
      events: [],
      rotated: false,
      missing: true,
    });
  });

  it('a FIFO or a directory where the log should be is missing, and never holds the tick', () => {
    const fifo = `${dir.path}/fifo.log`;
    execFileSync('mkfifo', [fifo]);
    const started = performance.now();
    assert.equal(new ExoLogTail(fifo).poll().missing, true);
    mkdirSync(`${dir.path}/dir.log`);
    assert.equal(new ExoLogTail(`${dir.path}/dir.log`).poll().missing, true);
    assert.ok(performance.now() - started < 1000);
  });
});

describe('placement previews (GET /instance/previews)', () => {
  it('reads what each placement adds per node, and the placements EXO refuses', async () => {
    const { parsePlacementPreviews } = await import('../../../src/main/core/exo/exo-state-parser.js');
    const previews = parsePlacementPreviews(JSON.parse(fixture('exo/instance-previews.json')));
    assert.equal(previews.length, 3);
    assert.deepEqual(previews[0]?.memoryDeltaByNode, {
      '3f9a1c2e7b4d4a6f9e0c1b2a3d4e5f60': 22822143250,
      b7c4e2a19d3f4c5b8a6e7d0f1c2b3a49: 22822143250,
    });
    assert.equal(previews[0]?.instance?.shards.length, 2);
    assert.equal(
      (previews[0]?.memoryDeltaByNode?.['3f9a1c2e7b4d4a6f9e0c1b2a3d4e5f60'] ?? 0) * 2,
      45644286500,
      'storage split evenly',
    );
    assert.deepEqual(
      previews.slice(1).map((p) => [p.sharding, p.instanceMeta, p.error]),
      [
        ['Pipeline', 'MlxJaccl', 'Requested RDMA (MlxJaccl) but no RDMA-connected cycles available'],
        ['Tensor', 'MlxRing', 'No cycles found with sufficient memory'],
      ],
    );
  });
});
