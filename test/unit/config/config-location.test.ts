import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configLocation, legacyConfigNotice } from '../../../src/main/core/config/data-dir.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

describe('where the configuration file lives', () => {
  it('Linux: $XDG_CONFIG_HOME/exo-sentinel/config.json, else ~/.config/exo-sentinel/config.json', () => {
    const env = { XDG_STATE_HOME: join(dir.path, 'state'), XDG_CONFIG_HOME: join(dir.path, 'conf') };
    const data = join(dir.path, 'state', 'exo-sentinel');
    assert.deepEqual(configLocation(data, env, 'linux'), {
      path: join(dir.path, 'conf', 'exo-sentinel', 'config.json'),
      preferred: join(dir.path, 'conf', 'exo-sentinel', 'config.json'),
      legacy: null,
    });
    const std = join(homedir(), '.local', 'state', 'exo-sentinel');
    assert.equal(
      configLocation(std, {}, 'linux').preferred,
      join(homedir(), '.config', 'exo-sentinel', 'config.json'),
    );
    // A relative XDG_CONFIG_HOME is ignored, as the XDG spec says.
    assert.equal(
      configLocation(std, { XDG_CONFIG_HOME: 'rel' }, 'linux').preferred,
      join(homedir(), '.config', 'exo-sentinel', 'config.json'),
    );
  });

  it('macOS: ~/Library/Application Support/exo-sentinel/config.json (the data directory itself)', () => {
    const data = join(homedir(), 'Library', 'Application Support', 'exo-sentinel');
    assert.deepEqual(configLocation(data, {}, 'darwin'), {
      path: join(data, 'config.json'),
      preferred: join(data, 'config.json'),
      legacy: null,
    });
  });

  it('a data directory of its own (--data-dir, EXO_SENTINEL_HOME) keeps config.json inside it', () => {
    assert.equal(
      configLocation('/srv/x', { EXO_SENTINEL_HOME: '/srv/x' }, 'linux').path,
      '/srv/x/config.json',
    );
    assert.equal(configLocation('/srv/y', {}, 'darwin').path, '/srv/y/config.json');
  });

  it('an old config.json in the data directory is used until the new one exists, and the notice says so', () => {
    const env = { XDG_STATE_HOME: join(dir.path, 's2'), XDG_CONFIG_HOME: join(dir.path, 'c2') };
    const data = join(dir.path, 's2', 'exo-sentinel');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'config.json'), '{}');
    const old = configLocation(data, env, 'linux');
    assert.equal(old.path, join(data, 'config.json'));
    assert.equal(old.legacy, join(data, 'config.json'));
    assert.match(
      legacyConfigNotice(old)!,
      /^the configuration is read from .*s2\/exo-sentinel\/config\.json, its old place; move it to .*c2\/exo-sentinel\/config\.json \(mkdir -p/,
    );
    mkdirSync(join(dir.path, 'c2', 'exo-sentinel'), { recursive: true });
    writeFileSync(join(dir.path, 'c2', 'exo-sentinel', 'config.json'), '{}');
    const both = configLocation(data, env, 'linux');
    assert.equal(both.path, both.preferred);
    assert.match(
      legacyConfigNotice(both)!,
      /s2\/exo-sentinel\/config\.json is ignored: the configuration is read from/,
    );
    assert.equal(legacyConfigNotice(configLocation('/srv/z', {}, 'linux')), null);
  });
});
