import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

describe('the data directory the daemon creates', () => {
  const dir = tempDir('exo-sentinel-mode-');
  after(() => dir.cleanup());

  it('is private (0700), whatever the umask lets others read', async () => {
    const data = join(dir.path, 'new', 'data');
    const r = await runCli(['daemon', '--once', '--data-dir', data, '--exo-url', 'http://127.0.0.1:9']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(data).mode & 0o777, 0o700);
    assert.ok(statSync(join(data, 'timeline.db')).isFile());
  });
});
