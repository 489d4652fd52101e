import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { startDaemon, waitForExit } from '../support/cli-runner.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore lint/suspicious/noExplicitAny: test reads deep into JSON responses; shapes are asserted field by field
type Json = Record<string, any>;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request over loopback with exactly these headers (fetch would not let a test set Host). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<Reply>((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method, path, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    r.on('error', reject);
    r.end(body);
  });
}

const GUARD_TOKEN = 'guard-token-kept-secret-1234';
const CLUSTER_TOKEN = 'cluster-token-kept-secret-9876';
const LISTED = 'https://grafana.example:3000';

describe('the local API lets no one in (a running daemon over real HTTP)', () => {
  const dir = tempDir();
  const dataDir = `${dir.path}/data`;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let port: number;
  let self: string;

  before(async () => {
    mkdirSync(dataDir, { recursive: true });
    port = await freePort();
    self = `127.0.0.1:${port}`;
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({
        guard: { token: GUARD_TOKEN },
        cluster: { token: CLUSTER_TOKEN },
        api: { listen: self, corsOrigins: [LISTED], allowedHosts: ['studio-1.local'] },
      }),
      { mode: 0o644 },
    );
    daemon = await startDaemon(['--data-dir', dataDir, '--no-guard', '--api-listen', self]);
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    dir.cleanup();
  });

  it('refuses a foreign Host (DNS rebinding) naming it; loopback names, [::1] and configured names pass', async () => {
    const evil = await send(port, 'GET', '/api/v1/config', { host: 'evil.example' });
    assert.equal(evil.status, 421);
    assert.match(
      JSON.parse(evil.body).error.message,
      /^Host "evil\.example" is not a name this API answers to/,
    );
    assert.ok(!evil.body.includes(GUARD_TOKEN));
    const rebound = await send(port, 'GET', '/', { host: `evil.example:${port}` });
    assert.equal(rebound.status, 421, 'the dashboard page too');
    assert.equal((await send(port, 'GET', '/metrics', { host: 'attacker.test' })).status, 421);
    for (const host of [
      self,
      `localhost:${port}`,
      'localhost',
      `[::1]:${port}`,
      '[::1]',
      `studio-1.local:${port}`,
    ]) {
      const r = await send(port, 'GET', '/api/v1/status', { host });
      assert.equal(r.status, 200, `Host: ${host}`);
    }
  });

  it('refuses what another site asks for (Fetch Metadata), navigations to the event stream included; the page itself and non-browsers pass', async () => {
    for (const [path, site] of [
      ['/api/v1/stream', 'cross-site'],
      ['/api/v1/status', 'cross-site'],
      ['/api/v1/config', 'same-site'],
      ['/metrics', 'cross-site'],
    ] as const) {
      const r = await send(port, 'GET', path, {
        host: `s1.localhost:${port}`,
        'sec-fetch-site': site,
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'iframe',
      });
      assert.equal(r.status, 403, `${site} ${path}`);
      assert.match(
        JSON.parse(r.body).error.message,
        /^a request from another site \(Sec-Fetch-Site: (cross|same)-site\)/,
      );
    }
    // The dashboard's page may be linked to from anywhere; its own requests, typed addresses and tools pass.
    assert.equal((await send(port, 'GET', '/', { host: self, 'sec-fetch-site': 'cross-site' })).status, 200);
    for (const headers of [{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, {}] as Record<
      string,
      string
    >[])
      assert.equal((await send(port, 'GET', '/api/v1/status', { host: self, ...headers })).status, 200);
    // A site listed in api.corsOrigins keeps its cross-site reads.
    const listed = await send(port, 'GET', '/api/v1/status', {
      host: self,
      origin: LISTED,
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'cors',
    });
    assert.equal(listed.status, 200);
  });

  it('takes same-origin writes, refuses foreign origins, and gives listed origins CORS and a preflight', async () => {
    const cfg = JSON.parse((await send(port, 'GET', '/api/v1/config', { host: self })).body) as Json;
    const same = await send(
      port,
      'PUT',
      '/api/v1/config',
      { host: self, origin: `http://${self}`, 'content-type': 'application/json' },
      JSON.stringify({ ...cfg['config'], intervalSeconds: 2 }),
    );
    assert.equal(same.status, 200, same.body);
    assert.equal(same.headers['access-control-allow-origin'], undefined, 'same origin needs no CORS');
    const ack = await send(port, 'POST', '/api/v1/ack', {
      host: `localhost:${port}`,
      origin: `http://localhost:${port}`,
    });
    assert.equal(ack.status, 200);

    const foreign = await send(port, 'POST', '/api/v1/ack', { host: self, origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.match(JSON.parse(foreign.body).error.message, /^origin https:\/\/evil\.example is not allowed/);
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    const otherPort = await send(port, 'GET', '/api/v1/status', { host: self, origin: 'http://127.0.0.1:1' });
    assert.equal(otherPort.status, 403, 'another loopback port is another origin');
    const preflightForeign = await send(port, 'OPTIONS', '/api/v1/config', {
      host: self,
      origin: 'https://evil.example',
      'access-control-request-method': 'PUT',
    });
    assert.equal(preflightForeign.status, 403);

    const listed = await send(port, 'GET', '/api/v1/status', { host: self, origin: LISTED });
    assert.equal(listed.status, 200);
    assert.equal(listed.headers['access-control-allow-origin'], LISTED);
    assert.equal(listed.headers['vary'], 'Origin');
    const preflight = await send(port, 'OPTIONS', '/api/v1/guard/mode', {
      host: self,
      origin: LISTED,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
      'access-control-request-private-network': 'true',
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], LISTED);
    assert.match(String(preflight.headers['access-control-allow-methods']), /\bPUT\b/);
    assert.match(String(preflight.headers['access-control-allow-headers']), /\bcontent-type\b/);
    assert.equal(preflight.headers['vary'], 'Origin');
    assert.equal(preflight.headers['access-control-allow-private-network'], 'true');
    const pinned = await send(
      port,
      'PUT',
      '/api/v1/guard/mode',
      { host: self, origin: LISTED, 'content-type': 'application/json' },
      JSON.stringify({ mode: 'auto' }),
    );
    assert.equal(pinned.status, 200);
    assert.equal(pinned.headers['access-control-allow-origin'], LISTED);
  });

  it('never serves a token; the mask sent back keeps it; programs to run are refused naming the field; 0600 files', async () => {
    const get = await send(port, 'GET', '/api/v1/config', { host: self });
    assert.equal(get.status, 200);
    for (const t of [GUARD_TOKEN, CLUSTER_TOKEN]) assert.ok(!get.body.includes(t), 'no token in GET config');
    const cfg = JSON.parse(get.body) as Json;
    assert.equal(cfg['config']['guard']['token'], '••••1234');
    assert.equal(cfg['config']['cluster']['token'], '••••9876');
    const put = (body: unknown) =>
      send(
        port,
        'PUT',
        '/api/v1/config',
        { host: self, 'content-type': 'application/json' },
        JSON.stringify(body),
      );

    const back = await put({ ...cfg['config'], slowIntervalSeconds: 7 });
    assert.equal(back.status, 200, back.body);
    assert.ok(!back.body.includes(GUARD_TOKEN), 'the PUT answer masks too');
    const onDisk = JSON.parse(readFileSync(`${dataDir}/config.json`, 'utf8')) as Json;
    assert.equal(onDisk['guard']['token'], GUARD_TOKEN, 'the stored token is kept');
    assert.equal(onDisk['cluster']['token'], CLUSTER_TOKEN);
    assert.equal(onDisk['slowIntervalSeconds'], 7);
    assert.equal(statSync(`${dataDir}/config.json`).mode & 0o777, 0o600);
    assert.equal(statSync(`${dataDir}/api-token`).mode & 0o777, 0o600);

    const notify = await put({ ...cfg['config'], actions: { notify: { command: ['/bin/sh', '-c', 'id'] } } });
    assert.equal(notify.status, 400);
    const fields = JSON.parse(notify.body).error.fields as string[];
    assert.deepEqual(fields, [
      'config: "actions.notify.command" names a program to run and cannot be changed from here; edit the configuration file',
    ]);
    const python = await put({ ...cfg['config'], gpu: { ceilingBytes: null, mlxPython: '/tmp/x' } });
    assert.equal(python.status, 400);
    assert.match(JSON.parse(python.body).error.message, /"gpu\.mlxPython" names a program to run/);
    const wrongMask = await put({
      ...cfg['config'],
      guard: { ...cfg['config']['guard'], token: '••••0000' },
    });
    assert.equal(wrongMask.status, 400);
    assert.match(JSON.parse(wrongMask.body).error.message, /"guard\.token" is a masked value/);
    const still = JSON.parse(readFileSync(`${dataDir}/config.json`, 'utf8')) as Json;
    assert.deepEqual(still, onDisk, 'refused writes leave the file alone');
    assert.equal(still['guard']['token'], GUARD_TOKEN);
    assert.deepEqual(
      readdirSync(dataDir).filter((f) => f.endsWith('.tmp')),
      [],
    );
  });

  it('keeps tokens out of the log (the start-up line logs the whole configuration)', () => {
    const logs = readdirSync(`${dataDir}/logs`).map((f) => readFileSync(`${dataDir}/logs/${f}`, 'utf8'));
    const text = logs.join('\n');
    assert.match(text, /watching every/, 'the start-up line with the configuration is there');
    for (const t of [GUARD_TOKEN, CLUSTER_TOKEN]) assert.ok(!text.includes(t), 'no token in the log');
    assert.match(text, /"token":"\[redacted\]"/);
  });
});

describe('a daemon listening on every address (0.0.0.0)', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('answers its own wildcard address and machine names with the token, and still refuses foreign Hosts', async () => {
    const port = await freePort();
    const d = await startDaemon(['--data-dir', dir.path, '--no-guard', '--api-listen', `0.0.0.0:${port}`]);
    try {
      const auth = { authorization: `Bearer ${readFileSync(`${dir.path}/api-token`, 'utf8').trim()}` };
      for (const host of [`0.0.0.0:${port}`, `127.0.0.1:${port}`, `${hostname()}:${port}`])
        assert.equal((await send(port, 'GET', '/api/v1/status', { host, ...auth })).status, 200, host);
      const evil = await send(port, 'GET', '/api/v1/status', { host: `evil.example:${port}`, ...auth });
      assert.equal(evil.status, 421, 'the token does not make a foreign Host acceptable');
      assert.equal((await send(port, 'GET', '/api/v1/status', { host: `127.0.0.1:${port}` })).status, 401);
    } finally {
      d.kill('SIGTERM');
      await waitForExit(d);
    }
  });
});
