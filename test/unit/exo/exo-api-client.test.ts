import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExoApiClient } from '../../../src/main/core/exo/exo-api-client.js';
import { ExoMonitor } from '../../../src/main/core/exo/exo-monitor.js';
import { type FakeExoControl, startFakeExo } from '../../support/fake-exo-server.js';

describe('EXO API client against the fake EXO (real HTTP on loopback)', () => {
  let fake: FakeExoControl;
  before(async () => {
    fake = await startFakeExo();
  });
  after(async () => {
    await fake.close();
  });

  it('reads the node id and state sub-paths, never /state or /events', async () => {
    const c = new ExoApiClient(`${fake.url}/`, 1000);
    const id = await c.nodeId();
    assert.deepEqual(id, { ok: true, value: fake.nodeId, status: 200 });
    const m = new ExoMonitor(c);
    await m.poll();
    assert.equal(m.snapshot.reachable, true);
    assert.equal(m.snapshot.instances.length, 1);
    const paths = new Set(fake.requests.map((r) => r.path));
    assert.ok(!paths.has('/state') && !paths.has('/events'));
    assert.deepEqual([...paths].sort(), [
      '/node_id',
      '/state/instances',
      '/state/nodeIdentities',
      '/state/nodeMemory',
      '/state/runners',
      '/state/tasks',
    ]);
  });

  it('turns a 404, garbage, a slow answer and a dropped connection into values', async () => {
    const c = new ExoApiClient(fake.url, 300);
    const nf = await c.deleteInstance('nope');
    assert.deepEqual(nf, {
      ok: false,
      kind: 'http',
      error: `DELETE ${fake.url}/instance/nope: HTTP 404: Instance not found`,
      status: 404,
      bytes: 85,
    });
    fake.setMode('garbage');
    const g = await c.nodeId();
    assert.equal(g.ok === false && g.kind, 'garbage');
    assert.match(g.ok ? '' : g.error, /HTTP 200, not JSON: "<html>502 Bad Gateway<\/html>"/);
    fake.setMode('slow');
    const s = await c.nodeId();
    assert.deepEqual(s, {
      ok: false,
      kind: 'timeout',
      error: `GET ${fake.url}/node_id: no answer within 300 ms`,
      status: null,
    });
    fake.setMode('drop');
    const d = await c.nodeId();
    assert.equal(d.ok === false && d.kind, 'down');
    fake.setMode('normal');
    const m = new ExoMonitor(new ExoApiClient('http://127.0.0.1:9', 300));
    const evs = await m.poll();
    assert.equal(m.snapshot.reachable, false);
    assert.equal(evs[0]?.kind, 'exo.unreachable');
  });
});
