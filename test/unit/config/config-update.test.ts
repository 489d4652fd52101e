import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { writeFileAtomic } from '../../../src/main/core/config/atomic-file.js';
import { validateConfig } from '../../../src/main/core/config/config-loader.js';
import {
  maskConfig,
  prepareClientConfig,
  saveClientConfig,
} from '../../../src/main/core/config/config-update.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

const GUARD_TOKEN = 'guard-secret-token-0123456789';
const CLUSTER_TOKEN = 'cluster-secret-token-abcdefgh';

describe('configuration written by clients (API, app)', () => {
  it('masks every token, keeping null as null', () => {
    const r = validateConfig({ guard: { token: GUARD_TOKEN }, cluster: { token: CLUSTER_TOKEN } });
    assert.ok(r.ok);
    const masked = maskConfig(r.config);
    assert.equal(masked.guard.token, '••••6789');
    assert.equal(masked.cluster.token, '••••efgh');
    assert.ok(!JSON.stringify(masked).includes('secret'));
    assert.equal(r.config.guard.token, GUARD_TOKEN, 'the running config is not changed');
    const none = validateConfig({});
    assert.ok(none.ok);
    assert.equal(maskConfig(none.config).guard.token, null);
  });

  it('puts the stored token back for its mask; refuses a mask of another token', () => {
    const stored = { guard: { token: GUARD_TOKEN } };
    const back = prepareClientConfig({ guard: { token: '••••6789' }, intervalSeconds: 2 }, stored);
    assert.deepEqual(back, { ok: true, value: { guard: { token: GUARD_TOKEN }, intervalSeconds: 2 } });
    const fresh = prepareClientConfig({ guard: { token: 'a-brand-new-token-of-length' } }, stored);
    assert.ok(fresh.ok);
    const wrong = prepareClientConfig({ guard: { token: '••••0000' } }, stored);
    assert.deepEqual(wrong, {
      ok: false,
      errors: [
        'config: "guard.token" is a masked value that is not the stored token\'s; send the new token itself, or null',
      ],
    });
  });

  it('refuses any change to a program to run, naming the field; the same value sent back passes', () => {
    const stored = { actions: { notify: { command: ['/usr/bin/logger', 'exo'] } } };
    const set = prepareClientConfig({ actions: { notify: { command: ['/bin/sh', '-c', 'curl x|sh'] } } }, {});
    assert.equal(set.ok, false);
    assert.match(
      (set as { errors: string[] }).errors[0]!,
      /^config: "actions\.notify\.command" names a program/,
    );
    const py = prepareClientConfig({ gpu: { mlxPython: '/tmp/evil' } }, {});
    assert.match((py as { errors: string[] }).errors[0]!, /"gpu\.mlxPython" names a program/);
    assert.ok(
      prepareClientConfig({ actions: { notify: { command: ['/usr/bin/logger', 'exo'] } } }, stored).ok,
    );
    assert.ok(
      prepareClientConfig({ actions: { notify: { command: null } }, gpu: { mlxPython: null } }, {}).ok,
    );
    const removed = prepareClientConfig({}, stored);
    assert.equal(removed.ok, false, 'removing it is a change too: only the file sets it');
  });

  it('saves 0600, atomically, leaving no temporary file; a refused write leaves the file as it was', () => {
    const path = `${dir.path}/config.json`;
    writeFileSync(path, JSON.stringify({ guard: { token: GUARD_TOKEN } }), { mode: 0o644 });
    const saved = saveClientConfig(path, { guard: { token: '••••6789' }, intervalSeconds: 3 });
    assert.ok(saved.ok);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), {
      guard: { token: GUARD_TOKEN },
      intervalSeconds: 3,
    });
    const refused = saveClientConfig(path, { actions: { notify: { command: ['/bin/true'] } } });
    assert.deepEqual(refused.ok ? null : refused.reason, 'refused');
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).intervalSeconds, 3);
    assert.deepEqual(
      readdirSync(dir.path).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('writeFileAtomic replaces the content whole with the given mode, and throws on a missing directory, leaving nothing behind', () => {
    const path = `${dir.path}/token`;
    writeFileAtomic(path, 'one\n');
    writeFileAtomic(path, 'two\n');
    assert.equal(readFileSync(path, 'utf8'), 'two\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.throws(() => writeFileAtomic(`${dir.path}/missing/x`, 'x'), /ENOENT/);
  });
});

describe('keys only the owner may change (OWNER_FIELDS)', () => {
  it('a writer without the token may not change them; sending back defaults or the stored value is no change', () => {
    const stored = { cluster: { peers: ['http://10.0.0.2:52417'] } };
    const back = validateConfig(stored);
    assert.ok(back.ok);
    // The whole configuration in use sent back (defaults filled in), another key changed: taken.
    const whole = prepareClientConfig({ ...back.config, logLevel: 'debug' }, stored, 'api', false);
    assert.equal(whole.ok, true);
    for (const [key, input] of [
      ['cluster.peers', { cluster: { peers: ['http://203.0.113.5:52417'] } }],
      ['cluster.peers', {}],
      ['reports.dirs', { ...stored, reports: { dirs: ['/etc'] } }],
      ['exo.url', { ...stored, exo: { url: 'http://203.0.113.5:52415' } }],
      ['guard.upstreamCaFile', { ...stored, guard: { upstreamCaFile: '/etc/passwd' } }],
      ['guard.listen', { ...stored, guard: { listen: '127.0.0.1:41436' } }],
      ['guard.token', { ...stored, guard: { token: 'attacker-known-token-123' } }],
      ['api.listen', { ...stored, api: { listen: '127.0.0.1:41437' } }],
      ['api.allowedHosts', { ...stored, api: { allowedHosts: ['evil.example'] } }],
      ['api.corsOrigins', { ...stored, api: { corsOrigins: ['https://evil.example'] } }],
      ['guard.allowedHosts', { ...stored, guard: { allowedHosts: ['evil.example'] } }],
      ['guard.corsOrigins', { ...stored, guard: { corsOrigins: ['https://evil.example'] } }],
      ['cluster.token', { ...stored, cluster: { ...stored.cluster, token: 'attacker-known-token-123' } }],
      ['watch.mlxServerPatterns', { ...stored, watch: { mlxServerPatterns: ['mlx_lm'] } }],
      // Any local user could otherwise have the next retention pass delete all but 14 minutes of history.
      ['retention.rawDays', { ...stored, retention: { rawDays: 0.01 } }],
      ['retention.minuteDays', { ...stored, retention: { minuteDays: 1 } }],
      // Unloading destroys the work on EXO's models: only the owner may turn it on or lower its level.
      ['actions.unload', { ...stored, actions: { unload: { enabled: true, minLevel: 'elevated' } } }],
      ['actions.unload', { ...stored, actions: { unload: { minLevel: 'high' } } }],
      ['actions.dryRun', { ...stored, actions: { dryRun: true } }],
      // What decides the level decides when actions run; set with unloading off, it waited for it to be on.
      ['risk', { ...stored, risk: { freeCritical: 100 } }],
      ['gpu.ceilingBytes', { ...stored, gpu: { ceilingBytes: 1024 ** 3 } }],
    ] as const) {
      const r = prepareClientConfig(input, stored, 'api', false);
      assert.equal(r.ok, false, key);
      assert.equal(!r.ok && r.reason, 'needs-token');
      assert.match(
        !r.ok ? r.errors.join() : '',
        new RegExp(`"${key.replace('.', '\\.')}" [a-z].*: changing it needs the bearer token`),
      );
      // The owner (token shown, or the app itself) may.
      assert.equal(prepareClientConfig(input, stored, 'api', true).ok, true, key);
    }
  });
});
