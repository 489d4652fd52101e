import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DAEMON_LOG, logDir, paths } from '../../../src/main/core/config/data-dir.js';

describe('one log location per platform', () => {
  it('macOS: ~/Library/Logs/exo-sentinel for the standard data directory', () => {
    const data = join(homedir(), 'Library', 'Application Support', 'exo-sentinel');
    assert.equal(logDir(data, {}, 'darwin'), join(homedir(), 'Library', 'Logs', 'exo-sentinel'));
  });

  it('Linux: $XDG_STATE_HOME/exo-sentinel/log, else ~/.local/state/exo-sentinel/log', () => {
    assert.equal(
      logDir('/srv/state/exo-sentinel', { XDG_STATE_HOME: '/srv/state' }, 'linux'),
      '/srv/state/exo-sentinel/log',
    );
    const data = join(homedir(), '.local', 'state', 'exo-sentinel');
    assert.equal(logDir(data, {}, 'linux'), join(data, 'log'));
  });

  it('a data directory of its own (--data-dir, EXO_SENTINEL_HOME) keeps its logs inside it', () => {
    assert.equal(logDir('/tmp/x', { EXO_SENTINEL_HOME: '/tmp/x' }, 'darwin'), '/tmp/x/logs');
    assert.equal(logDir('/tmp/y', {}, 'linux'), '/tmp/y/logs');
    assert.equal(paths('/tmp/y').logFile, `/tmp/y/logs/${DAEMON_LOG}`);
  });
});
