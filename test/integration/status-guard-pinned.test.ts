import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const cli = join(repoRoot, 'src', 'main', 'headless', 'cli.ts');

function run(dataDir: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', cli, '--data-dir', dataDir, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('status shows a pinned guard mode', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('guardOverride is null until `guard <mode>` pins it, then the pinned mode, then null after `guard auto`', () => {
    const before = JSON.parse(run(dir.path, 'status', '--json').stdout) as { guardOverride: unknown };
    assert.equal(before.guardOverride, null);

    const pin = run(dir.path, 'guard', 'refuse-new');
    assert.equal(pin.status, 0, pin.stderr);
    const pinned = JSON.parse(run(dir.path, 'status', '--json').stdout) as {
      guardOverride: unknown;
      guardMode: unknown;
    };
    assert.equal(pinned.guardOverride, 'refuse-new');
    assert.equal(typeof pinned.guardMode, 'string');

    assert.equal(run(dir.path, 'guard', 'auto').status, 0);
    const back = JSON.parse(run(dir.path, 'status', '--json').stdout) as { guardOverride: unknown };
    assert.equal(back.guardOverride, null);
  });
});
