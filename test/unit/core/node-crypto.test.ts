import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { randomBytesFromOs, sameSecret } from '../../../src/main/core/util/node-crypto.js';

// The built module in a plain node: tsx itself loads node:crypto.
const moduleUrl = new URL('../../../dist/main/core/util/node-crypto.js', import.meta.url).href;

describe('random bytes from the OS', () => {
  it('gives the length asked for, never the same twice, every byte value about equally often', () => {
    for (const n of [0, 1, 4, 16, 24, 4096]) assert.equal(randomBytesFromOs(n).length, n);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(randomBytesFromOs(16).toString('hex'));
    assert.equal(seen.size, 2000);
    // 256 KiB: each byte value expected 1024 times, sd 32; a stuck or biased source lands far outside.
    const counts = new Array<number>(256).fill(0);
    for (const b of randomBytesFromOs(256 * 1024)) counts[b]!++;
    assert.ok(
      Math.min(...counts) > 850 && Math.max(...counts) < 1200,
      `counts ${Math.min(...counts)}..${Math.max(...counts)}`,
    );
  });

  it('falls back to node:crypto when the device is missing or gives nothing', () => {
    for (const device of [join('/nonexistent', 'urandom'), '/dev/null']) {
      const a = randomBytesFromOs(32, device);
      const b = randomBytesFromOs(32, device);
      assert.equal(a.length, 32);
      assert.notDeepEqual(a, b, device);
      assert.notDeepEqual(a, Buffer.alloc(32), device);
    }
  });
});

describe('sameSecret', () => {
  it('is true only for the same bytes', () => {
    const want = Buffer.from('a'.repeat(32));
    assert.equal(sameSecret(Buffer.from('a'.repeat(32)), want), true);
    assert.equal(sameSecret(Buffer.from(`${'a'.repeat(31)}b`), want), false);
    assert.equal(sameSecret(Buffer.from(`b${'a'.repeat(31)}`), want), false);
    assert.equal(sameSecret(Buffer.from('a'.repeat(31)), want), false);
    assert.equal(sameSecret(Buffer.from('a'.repeat(33)), want), false);
    assert.equal(sameSecret(Buffer.alloc(0), want), false);
    assert.equal(sameSecret(Buffer.alloc(0), Buffer.alloc(0)), true);
  });
});

describe('node:crypto is loaded only when first needed', () => {
  it('random bytes leave it unloaded; a secret compare loads it', () => {
    const script = `
      const { randomBytesFromOs, sameSecret } = await import(${JSON.stringify(moduleUrl)});
      const loaded = () => process.moduleLoadList.includes('NativeModule crypto');
      const before = loaded();
      randomBytesFromOs(24);
      const afterRandom = loaded();
      const same = sameSecret(Buffer.from('x'), Buffer.from('x'));
      console.log(JSON.stringify({ before, afterRandom, same, afterCompare: loaded() }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
      before: false,
      afterRandom: false,
      same: true,
      afterCompare: true,
    });
  });
});
