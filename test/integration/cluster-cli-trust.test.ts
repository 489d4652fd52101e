/**
 * `exo-sentinel cluster` with no daemon running, while another local user holds the API's loopback port: the
 * CLI asks only a daemon its pidfile names, so the squatter gets no request and no token, and the CLI prints
 * its own reading. Before, it asked whatever listened on `api.listen` with the bearer token from
 * `<data>/api-token` (a token that stays valid once the daemon is back), and a hostile answer made it throw
 * (`{"rows": null}`) or buffer an endless body (1.6-2.7 GB in 6 s).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../support/cli-runner.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dir.js';

describe('the cluster command and whatever listens on the API port', () => {
  const dir = tempDir('exo-sentinel-cluster-cli-');
  after(() => dir.cleanup());

  it('sends no request (so no token) to a port squatter, and prints its own reading', async () => {
    const port = await freePort();
    const dataDir = join(dir.path, 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ api: { listen: `127.0.0.1:${port}` } }));
    writeFileSync(join(dataDir, 'api-token'), `${'t'.repeat(43)}\n`, { mode: 0o600 });
    const asked: Array<string | undefined> = [];
    const squatter = createServer((req, res) => {
      asked.push(req.headers.authorization);
      // What a hostile listener answers: first a list that is not one, then a body without end.
      if (asked.length === 1) res.end('{"rows": null}');
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        const more = (): void => {
          while (res.write('['.repeat(65_536)));
          res.once('drain', more);
        };
        more();
      }
    });
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    try {
      for (const args of [['cluster', '--json'], ['cluster']]) {
        const r = await runCli([...args, '--data-dir', dataDir], {}, 20_000);
        assert.equal(r.code, 0, r.stderr);
        if (args.includes('--json')) {
          const rows = (JSON.parse(r.stdout) as { rows: Array<{ self: boolean }> }).rows;
          assert.equal(rows[0]?.self, true, 'its own reading of this host');
        } else assert.match(r.stdout, /^HOST\s+FROM\s+LEVEL/);
      }
      assert.deepEqual(asked, [], 'the squatter was never asked');
    } finally {
      squatter.closeAllConnections();
      squatter.close();
    }
  });
});
