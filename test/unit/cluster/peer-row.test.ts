import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ClusterConfigSchema } from '../../../src/main/core/cluster/cluster-config.js';
import {
  collectCluster,
  peersFromTopology,
  rowFromStatus,
  rowsFromClusterAnswer,
} from '../../../src/main/core/cluster/cluster-view.js';
import { renderCluster } from '../../../src/main/headless/commands/cluster-command.js';
import { makeStatusView } from '../../support/status-view-factory.js';

const PEER = 'http://10.0.0.2:52417';

describe("a peer's status, read as untrusted JSON", () => {
  it('takes figures only within what they can be: a lying peer shows unknown, not -5 bytes or 1e308 panics', () => {
    const lie = rowFromStatus(
      {
        sample: {
          memory: { total: -5, freePercent: 140, wired: 2 ** 60 },
          gpu: { inUseBytes: -1, ceilingBytes: 1e308 },
        },
        panics: { last72h: 1e308 },
      },
      PEER,
      false,
      'configured',
    );
    assert.deepEqual(
      [lie.memory, lie.gpu, lie.panics72h],
      [{ total: null, freePercent: null, wired: null }, { inUseBytes: null, ceilingBytes: null }, null],
    );
    const fair = rowFromStatus(
      {
        sample: {
          memory: { total: 512 * 2 ** 30, freePercent: 12.5, wired: 300 * 2 ** 30 },
          gpu: { inUseBytes: 0, ceilingBytes: 460 * 2 ** 30 },
        },
        panics: { last72h: 2 },
      },
      PEER,
      false,
      'configured',
    );
    assert.deepEqual(
      [fair.memory.total, fair.memory.freePercent, fair.gpu.ceilingBytes, fair.panics72h],
      [512 * 2 ** 30, 12.5, 460 * 2 ** 30, 2],
    );
    assert.equal(rowFromStatus({ panics: { last72h: 1.5 } }, PEER, false, 'configured').panics72h, null);
  });

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
    assert.equal(row.host.length, 253);
    assert.equal(row.exoNodeId?.length, 128);
    assert.equal(row.reasons[0]?.signal, 'wired');
    assert.equal(row.reasons[0]?.message.length, 300);
    assert.ok(row.reasons.length <= 32);
    assert.ok(
      row.reasons.every(
        (r) => (typeof r.message === 'string' && r.signal === 'wired') || r.signal === 'unknown',
      ),
    );
    // The CLI's table used to throw on a null reason.
    assert.match(renderCluster([row]), /m{20}/);
  });

  it("the CLI's table says where each row comes from: a node found only in EXO's topology is unverified", () => {
    const body = { identity: { hostname: 'mac-studio-2' }, risk: { level: 'critical', reasons: [] } };
    const lines = renderCluster([
      rowFromStatus(body, null, true, 'self'),
      rowFromStatus(body, PEER, false, 'configured'),
      rowFromStatus(body, PEER, false, 'exo-topology'),
    ]).split('\n');
    assert.match(lines[0]!, /^HOST +FROM +LEVEL/);
    assert.match(lines[1]!, /^mac-studio-2 +this host +critical/);
    assert.match(lines[2]!, /^mac-studio-2 +cluster\.peers +critical/);
    assert.match(lines[3]!, /^mac-studio-2 +topology \(unverified\) +critical/);
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

  it('keeps a peer from writing to the terminal: no control characters in what the CLI prints', async () => {
    const ESC = '\u001b';
    const evil = `${ESC}]52;c;ZWNobyBvd25lZA==\u0007${ESC}[2J\u202e`;
    const row = rowFromStatus(
      {
        identity: { hostname: `studio${evil}` },
        risk: { level: 'high', reasons: [{ signal: `s${evil}`, level: 'high', message: `wired${evil}` }] },
        exo: { nodeId: `n${evil}` },
      },
      PEER,
      false,
      'exo-topology',
    );
    // A peer whose answer is not JSON: the parser's message quotes the start of it.
    const server = createServer((_req, res) => res.end(`x${evil}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const config = ClusterConfigSchema.parse({ peers: [`http://127.0.0.1:${port}`], timeoutMs: 3000 });
      const { rows } = await collectCluster({}, config, null, null);
      assert.equal(rows[1]?.reachable, false);
      const table = renderCluster([row, rows[1]!]);
      assert.match(table, /studio/);
      assert.doesNotMatch(
        table,
        /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/u,
        JSON.stringify(table),
      );
      for (const text of [row.host, row.exoNodeId, row.reasons[0]?.signal, row.reasons[0]?.message])
        assert.doesNotMatch(String(text), /[\u0000-\u001f\u202e]/u);
    } finally {
      server.close();
    }
  });
});

describe('the cluster answer the CLI prints (whatever listens on the API port answered it)', () => {
  it('is a list of rows or nothing, every field narrowed, at most the rows a cluster can have', () => {
    for (const body of [null, 5, 'x', [], {}, { rows: null }, { rows: {} }, { rows: 'x' }])
      assert.equal(rowsFromClusterAnswer(body), null, JSON.stringify(body));
    const rows = rowsFromClusterAnswer({
      rows: [
        null,
        { host: 5 },
        {
          host: '\u001b[2Jevil\nhost',
          url: 7,
          self: 'yes',
          reachable: true,
          error: 'e'.repeat(10_000),
          level: 'meltdown',
          reasons: [
            { message: null, level: 'high' },
            { message: 'wired 94%', level: 'high' },
          ],
          memory: { total: -1, freePercent: 50, wired: 1e308 },
          gpu: { inUseBytes: 2 ** 40, ceilingBytes: '1' },
          panics72h: 2.5,
          exoNodeId: { a: 1 },
          source: 'mars',
        },
      ],
    });
    assert.equal(rows?.length, 1, 'a row without a host is left out');
    const r = rows![0]!;
    assert.doesNotMatch(r.host, /[\u0000-\u001f]/);
    assert.equal(r.url, null);
    assert.equal(r.self, false);
    assert.ok(r.error!.length <= 300);
    assert.equal(r.level, null);
    assert.deepEqual(
      r.reasons.map((x) => x.message),
      ['wired 94%'],
    );
    assert.deepEqual(
      [r.memory, r.gpu, r.panics72h, r.exoNodeId, r.source],
      [
        { total: null, freePercent: 50, wired: null },
        { inUseBytes: 2 ** 40, ceilingBytes: null },
        null,
        null,
        'configured',
      ],
    );
    assert.doesNotThrow(() => renderCluster(rows!));
    const many = rowsFromClusterAnswer({
      rows: Array.from({ length: 100_000 }, (_, i) => ({ host: `h${i}` })),
    });
    assert.ok(many!.length <= 129, `${many!.length} rows`);
  });
});

describe("peers from EXO's topology (written by whatever listens on EXO's port)", () => {
  const topology = (...ips: unknown[]) => ({
    connections: {
      self: Object.fromEntries(ips.map((ip, i) => [`n${i}`, [{ sinkMultiaddr: { ip_address: ip } }]])),
    },
  });

  it('takes an IPv4 or IPv6 address and nothing else: no host, port or path of its choosing', () => {
    const peers = peersFromTopology(
      topology(
        '10.0.0.9',
        '::ffff:127.0.0.1]:41001/ssrf-probe?[',
        'a b',
        'evil.example:80',
        '169.254.3.4/ssrf',
        '0.0.0.0',
        '::',
        'fe80::1%en0',
        'fe80::1',
        42,
        // The same peers, and the unspecified address, spelled otherwise.
        '::ffff:10.0.0.9',
        'FE80::1',
        'fe80:0:0:0:0:0:0:1',
        '0:0:0:0:0:0:0:0',
        '::0',
        '::ffff:0.0.0.0',
        '::ffff:0:0',
        '0:0:0:0:0:ffff:0.0.0.0',
        '::FFFF:0:0',
        '::ffff:a00:9',
        '0::ffff:10.0.0.9',
      ),
      'self',
      52417,
    );
    assert.deepEqual(peers, ['http://10.0.0.9:52417', 'http://[fe80::1]:52417']);
    for (const p of peers) assert.equal(new URL(p).pathname, '/');
  });

  it('whatever the addresses, the cluster view is rows, never a 500 for all of them', async () => {
    const exo = {
      state: async () => ({ ok: true, value: topology('a b', '127.0.0.1', '[::1', 'x'.repeat(5000)) }),
    } as unknown as Parameters<typeof collectCluster>[2];
    const config = ClusterConfigSchema.parse({ apiPort: 9, timeoutMs: 500 });
    const { rows } = await collectCluster(makeStatusView(), config, exo, 'self');
    assert.deepEqual(
      rows.map((r) => [r.self, r.url ?? null]),
      [
        [true, null],
        [false, 'http://127.0.0.1:9'],
      ],
    );
    assert.equal(rows[1]!.reachable, false);
  });

  it('any string in the topology: never throws, every peer a URL on the cluster port with path /', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.ipV4(), fc.ipV6()), { maxLength: 20 }), (ips) => {
        for (const p of peersFromTopology(topology(...ips), 'self', 52417)) {
          const u = new URL(p);
          assert.equal(u.port, '52417');
          assert.equal(u.pathname, '/');
          assert.equal(u.search, '');
        }
      }),
    );
  });
});
