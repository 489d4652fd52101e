import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

describe("the daemon's log directory", () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('rotates the agent stdout/stderr files past 1 MiB at start and logs to exo-sentinel.log beside them', async () => {
    const dataDir = join(dir.path, 'data');
    const logs = join(dataDir, 'logs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'launchd.err.log'), 'e'.repeat(1024 * 1024 + 1));
    writeFileSync(join(logs, 'launchd.out.log'), 'small\n');
    const r = await runCli(['daemon', '--once', '--data-dir', dataDir, '--reports-dir', join(dir.path, 'r')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(logs).sort(), [
      'exo-sentinel.log',
      'launchd.err.1.log',
      'launchd.err.log',
      'launchd.out.log',
    ]);
    assert.equal(statSync(join(logs, 'launchd.err.1.log')).size, 1024 * 1024 + 1);
    assert.equal(statSync(join(logs, 'launchd.err.log')).size, 0);
    assert.equal(readFileSync(join(logs, 'launchd.out.log'), 'utf8'), 'small\n', 'under the size: untouched');
    const first = JSON.parse(readFileSync(join(logs, 'exo-sentinel.log'), 'utf8').split('\n')[0]!) as {
      pid: number;
    };
    assert.equal(typeof first.pid, 'number');
  });
});
