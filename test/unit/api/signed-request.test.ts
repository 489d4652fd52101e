import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { portOf } from '../../../src/main/core/api/request-origin.js';
import {
  NonceLedger,
  SIGNED_SCHEME,
  SIGNED_WINDOW_MS,
  signRequest,
  verifySigned,
} from '../../../src/main/core/api/signed-request.js';

const TOKEN = 'a-cluster-token-of-32-characters';
const READ = { method: 'GET', target: '/api/v1/status', host: '10.0.0.2:52417' };
const NOW = 1_800_000_000_000;

describe('signed reads between cluster nodes', () => {
  it('a signature checks out once, for that request, and never carries the token', () => {
    const ledger = new NonceLedger();
    const header = signRequest(TOKEN, READ, NOW);
    assert.ok(!header.includes(TOKEN));
    assert.match(header, /^ExoSentinel-HMAC-SHA256 t=\d+, n=[0-9a-f]{32}, s=[0-9a-f]{64}$/);
    assert.deepEqual(verifySigned(header, READ, TOKEN, NOW + 500, ledger), { ok: true });
    const again = verifySigned(header, READ, TOKEN, NOW + 600, ledger);
    assert.equal(again?.ok, false);
    assert.match((again as { reason: string }).reason, /replayed/);
    // Two signatures of the same request differ (their nonces do).
    assert.notEqual(signRequest(TOKEN, READ, NOW), signRequest(TOKEN, READ, NOW));
  });

  it('refuses it for another path, query, host, method or token', () => {
    const header = signRequest(TOKEN, READ, NOW);
    const others = [
      { ...READ, target: '/api/v1/config' },
      { ...READ, target: '/api/v1/status?x=1' },
      { ...READ, host: '10.0.0.3:52417' },
      { ...READ, method: 'HEAD' },
    ];
    for (const what of others) {
      const r = verifySigned(header, what, TOKEN, NOW, new NonceLedger());
      assert.deepEqual(
        r,
        { ok: false, reason: 'wrong signature (another cluster token, or signed for another host?)' },
        what.target,
      );
    }
    const wrongToken = verifySigned(header, READ, `${TOKEN}x`, NOW, new NonceLedger());
    assert.equal(wrongToken?.ok, false);
  });

  it('takes reads only: a signed POST is refused even with a good signature', () => {
    const post = { ...READ, method: 'POST', target: '/api/v1/guard' };
    const r = verifySigned(signRequest(TOKEN, post, NOW), post, TOKEN, NOW, new NonceLedger());
    assert.deepEqual(r, { ok: false, reason: 'a signed request may only read (GET, HEAD), not POST' });
  });

  it('refuses a time outside the window and says by how much', () => {
    const ledger = new NonceLedger();
    const old = signRequest(TOKEN, READ, NOW - SIGNED_WINDOW_MS - 5000);
    assert.deepEqual(verifySigned(old, READ, TOKEN, NOW, ledger), {
      ok: false,
      reason: 'signed 125 s ago; clocks must agree within 120 s',
    });
    const ahead = signRequest(TOKEN, READ, NOW + SIGNED_WINDOW_MS + 1000);
    assert.match((verifySigned(ahead, READ, TOKEN, NOW, ledger) as { reason: string }).reason, /121 s ahead/);
    // At the edge of the window it is still good.
    const edge = signRequest(TOKEN, READ, NOW - SIGNED_WINDOW_MS);
    assert.deepEqual(verifySigned(edge, READ, TOKEN, NOW, ledger), { ok: true });
    assert.equal(ledger.size, 1, 'refused requests leave no nonce behind');
  });

  it('leaves other schemes to the bearer check and refuses malformed signed headers', () => {
    const ledger = new NonceLedger();
    assert.equal(verifySigned(undefined, READ, TOKEN, NOW, ledger), null);
    assert.equal(verifySigned(`Bearer ${TOKEN}`, READ, TOKEN, NOW, ledger), null);
    const good = signRequest(TOKEN, READ, NOW);
    for (const bad of [
      `${SIGNED_SCHEME} `,
      good.replace(', n=', ',n='),
      good.replace(/s=[0-9a-f]{64}/, 's=00'),
      good.replace(/t=\d+/, 't=1e12'),
      `${good} `,
      good.toUpperCase().replace('EXOSENTINEL-HMAC-SHA256', SIGNED_SCHEME),
    ])
      assert.deepEqual(verifySigned(bad, READ, TOKEN, NOW, ledger), {
        ok: false,
        reason: `malformed ${SIGNED_SCHEME} header`,
      });
  });

  it('remembers nonces only for the window, and refuses rather than forgets when full', () => {
    const ledger = new NonceLedger(3);
    for (let i = 0; i < 3; i++)
      assert.deepEqual(verifySigned(signRequest(TOKEN, READ, NOW), READ, TOKEN, NOW, ledger), { ok: true });
    const fourth = verifySigned(signRequest(TOKEN, READ, NOW), READ, TOKEN, NOW + 1, ledger);
    assert.equal(fourth?.ok, false);
    assert.equal(ledger.size, 3);
    // Once the first three are past the window, there is room again.
    const later = NOW + SIGNED_WINDOW_MS + 1;
    assert.deepEqual(verifySigned(signRequest(TOKEN, READ, later), READ, TOKEN, later, ledger), { ok: true });
    assert.equal(ledger.size, 1);
  });

  it('no header an outsider can write verifies, throws or fills the ledger', () => {
    const ledger = new NonceLedger();
    const header = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ maxLength: 300 }).map((s) => `${SIGNED_SCHEME} ${s}`),
      fc
        .tuple(fc.nat(), fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{64}$/))
        .map(([t, n, s]) => `${SIGNED_SCHEME} t=${NOW + (t % 1000)}, n=${n}, s=${s}`),
    );
    fc.assert(
      fc.property(header, (h) => {
        const r = verifySigned(h, READ, TOKEN, NOW, ledger);
        return r === null || r.ok === false;
      }),
      { numRuns: 2000 },
    );
    assert.equal(ledger.size, 0);
  });
});

describe('the port a Host header names', () => {
  it('reads names, IPv4 and IPv6 with and without a port (80 when none), and nothing else', () => {
    assert.equal(portOf('127.0.0.1:52417'), 52417);
    assert.equal(portOf('studio.local'), 80);
    assert.equal(portOf('[::1]:8080'), 8080);
    assert.equal(portOf('[::1]'), 80);
    assert.equal(portOf('a:b:c'), null);
    assert.equal(portOf('host:'), null);
  });
});
