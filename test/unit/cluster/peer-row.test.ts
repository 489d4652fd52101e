import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { rowFromStatus } from '../../../src/main/core/cluster/cluster-view.js';
import { renderCluster } from '../../../src/main/headless/commands/cluster-command.js';

const PEER = 'http://10.0.0.2:52417';

describe("a peer's status, read as untrusted JSON", () => {
  it('keeps reasons that are reasons, a level that is a level, and short names', () => {
    const row = rowFromStatus(
      {
        identity: { hostname: 'h'.repeat(10_000) },
        risk: {
          level: '<img src=x>',
          reasons: [
            null,
            5,
            { message: { a: 1 }, level: 'high' },
            { message: 'wired 94%', level: 'nope' },
            { message: 'm'.repeat(5000), level: 'high', signal: 'wired' },
            ...Array.from({ length: 100 }, () => ({ message: 'x', level: 'ok' })),
          ],
        },
        exo: { nodeId: 'n'.repeat(1000) },
      },
      PEER,
      false,
      'exo-topology',
    );
    assert.equal(row.level, null);
    assert.equal(row.host.length, 254);
    assert.equal(row.exoNodeId?.length, 129);
    assert.equal(row.reasons[0]?.signal, 'wired');
    assert.equal(row.reasons[0]?.message.length, 301);
    assert.ok(row.reasons.length <= 32);
    assert.ok(
      row.reasons.every(
        (r) => (typeof r.message === 'string' && r.signal === 'wired') || r.signal === 'unknown',
      ),
    );
    // The CLI's table used to throw on a null reason.
    assert.match(renderCluster([row]), /m{20}/);
  });

  it('no JSON a peer can send makes the row or the CLI table throw', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.jsonValue({ maxDepth: 3 }), (body, reasons) => {
        const row = rowFromStatus(body, PEER, false, 'configured');
        const withReasons = rowFromStatus({ risk: { level: 'high', reasons } }, PEER, false, 'configured');
        renderCluster([row, withReasons]);
        return row.reasons.every((r) => typeof r.message === 'string');
      }),
      { numRuns: 500 },
    );
  });
});
