import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
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

  it("the platform's directory made 0755 by an earlier version becomes 0700; one named by --data-dir stays", async () => {
    const home = join(dir.path, 'home');
    const standard =
      process.platform === 'darwin'
        ? join(home, 'Library', 'Application Support', 'exo-sentinel')
        : join(home, '.local', 'state', 'exo-sentinel');
    const chosen = join(dir.path, 'shared');
    for (const d of [standard, chosen]) {
      mkdirSync(d, { recursive: true });
      chmodSync(d, 0o755);
    }
    const env = {
      HOME: home,
      EXO_SENTINEL_HOME: undefined,
      XDG_STATE_HOME: undefined,
      XDG_CONFIG_HOME: undefined,
    };
    const own = await runCli(['daemon', '--once', '--exo-url', 'http://127.0.0.1:9'], env);
    assert.equal(own.code, 0, own.stderr);
    assert.equal(statSync(standard).mode & 0o777, 0o700);
    assert.match(own.stdout, /made .* private \(mode 0755 → 0700\)/);
    const other = await runCli(
      ['daemon', '--once', '--data-dir', chosen, '--exo-url', 'http://127.0.0.1:9'],
      env,
    );
    assert.equal(other.code, 0, other.stderr);
    assert.equal(statSync(chosen).mode & 0o777, 0o755);
  });
});
