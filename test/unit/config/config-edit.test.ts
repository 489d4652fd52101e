import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkKey,
  getKey,
  parseCliValue,
  setKey,
  unsetKey,
} from '../../../src/main/core/config/config-edit.js';
import { ConfigSchema } from '../../../src/main/core/config/config-schema.js';

describe('config get/set/unset by dotted key', () => {
  it('reads values as JSON when they parse, else as text', () => {
    assert.equal(parseCliValue('8192'), 8192);
    assert.equal(parseCliValue('null'), null);
    assert.deepEqual(parseCliValue('["/a"]'), ['/a']);
    assert.equal(parseCliValue('http://x:1'), 'http://x:1');
  });

  it('sets nested keys, keeping digits a string where only a string is valid', () => {
    const a = setKey({ guard: { listen: '127.0.0.1:1' } }, 'guard.contextCap', '8192');
    assert.ok(a.ok);
    assert.deepEqual(a.stored, { guard: { listen: '127.0.0.1:1', contextCap: 8192 } });
    const t = setKey({}, 'cluster.token', '12345678901234567890');
    assert.ok(t.ok);
    assert.equal(t.config.cluster.token, '12345678901234567890');
    const n = setKey({ guard: { contextCap: 4096 } }, 'guard.contextCap', 'null');
    assert.ok(n.ok && n.config.guard.contextCap === null);
  });

  it('refuses unknown keys and bad values, naming the key and the problem', () => {
    assert.deepEqual(setKey({}, 'guard.nope', '1'), {
      ok: false,
      errors: [
        'config set: unknown key "guard.nope"; guard.* is one of enabled, listen, token, allowedHosts, corsOrigins, contextCap, maxBodyBytes, queue, maxConnections, maxBufferedBodyBytes, upstreamHeadersSeconds, upstreamIdleSeconds, maxHeaderBytes, upstreamCaFile, loadCooldownSeconds, wakeHoldSeconds, retryAfterSeconds',
      ],
    });
    const bad = setKey({}, 'intervalSeconds', '0');
    assert.ok(!bad.ok);
    assert.match(bad.errors[0]!, /^config set: "intervalSeconds" is 0: /);
    assert.match(checkKey('__proto__') ?? '', /is not a configuration key/);
    assert.match(checkKey('guard..x') ?? '', /is not a configuration key/);
    assert.equal(checkKey('$schema'), null);
  });

  it('unset removes the key and empties parents; get masks secrets unless asked', () => {
    const u = unsetKey({ guard: { contextCap: 4096 }, logLevel: 'debug' }, 'guard.contextCap');
    assert.ok(u.ok);
    assert.deepEqual(u.stored, { logLevel: 'debug' });
    const cfg = ConfigSchema.parse({ guard: { token: 'abcdefghijklmnop-1234' } });
    assert.deepEqual(getKey(cfg, 'guard.token', false), { ok: true, value: '••••1234' });
    assert.deepEqual(getKey(cfg, 'guard.token', true), { ok: true, value: 'abcdefghijklmnop-1234' });
    const all = getKey(cfg, undefined, false);
    assert.ok(all.ok && !JSON.stringify(all.value).includes('abcdefghijklmnop'));
    assert.deepEqual(getKey(cfg, 'risk.weights.churn', false), { ok: true, value: 1 });
    assert.equal(getKey(cfg, 'nope', false).ok, false);
  });

  it('never throws on any key and value; whatever it accepts validates', () => {
    const key = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(
        'guard.contextCap',
        'risk.weights.churn',
        'api',
        'guard.queue',
        '$schema',
        'constructor',
        'a.b.c.d.e.f.g.h.i',
      ),
    );
    fc.assert(
      fc.property(key, fc.oneof(fc.string({ maxLength: 30 }), fc.json({ maxDepth: 2 })), (k, v) => {
        const r = setKey({}, k, v);
        if (r.ok) assert.ok(ConfigSchema.safeParse(r.stored).success);
        else assert.ok(r.errors.length > 0 && r.errors.every((e) => e.startsWith('config set: ')));
      }),
      { numRuns: 1500 },
    );
  });
});
