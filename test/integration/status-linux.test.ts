import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli-runner.js';
import { type FakeExoTree, startFakeExoTree } from '../support/fake-exo-tree.js';
import { machineMemoryTotal } from '../support/machine.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;

interface StatusJson {
  time: number;
  memory: Record<string, number | null>;
  gpu: Record<string, number | null>;
  processes: Array<{
    pid: number;
    ppid: number;
    role: string;
    startTime: number;
    physFootprint: number;
    rss: number;
    cpuPercent: number | null;
    threads: number;
    argv: string[];
  }>;
  unavailable: Array<{ field: string; reason: string }>;
  daemon: { running: boolean };
}

describe('exo-sentinel status --json on this machine', () => {
  const dir = tempDir();
  let app: FakeExoTree;
  let source: FakeExoTree;

  before(async () => {
    app = await startFakeExoTree(`${dir.path}/app`, { kind: 'app', runners: 2, runnerMiB: 96 });
    source = await startFakeExoTree(`${dir.path}/src`, { kind: 'source', runners: 1, runnerMiB: 32 });
  });
  after(async () => {
    await app?.stop();
    await source?.stop();
    dir.cleanup();
  });

  it('prints real memory figures and finds both EXO trees with their roles and footprints', async () => {
    const r = await runCli(['status', '--json', '--data-dir', `${dir.path}/data`]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as StatusJson;
    assert.equal(s.memory['total'], machineMemoryTotal());
    assert.ok(s.memory['freePercent']! > 0 && s.memory['freePercent']! <= 100);
    assert.ok(s.memory['free']! > 0 && s.memory['free']! < s.memory['total']!);
    if (process.platform === 'linux') {
      assert.equal(s.gpu['inUseBytes'], null, 'no made-up GPU number on Linux');
      assert.ok(s.unavailable.some((u) => u.field === 'gpu'));
    } else if (s.gpu['inUseBytes'] === null)
      // A Mac (or a virtual one) whose IOAccelerator has no statistics says so rather than guessing.
      assert.ok(
        s.unavailable.some((u) => u.field.startsWith('gpu')),
        JSON.stringify(s.unavailable),
      );
    else assert.ok(s.gpu['inUseBytes']! >= 0);
    assert.equal(s.daemon.running, false);

    const role = (pid: number | null) => s.processes.find((p) => p.pid === pid)?.role;
    assert.equal(role(app.mainPid), 'exo-main');
    for (const pid of app.children.runners) assert.equal(role(pid), 'exo-runner');
    assert.equal(role(app.children.macmon), 'exo-macmon');
    assert.equal(role(app.children.tracker), 'exo-resource-tracker');
    assert.equal(role(source.mainPid), 'exo-main');
    assert.equal(role(source.children.runners[0]!), 'exo-runner');
    assert.equal(role(source.children.tracker), 'exo-resource-tracker');

    const runner = s.processes.find((p) => p.pid === app.children.runners[0])!;
    assert.equal(runner.ppid, app.mainPid);
    assert.ok(
      runner.physFootprint >= 90 * MiB,
      `runner footprint ${runner.physFootprint} should hold its 96 MiB`,
    );
    assert.ok(runner.rss >= 90 * MiB);
    assert.ok(runner.threads >= 1);
    assert.ok(Math.abs(runner.startTime - Date.now()) < 120_000, 'start time is an epoch ms near now');
    assert.ok(runner.argv.includes('--multiprocessing-fork'));
    const small = s.processes.find((p) => p.pid === source.children.runners[0])!;
    assert.ok(small.physFootprint >= 30 * MiB && small.physFootprint < 90 * MiB);
    // Nothing else on the machine is taken for EXO: any other process found belongs to a fake tree of a
    // test running in parallel (its binaries live under a test temp directory).
    const ours = new Set([
      app.mainPid,
      ...app.children.runners,
      app.children.macmon,
      app.children.tracker,
      source.mainPid,
      ...source.children.runners,
      source.children.tracker,
    ]);
    const strangers = s.processes.filter(
      (p) => !ours.has(p.pid) && !p.argv.some((a) => a.includes('exo-sentinel-test-')),
    );
    assert.deepEqual(strangers, []);
  });

  it('prints a readable reading without --json', async () => {
    const r = await runCli(['status', '--data-dir', `${dir.path}/data`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^memory\s+total [\d.]+ GiB, free [\d.]+%/m);
    assert.match(r.stdout, new RegExp(`^\\s+${app.mainPid}\\s+\\d+\\s+exo-main`, 'm'));
    assert.match(r.stdout, /daemon\s+not running/);
  });

  it('rejects unknown flags and bad values with exit code 2', async () => {
    const unknown = await runCli(['status', '--jsn']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--jsn'/);
    const bad = await runCli(['daemon', '--interval', 'fast', '--data-dir', `${dir.path}/x`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--interval <seconds>.*expected a number from 0.1 to 60, got "fast"/);
    const cmd = await runCli(['frobnicate']);
    assert.equal(cmd.code, 2);
  });
});
