import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { estimateCeiling } from '../../src/main/core/probes/ceiling-estimate.js';
import type { CommandRunner } from '../../src/main/core/probes/command-runner.js';
import { CeilingChain, MLX_DEVICE_INFO_CODE } from '../../src/main/core/probes/gpu-ceiling.js';
import { LinuxProbe } from '../../src/main/core/probes/linux/linux-probe.js';
import type { PlatformProbe } from '../../src/main/core/probes/probe-types.js';
import { Sampler } from '../../src/main/core/sampler.js';
import type { DatabaseConstructor } from '../../src/main/core/store/database.js';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { startFakeExoTree } from '../support/fake-exo-tree.js';
import { fixture } from '../support/fixtures.js';
import { machineMemoryTotal } from '../support/machine.js';
import { tempDir } from '../support/temp-dir.js';

const Driver = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;

interface Reason {
  signal: string;
  level: string;
  message: string;
}
interface StatusJson {
  gpu: { ceilingBytes: number | null; ceilingSource: string | null };
  risk: { now: { level: string; reasons: Reason[] }; daemon: { reasons: Reason[] } | null };
}

async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('the ceiling and its source on a real daemon (Linux: no Metal, so the estimate, flagged)', {
  skip: process.platform !== 'linux',
}, () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('status --json, the API status and timeline, and every stored tick carry ceilingSource; the reason says it is estimated', async () => {
    const dataDir = `${dir.path}/data`;
    const expected = estimateCeiling(machineMemoryTotal());
    const daemon = await startDaemon([
      '--data-dir',
      dataDir,
      '--interval',
      '0.5',
      '--reports-dir',
      `${dir.path}/r`,
    ]);
    let api: string | null = null;
    try {
      api = daemon.apiUrl();
      assert.ok(api, daemon.output());
      const s = await until('the daemon’s level in status', async () => {
        const r = await runCli(['status', '--json', '--data-dir', dataDir]);
        assert.equal(r.code, 0, r.stderr);
        const j = JSON.parse(r.stdout) as StatusJson;
        return j.risk.daemon ? j : null;
      });
      assert.deepEqual(s.gpu, { ...s.gpu, ceilingBytes: expected, ceilingSource: 'estimate' });
      for (const reasons of [s.risk.now.reasons, s.risk.daemon!.reasons]) {
        const r = reasons.find((x) => x.signal === 'ceiling-estimated');
        assert.equal(r?.level, 'ok');
        assert.match(
          r?.message ?? '',
          /^Metal ceiling estimated: [\d.]+ GiB = (2\/3|3\/4) of [\d.]+ GiB RAM/,
        );
        assert.match(r?.message ?? '', /doctor --probes/);
      }
      const text = await runCli(['status', '--data-dir', dataDir]);
      assert.match(text.stdout, /^gpu\s+in use —, allocated —, ceiling [\d.]+ GiB \(estimated from RAM\)/m);

      const status = (await (await fetch(`${api}/api/v1/status`)).json()) as {
        sample: { gpu: { ceilingSource: string } };
      };
      assert.equal(status.sample.gpu.ceilingSource, 'estimate');
      const now = Date.now();
      const page = (await (
        await fetch(`${api}/api/v1/timeline?from=${now - 60_000}&to=${now + 1000}`)
      ).json()) as { samples?: Array<{ gpu: { ceilingSource: string | null } }> };
      assert.ok((page.samples?.length ?? 0) > 0, JSON.stringify(page).slice(0, 300));
      assert.ok(page.samples!.every((x) => x.gpu.ceilingSource === 'estimate'));
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
    const db = new Driver(`${dataDir}/timeline.db`, { readonly: true });
    try {
      const rows = db
        .prepare(
          'SELECT gpu_ceiling_source AS source, gpu_ceiling AS ceiling, count(*) AS n FROM samples GROUP BY 1, 2',
        )
        .all() as Array<{ source: string | null; ceiling: number | null; n: number }>;
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.deepEqual({ ...rows[0], n: 0 }, { source: 'estimate', ceiling: expected, n: 0 });
      assert.ok(rows[0]!.n >= 2);
    } finally {
      db.close();
    }
  });
});

describe("EXO's own Python found in a real process tree (the probes on this machine, the Python answer captured)", {
  skip: process.platform !== 'linux',
}, () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('the runner of a source install and the frozen exo of EXO.app are asked once each, with an argument array', async () => {
    for (const kind of ['source', 'app'] as const) {
      const tree = await startFakeExoTree(`${dir.path}/${kind}`, { kind, runners: 1, runnerMiB: 8 });
      try {
        const calls: Array<[string, string[]]> = [];
        // No MLX here: the answer is the captured `mx.metal.device_info()` of an M2 Ultra (MLX PR #1060).
        const run: CommandRunner = async (file, args) => {
          calls.push([file, args]);
          return {
            ok: true,
            stdout: fixture('macos/metal/mx.metal.device_info.m2ultra-192gb.mlx-pr1060.txt'),
            stderr: '',
            exitCode: 0,
          };
        };
        const events = new EventCollector(() => Date.now());
        const probe: PlatformProbe = new LinuxProbe(events);
        const ours = new Set([tree.mainPid, ...tree.children.runners, tree.children.tracker]);
        probe.ceiling = {
          // Only this tree's processes (tests in parallel run trees of their own).
          resolve: (gpu, memory, watched) =>
            chain.resolve(
              gpu,
              // The RAM of the Mac the captured answer comes from (an answer above RAM is not believed).
              { ...memory, total: 192 * 1024 ** 3 },
              watched.filter((w) => ours.has(w.entry.pid)),
            ),
        };
        const chain = new CeilingChain(events, { platform: 'darwin', run });
        const sampler = new Sampler(probe, () => ({}));
        const first = await sampler.tick(Date.now(), true);
        assert.equal(first.sample.gpu.ceilingSource, 'estimate', 'the first tick does not wait');
        const later = await until('the Python’s answer', async () => {
          const t = await sampler.tick(Date.now(), true);
          return t.sample.gpu.ceilingSource === 'exo-python' ? t : null;
        });
        assert.equal(later.sample.gpu.ceilingBytes, 188743680000);
        const python =
          kind === 'source'
            ? `${tree.root}/exo-src/.venv/bin/python3`
            : `${tree.root}/EXO.app/Contents/Resources/exo/exo`;
        assert.deepEqual(calls, [[python, ['-c', MLX_DEVICE_INFO_CODE]]]);
        for (let i = 0; i < 3; i++) await sampler.tick(Date.now(), true);
        assert.equal(calls.length, 1, 'asked once');
      } finally {
        await tree.stop();
      }
    }
  });
});
