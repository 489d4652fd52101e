import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { patchClientConfig } from '../../../src/main/core/config/config-patch.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

const TOKEN = 'cluster-secret-token-abcdefgh';
let n = 0;
/** A config file holding `content`; returns its path. */
function file(content: unknown): string {
  const p = `${dir.path}/config-${n++}.json`;
  writeFileSync(p, JSON.stringify(content));
  return p;
}
const read = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

describe('a change to some keys of the stored configuration (PATCH /api/v1/config)', () => {
  it('sets and removes the keys named and keeps every other key of the file as it was', () => {
    const p = file({ cluster: { token: TOKEN, peers: ['http://10.0.0.2:52417'] }, logLevel: 'debug' });
    const r = patchClientConfig(p, {
      set: { 'guard.queue.max': 4, intervalSeconds: 2 },
      unset: ['logLevel'],
    });
    assert.equal(r.ok, true);
    assert.deepEqual(read(p), {
      cluster: { token: TOKEN, peers: ['http://10.0.0.2:52417'] },
      guard: { queue: { max: 4 } },
      intervalSeconds: 2,
    });
  });

  it('a bad value is refused naming its key, and the file is not touched', () => {
    const p = file({ logLevel: 'warn' });
    const r = patchClientConfig(p, { set: { intervalSeconds: 500 } });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.errors.length === 1);
    assert.match(!r.ok ? r.errors[0]! : '', /^config: "intervalSeconds" is 500: /);
    assert.deepEqual(read(p), { logLevel: 'warn' });
  });

  it('refuses unknown keys, programs to run and a mask of another token; a new token or null is taken', () => {
    const p = file({ cluster: { token: TOKEN } });
    const unknown = patchClientConfig(p, { set: { 'guard.bogus': 1 } });
    assert.match(!unknown.ok ? unknown.errors[0]! : '', /unknown key "guard\.bogus"/);
    const program = patchClientConfig(p, { set: { 'actions.notify.command': ['/bin/sh'] } });
    assert.match(
      !program.ok ? program.errors[0]! : '',
      /"actions\.notify\.command" names a program to run and cannot be changed from here/,
    );
    const mask = patchClientConfig(p, { set: { 'cluster.token': '••••0000' } });
    assert.match(!mask.ok ? mask.errors[0]! : '', /"cluster\.token" is a masked value/);
    assert.deepEqual(read(p), { cluster: { token: TOKEN } });
    assert.equal(patchClientConfig(p, { set: { 'cluster.token': 'a-brand-new-token-0001' } }).ok, true);
    assert.deepEqual(read(p), { cluster: { token: 'a-brand-new-token-0001' } });
    assert.equal(patchClientConfig(p, { set: { 'cluster.token': null } }).ok, true);
    assert.deepEqual(read(p), { cluster: { token: null } });
  });

  it('refuses a body of another shape (a whole configuration, an array, too many keys)', () => {
    const p = file({});
    for (const body of [{ intervalSeconds: 2 }, [], 'x', { set: [] }, { unset: 'logLevel' }]) {
      const r = patchClientConfig(p, body);
      assert.equal(r.ok, false, JSON.stringify(body));
      assert.match(!r.ok ? r.errors[0]! : '', /a change is \{"set"/);
    }
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
    assert.equal(patchClientConfig(p, { set: many }).ok, false);
    assert.deepEqual(read(p), {});
  });

  it('a `__proto__` key in `set` is refused, not dropped into an empty change that rewrites the file', () => {
    const p = file({ logLevel: 'warn' });
    const before = readFileSync(p, 'utf8');
    const r = patchClientConfig(
      p,
      JSON.parse('{"set": {"__proto__": {"actions.notify.command": ["/bin/sh"]}}}'),
    );
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors, ['config: "__proto__" is not a configuration key']);
    assert.equal(readFileSync(p, 'utf8'), before);
  });

  it('a token the file holds is never quoted in a refusal, nor an object that holds one', () => {
    // A hand edit left the cluster token too short: the next change is refused without showing it.
    const p = file({ cluster: { token: 'hand-typed-sec' } });
    const r = patchClientConfig(p, { set: { 'guard.queue.max': 4 } });
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors, [
      'config: "cluster.token" is a secret (not shown): String must contain at least 16 character(s)',
    ]);
    const q = patchClientConfig(file({}), { set: { guard: { token: 'short-guard', queue: { max: -1 } } } });
    assert.ok(!q.ok && !q.errors.join().includes('short-guard'), JSON.stringify(q));
    const s = patchClientConfig(file({}), { set: { guard: 5 } });
    assert.deepEqual(!s.ok && s.errors, ['config: "guard" is 5: Expected object, received number']);
  });

  it('a refused key is quoted short, however long it was', () => {
    const r = patchClientConfig(file({}), { set: { [`actions.${'a'.repeat(4000)}`]: 1 } });
    assert.ok(!r.ok && r.errors.join().length < 400, JSON.stringify(r).length.toString());
  });
});
