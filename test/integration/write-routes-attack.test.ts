import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDaemon, waitForExit } from '../support/cli-runner.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dir.js';

interface Reply {
  status: number;
  body: string;
}

/** One request with exactly these headers (fetch sets its own Host and Origin rules). */
function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    // A connection of its own: a kept-alive one left idle (20,000 files written in between) can be closed by the
    // server's keep-alive timeout just as it is reused, a hang-up that is the client's race, not the daemon's.
    const r = request(
      { host: '127.0.0.1', port, method, path, headers, setHost: false, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

const GUARD_TOKEN = 'guard-token-kept-secret-1234';
const CLUSTER_TOKEN = 'cluster-token-kept-secret-9876';
const COMMAND = ['/bin/echo', 'notified'];

/**
 * PATCH /api/v1/config and POST /api/v1/panics/scan attacked over real HTTP on a running daemon: program
 * fields refused however spelled (the file byte for byte as it was), tokens never in an answer, bodies and
 * directories bounded, the daemon answering through it all.
 */
describe('the write routes hold against an outsider (a running daemon over real HTTP)', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  const configPath = join(dataDir, 'config.json');
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let port: number;
  let host: string;
  let token: string;
  let stored: string;

  const patch = (body: unknown, headers: Record<string, string> = {}) =>
    send(
      port,
      'PATCH',
      '/api/v1/config',
      { host, 'content-type': 'application/json', ...headers },
      typeof body === 'string' ? body : JSON.stringify(body),
    );
  const scan = (body: string | undefined, headers: Record<string, string> = {}) =>
    send(port, 'POST', '/api/v1/panics/scan', { host, authorization: `Bearer ${token}`, ...headers }, body);

  before(async () => {
    mkdirSync(dataDir, { recursive: true });
    port = await freePort();
    host = `127.0.0.1:${port}`;
    stored = `${JSON.stringify(
      {
        guard: { token: GUARD_TOKEN },
        cluster: { token: CLUSTER_TOKEN },
        actions: { notify: { command: COMMAND } },
        api: { listen: host },
      },
      null,
      2,
    )}\n`;
    writeFileSync(configPath, stored, { mode: 0o600 });
    mkdirSync(join(dir.path, 'reports'));
    daemon = await startDaemon([
      '--data-dir',
      dataDir,
      '--no-guard',
      '--api-listen',
      host,
      '--interval',
      '60',
      '--exo-url',
      'http://127.0.0.1:9',
      '--reports-dir',
      join(dir.path, 'reports'),
    ]);
    token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    dir.cleanup();
  });

  const fileUnchanged = (what: string): void =>
    assert.equal(readFileSync(configPath, 'utf8'), stored, `${what}: the file changed`);
  const noSecret = (r: Reply, what: string): void => {
    for (const s of [GUARD_TOKEN, CLUSTER_TOKEN, token])
      assert.ok(!r.body.includes(s), `${what} echoed a token`);
  };

  it('program fields are refused however spelled; the file stays byte for byte', async () => {
    const attempts: [string, string][] = [
      ['dotted', JSON.stringify({ set: { 'actions.notify.command': ['/bin/sh', '-c', 'id'] } })],
      ['nested parent', JSON.stringify({ set: { 'actions.notify': { command: ['/bin/sh'] } } })],
      ['top object', JSON.stringify({ set: { actions: { notify: { command: ['/bin/sh'] } } } })],
      [
        'unset parent then set',
        JSON.stringify({ unset: ['actions'], set: { 'actions.notify.command': ['/x'] } }),
      ],
      ['unset the parent', JSON.stringify({ unset: ['actions.notify'] })],
      ['gpu', JSON.stringify({ set: { 'gpu.mlxPython': '/usr/bin/python3' } })],
      ['gpu object', JSON.stringify({ set: { gpu: { mlxPython: '/usr/bin/python3' } } })],
      ['__proto__ in a value', '{"set": {"actions": {"__proto__": {"notify": {"command": ["/bin/sh"]}}}}}'],
      ['__proto__ segment', '{"set": {"__proto__.actions.notify.command": ["/bin/sh"]}}'],
      ['__proto__ as the set', '{"set": {"__proto__": {"actions.notify.command": ["/bin/sh"]}}}'],
      ['constructor segment', JSON.stringify({ set: { 'constructor.prototype.command': ['/bin/sh'] } })],
      ['prototype segment', JSON.stringify({ set: { 'actions.notify.prototype': ['/bin/sh'] } })],
      ['Cyrillic o', JSON.stringify({ set: { 'actions.notify.cоmmand': ['/bin/sh'] } })],
      ['fullwidth dot', JSON.stringify({ set: { 'actions．notify．command': ['/bin/sh'] } })],
      ['upper case', JSON.stringify({ set: { 'Actions.Notify.Command': ['/bin/sh'] } })],
      ['empty segment', JSON.stringify({ set: { 'actions..notify.command': ['/bin/sh'] } })],
      ['trailing dot', JSON.stringify({ set: { 'actions.notify.command.': ['/bin/sh'] } })],
      ['very long key', JSON.stringify({ set: { [`actions.notify.command${'a'.repeat(590)}`]: ['/x'] } })],
      ['key past the cap', JSON.stringify({ set: { [`actions.${'a'.repeat(4000)}`]: 1 } })],
      [
        'thousands of keys',
        JSON.stringify({ set: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, 1])) }),
      ],
      ['a deep value', `{"set": {"actions.notify": ${'['.repeat(30_000)}${']'.repeat(30_000)}}}`],
      ['a deep object', `{"set": {"actions": ${'{"a":'.repeat(12_000)}1${'}'.repeat(12_000)}}}`],
      [
        'an extra top-level field',
        JSON.stringify({ set: {}, replace: { actions: { notify: { command: ['/x'] } } } }),
      ],
    ];
    for (const [what, body] of attempts) {
      const r = await patch(body);
      assert.ok(r.status === 400 || r.status === 413, `${what}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      assert.ok(r.body.length < 8192, `${what}: a ${r.body.length}-byte answer`);
      noSecret(r, what);
      fileUnchanged(what);
    }
    const cfg = JSON.parse((await send(port, 'GET', '/api/v1/config', { host })).body);
    assert.deepEqual(cfg.config.actions.notify.command, COMMAND);
  });

  it('PATCH from a rebinding page or a foreign origin is refused before it reads the body', async () => {
    const body = { set: { 'guard.queue.max': 3 } };
    assert.equal((await patch(body, { host: `evil.example:${port}` })).status, 421);
    assert.equal((await patch(body, { origin: 'http://evil.example' })).status, 403);
    assert.equal((await patch(body, { origin: 'null' })).status, 403);
    assert.equal((await patch(body, { origin: 'http://127.0.0.1:1' })).status, 403);
    assert.equal((await patch(body, { host: '' })).status, 400);
    fileUnchanged('refused origins');
  });

  it('bodies are bounded: over 64 KiB by length or by chunks is 413, nothing written', async () => {
    const big = JSON.stringify({ set: { 'guard.queue.max': 3 }, unset: ['x'.repeat(70_000)] });
    assert.equal((await patch(big)).status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const r = request(
        { host: '127.0.0.1', port, method: 'PATCH', path: '/api/v1/config', headers: { host } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          r.destroy();
        },
      );
      r.on('error', () => undefined);
      const piece = Buffer.alloc(16 * 1024, 0x20);
      let n = 0;
      const more = (): void => {
        while (n++ < 10_000) if (!r.write(piece)) return void r.once('drain', more);
      };
      r.once('error', reject);
      more();
    });
    assert.equal(chunked, 413);
    fileUnchanged('big bodies');
  });

  it('keys only the owner may change (paths, other machines, listeners, tokens, patterns) need the token even on loopback', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const attempts: unknown[] = [
      { set: { 'cluster.peers': ['http://203.0.113.5:52417'] } },
      { set: { cluster: { peers: ['http://203.0.113.5:52417'], token: '••••9876' } } },
      { set: { 'reports.dirs': ['/etc'] } },
      { set: { 'exo.url': 'http://203.0.113.5:52415' } },
      { set: { 'exo.home': '/root' } },
      { set: { 'watch.exoPidfile': '/etc/shadow' } },
      { set: { 'guard.upstreamCaFile': '/etc/passwd' } },
      { unset: ['exo'], set: { 'exo.url': 'http://203.0.113.5:52415' } },
      // Opening the guard (and EXO behind it) or this API to other machines or pages, with a token the
      // writer chose, and a pattern run over every command line: the owner's too.
      { set: { 'guard.listen': '0.0.0.0:41436', 'guard.token': 'attacker-known-token-123' } },
      { set: { guard: { token: 'attacker-known-token-123' } } },
      { set: { 'api.listen': '0.0.0.0:41437' } },
      { set: { 'api.allowedHosts': ['evil.example'] } },
      { set: { 'api.corsOrigins': ['https://evil.example'] } },
      { set: { 'cluster.token': 'attacker-known-token-123' } },
      { set: { 'watch.mlxServerPatterns': ['mlx_lm'] } },
    ];
    for (const body of attempts) {
      const r = await patch(body);
      assert.equal(r.status, 401, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(JSON.parse(r.body).error.message, /needs the bearer token even on loopback/);
      fileUnchanged(JSON.stringify(body));
    }
    // A whole configuration (PUT) that moves EXO elsewhere: the same.
    const cfg = JSON.parse((await send(port, 'GET', '/api/v1/config', { host })).body).config;
    const put = await send(
      port,
      'PUT',
      '/api/v1/config',
      { host, 'content-type': 'application/json' },
      JSON.stringify({ ...cfg, exo: { ...cfg.exo, url: 'http://203.0.113.5:52415' } }),
    );
    assert.equal(put.status, 401, put.body);
    fileUnchanged('PUT exo.url');
    // Other keys need no token on loopback; with the token the owner may change these too.
    assert.equal((await patch({ set: { 'guard.queue.max': 5 } })).status, 200);
    const owner = await patch({ set: { 'cluster.peers': ['http://127.0.0.1:9'] } }, auth);
    assert.equal(owner.status, 200, owner.body);
    assert.deepEqual(JSON.parse(readFileSync(configPath, 'utf8')).cluster.peers, ['http://127.0.0.1:9']);
    stored = readFileSync(configPath, 'utf8');
    // Not even the owner can store what would hold the daemon or stop its next start.
    for (const [body, problem] of [
      [
        { set: { 'watch.mlxServerPatterns': ['(a)\\1+$'] } },
        /"watch\.mlxServerPatterns\.0" .*cannot run in linear time/,
      ],
      [
        { set: { 'guard.listen': '0.0.0.0:41436' }, unset: ['guard.token'] },
        /"guard\.token" .*needed when guard\.listen \(0\.0\.0\.0:41436\) is not loopback/,
      ],
    ] as const) {
      const r = await patch(body, auth);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
      assert.match(JSON.parse(r.body).error.message, problem);
      fileUnchanged(JSON.stringify(body));
    }
  });

  it('a token is never echoed, not even a stored one the file makes invalid', async () => {
    const ok = await patch({ set: { 'guard.queue.max': 3, 'cluster.token': '••••9876' } });
    assert.equal(ok.status, 200, ok.body);
    noSecret(ok, 'a kept token');
    const masked = await patch({ set: { 'guard.token': '••••0000' } });
    assert.equal(masked.status, 400);
    noSecret(masked, 'a wrong mask');
    stored = readFileSync(configPath, 'utf8');
    // A hand edit leaves a token the schema refuses (too short): it must not be quoted back.
    const edited = stored.replace(CLUSTER_TOKEN, 'hand-typed-sec');
    writeFileSync(configPath, edited, { mode: 0o600 });
    stored = edited;
    const r = await patch({ set: { 'guard.queue.max': 4 } });
    assert.equal(r.status, 400, r.body);
    assert.ok(!r.body.includes('hand-typed-sec'), `the stored token was quoted: ${r.body}`);
    fileUnchanged('an invalid stored token');
    await send(port, 'POST', '/api/v1/config/reload', { host });
    const status = await send(port, 'GET', '/api/v1/status', { host });
    assert.ok(!status.body.includes('hand-typed-sec'), 'status quoted the stored token');
  });

  it('scan: dirs need the token on loopback; relative, NUL, too many or too long are 400', async () => {
    const d = join(dir.path, 'reports');
    const noToken = await send(port, 'POST', '/api/v1/panics/scan', { host }, JSON.stringify({ dirs: [d] }));
    assert.equal(noToken.status, 401);
    const wrong = await scan(JSON.stringify({ dirs: [d] }), { authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    for (const dirs of [
      ['reports'],
      ['../etc'],
      [`${d}\u0000x`],
      Array.from({ length: 17 }, () => d),
      Array.from({ length: 10_000 }, () => d),
      [`/${'a'.repeat(5000)}`],
      [''],
    ]) {
      const r = await scan(JSON.stringify({ dirs }));
      assert.ok(r.status === 400 || r.status === 413, `${JSON.stringify(dirs).slice(0, 60)}: ${r.status}`);
    }
    assert.equal((await scan('{"dirs": "/etc"}')).status, 400);
    assert.equal((await scan('not json', { 'content-type': 'text/plain' })).status, 400);
    assert.equal((await scan(undefined)).status, 200, 'no body is a scan of the configured directories');
  });

  it('scan: a FIFO, /dev/zero, links to /etc and /proc, a 20k-file directory: answered, nothing hangs', async () => {
    const odd = join(dir.path, 'odd');
    mkdirSync(odd);
    execFileSync('mkfifo', [join(odd, 'fifo.panic')]);
    symlinkSync('/dev/zero', join(odd, 'zero.panic'));
    symlinkSync('/etc/passwd', join(odd, 'passwd.panic'));
    symlinkSync('/proc', join(dir.path, 'proc-link'));
    const many = join(dir.path, 'many');
    mkdirSync(many);
    for (let i = 0; i < 20_000; i++) writeFileSync(join(many, `n${i}.txt`), '');
    const t0 = Date.now();
    const r = await scan(
      JSON.stringify({
        dirs: [odd, '/dev/zero', join(dir.path, 'proc-link'), '/proc/self/fd', many, '/nonexistent/x/..'],
      }),
    );
    assert.equal(r.status, 200, r.body);
    const b = JSON.parse(r.body);
    assert.equal(
      b.new,
      b.results.reduce((n: number, x: { added: unknown[] }) => n + x.added.length, 0),
    );
    const oddResult = b.results.find((x: { dir: string }) => x.dir === odd);
    assert.equal(oddResult.error, null);
    for (const rec of oddResult.added) assert.notEqual(rec.status, 'ingested', `${rec.name} was read`);
    assert.ok(Date.now() - t0 < 10_000, `the scan took ${Date.now() - t0} ms`);
    noSecret(r, 'scan');
    // Concurrent scans: all answered, the daemon still answers.
    const all = await Promise.all(
      Array.from({ length: 20 }, (_, i) => scan(i % 2 ? '{}' : JSON.stringify({ dirs: [odd] }))),
    );
    assert.deepEqual(new Set(all.map((x) => x.status)), new Set([200]));
    assert.equal((await send(port, 'GET', '/api/v1/status', { host })).status, 200);
  });
});

describe('beyond loopback every write needs the token (a daemon on 0.0.0.0, asked over 127.0.0.1)', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let port: number;

  before(async () => {
    port = await freePort();
    daemon = await startDaemon([
      '--data-dir',
      dataDir,
      '--no-guard',
      '--api-listen',
      `0.0.0.0:${port}`,
      '--exo-url',
      'http://127.0.0.1:9',
    ]);
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    dir.cleanup();
  });

  it('PATCH, PUT and scan without the token are 401 and write nothing; with it they are taken', async () => {
    const host = `127.0.0.1:${port}`;
    const body = JSON.stringify({ set: { 'guard.queue.max': 3 } });
    for (const [method, path, b] of [
      ['PATCH', '/api/v1/config', body],
      ['PUT', '/api/v1/config', '{}'],
      ['POST', '/api/v1/panics/scan', '{}'],
      ['POST', '/api/v1/config/reload', ''],
    ] as const) {
      const r = await send(port, method, path, { host }, b);
      assert.equal(r.status, 401, `${method} ${path}`);
    }
    assert.throws(() => readFileSync(join(dataDir, 'config.json')), /ENOENT/);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    const ok = await send(port, 'PATCH', '/api/v1/config', { host, authorization: `Bearer ${token}` }, body);
    assert.equal(ok.status, 200, ok.body);
    assert.ok(!ok.body.includes(token));
  });
});
