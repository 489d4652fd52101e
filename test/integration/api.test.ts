import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { fixture } from '../support/fixtures.js';
import { freePort } from '../support/free-port.js';
import { machineMemoryTotal } from '../support/machine.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore lint/suspicious/noExplicitAny: test reads deep into JSON responses; shapes are asserted field by field
type Json = Record<string, any>;

describe('local HTTP API on a running daemon', () => {
  const dir = tempDir();
  let fake: FakeExoControl;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let api: string;
  const dataDir = `${dir.path}/data`;
  const reports = `${dir.path}/reports`;

  before(async () => {
    fake = await startFakeExo();
    mkdirSync(reports, { recursive: true });
    daemon = await startDaemon([
      '--data-dir',
      dataDir,
      '--interval',
      '0.5',
      '--exo-url',
      fake.url,
      '--reports-dir',
      reports,
    ]);
    api = daemon.apiUrl()!;
    // The fixture is an excerpt of a panicString; wrapAsPanicFile puts it in the .panic container macOS writes.
    writeFileSync(
      `${reports}/panic-full-2026-04-23-100035.0002.panic`,
      wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time: Date.now() - 60_000 }),
    );
    for (let i = 0; i < 40; i++) {
      const p = (await (await fetch(`${api}/api/v1/panics`)).json()) as Json;
      if (p['reports'].length > 0) break;
      await sleep(250);
    }
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.close();
    dir.cleanup();
  });

  const get = async (path: string): Promise<{ status: number; body: Json }> => {
    const r = await fetch(`${api}${path}`);
    return { status: r.status, body: (await r.json()) as Json };
  };

  it('serves status, timeline, events, panics, a crash report, actions, config, advisory and cluster', async () => {
    // The panic raises the level at once; EXO's first answer may come a poll later on a busy machine.
    let status = await get('/api/v1/status');
    for (
      let i = 0;
      i < 40 && (status.body['risk']['level'] !== 'elevated' || status.body['exo']['reachable'] !== true);
      i++
    ) {
      await sleep(250);
      status = await get('/api/v1/status');
    }
    assert.equal(status.status, 200);
    assert.equal(status.body['sample']['memory']['total'], machineMemoryTotal());
    assert.equal(status.body['exo']['reachable'], true);
    assert.equal(
      status.body['risk']['level'],
      'elevated',
      'a completeMemory panic a minute ago: elevated, with a hold',
    );
    assert.ok(status.body['hold']);
    assert.equal(status.body['daemon']['pid'], daemon.pid);
    // The panic and EXO can both be seen at the first tick: the second one is waited for (0.5 s apart).
    let tl = await get(`/api/v1/timeline?from=${Date.now() - 60_000}`);
    for (let i = 0; i < 40 && tl.body['samples'].length < 2; i++) {
      await sleep(250);
      tl = await get(`/api/v1/timeline?from=${Date.now() - 60_000}`);
    }
    assert.equal(tl.body['resolution'], 'raw');
    assert.ok(tl.body['samples'].length >= 2, `${tl.body['samples'].length} samples`);
    assert.equal(
      (await get(`/api/v1/timeline?from=${Date.now() - 30 * 86_400_000}`)).body['resolution'],
      'minute',
      'a 30-day range reads the per-minute table',
    );
    // The live status has EXO reachable as soon as a poll saw it; its event is stored with the next tick.
    let evs = await get('/api/v1/events?kind=exo.&limit=50');
    for (let i = 0; i < 20 && !evs.body['events'].some((e: Json) => e['kind'] === 'exo.reachable'); i++) {
      await sleep(250);
      evs = await get('/api/v1/events?kind=exo.&limit=50');
    }
    assert.ok(evs.body['events'].some((e: Json) => e['kind'] === 'exo.reachable'));
    const panics = await get('/api/v1/panics');
    const p = panics.body['reports'][0];
    assert.equal(p['kind'], 'completeMemory');
    assert.equal((await get(`/api/v1/panics/${p['id']}`)).body['info']['osBuild'], '25C56');
    const md = await fetch(`${api}/api/v1/panics/${p['id']}/report`);
    assert.equal(md.headers.get('content-type'), 'text/markdown; charset=utf-8');
    assert.match(
      await md.text(),
      /^# Kernel panic on .+: IOGPUFamily completeMemory\(\) prepare count underflow/,
    );
    const actions = await get('/api/v1/actions');
    assert.ok(actions.body['actions'].some((a: Json) => a['action'] === 'hold-start'));
    const cfg = await get('/api/v1/config');
    assert.equal(cfg.body['config']['exo']['url'], fake.url);
    const adv = await get('/api/v1/advisory');
    // The panic family is macOS on Apple silicon only: not applicable on Linux, judged on a Mac.
    if (process.platform === 'linux') assert.equal(adv.body['platform']['verdict'], 'not-applicable');
    else
      assert.ok(
        ['known-affected-build', 'affected-until-fixed', 'fixed', 'unknown'].includes(
          adv.body['platform']['verdict'],
        ),
        adv.body['platform']['summary'],
      );
    assert.equal(adv.body['models'][0]['source'], 'https://github.com/exo-explore/exo/issues/1972');
    const cluster = await get('/api/v1/cluster');
    assert.equal(cluster.body['rows'][0]['self'], true);
    const ack = await fetch(`${api}/api/v1/ack`, { method: 'POST' });
    assert.match(((await ack.json()) as Json)['ended']['reason'], /completeMemory kernel panic/);
    assert.equal((await get('/api/v1/status')).body['hold'], null);
  });

  it('answers bad input with 400 naming the field, and keeps CORS closed', async () => {
    const from = await get('/api/v1/timeline?from=yesterday');
    assert.equal(from.status, 400);
    assert.deepEqual(from.body['error']['fields'], [
      'query: "from" is "yesterday": expected epoch ms or an ISO 8601 time (YYYY-MM-DD…)',
    ]);
    // Digits alone are epoch ms however few, never a year or a month; a minus sign is no time.
    for (const [v, ok] of [
      ['0', true],
      ['12', true],
      ['100000', true],
      ['-1', false],
      ['2026', true],
    ] as const) {
      const r = await get(`/api/v1/events?from=${v}&to=${v}&limit=1`);
      assert.equal(r.status, ok ? 200 : 400, `${v}: ${JSON.stringify(r.body)}`);
    }
    const early = await get('/api/v1/timeline?from=0&to=12&limit=1');
    assert.equal(early.status, 200);
    assert.deepEqual(early.body['samples'], [], 'from=0&to=12 is the first 12 ms of 1970, not 2000-2001');
    const limit = await get('/api/v1/events?limit=0');
    assert.equal(limit.status, 400);
    assert.match(limit.body['error']['fields'][0], /^query: "limit" is "0": /);
    const extra = await get('/api/v1/events?since=1h');
    assert.match(extra.body['error']['fields'][0], /unknown key "since"/);
    assert.equal((await get('/api/v1/panics/abc')).status, 400);
    assert.equal((await get('/api/v1/panics/9999')).status, 404);
    const badCfg = await fetch(`${api}/api/v1/config`, {
      method: 'PUT',
      body: JSON.stringify({ intervalSeconds: 0, guard: { listen: 'nowhere' } }),
    });
    assert.equal(badCfg.status, 400);
    const fields = ((await badCfg.json()) as Json)['error']['fields'] as string[];
    assert.ok(fields.some((f) => /^config: "intervalSeconds" is 0: /.test(f)));
    assert.ok(fields.some((f) => /^config: "guard\.listen" is "nowhere": must be HOST:PORT/.test(f)));
    const okCfg = await fetch(`${api}/api/v1/config`, {
      method: 'PUT',
      body: JSON.stringify({ intervalSeconds: 2 }),
    });
    assert.equal(okCfg.status, 200);
    // Reloaded at once; --interval on the daemon's command line wins over the file, so nothing changes.
    const okBody = (await okCfg.json()) as Json;
    assert.deepEqual([okBody['reloaded'], okBody['applied'], okBody['restartRequired']], [true, [], []]);
    assert.deepEqual(JSON.parse(readFileSync(`${dataDir}/config.json`, 'utf8')), { intervalSeconds: 2 });
    const cors = await fetch(`${api}/api/v1/status`, { headers: { origin: 'https://evil.example' } });
    assert.equal(cors.status, 403);
    assert.equal(cors.headers.get('access-control-allow-origin'), null);
    const page = await fetch(`${api}/`);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'; script-src 'self'/);
  });

  it('pins the guard mode over the API and from the CLI; the running guard applies it; auto undoes it', async () => {
    const guard = daemon.guardUrl()!;
    // What the level gives on its own (after the earlier panic it may be serialise, not open).
    const byLevel = (await get('/api/v1/status')).body['guardMode'] as string;
    const put = (body: unknown) =>
      fetch(`${api}/api/v1/guard/mode`, { method: 'PUT', body: JSON.stringify(body) });
    const bad = await put({ mode: 'sideways' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as Json)['error']['fields'][0], /^body: "mode" is "sideways": /);
    const pinned = await put({ mode: 'refuse-new' });
    assert.equal(pinned.status, 200);
    assert.deepEqual(await pinned.json(), { guardMode: 'refuse-new', guardOverride: 'refuse-new' });
    const refused = await fetch(`${guard}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(refused.status, 503, 'the running guard refuses at once');
    await refused.body?.cancel();
    assert.equal((await get('/api/v1/status')).body['guardMode'], 'refuse-new');

    // The CLI writes to the data directory; the daemon picks it up at its next tick (0.5 s here).
    const auto = await runCli(['guard', 'auto', '--json', '--data-dir', dataDir]);
    assert.equal(auto.code, 0, auto.stderr);
    assert.deepEqual(JSON.parse(auto.stdout), { mode: byLevel, override: null, byLevel, changed: true });
    const serialise = await runCli(['guard', 'serialise', '--data-dir', dataDir]);
    assert.equal(
      serialise.stdout,
      `guard: serialise, pinned by hand (the risk level alone gives ${byLevel}); \`exo-sentinel guard auto\` undoes it\n`,
    );
    let mode: unknown;
    for (let i = 0; i < 20 && mode !== 'serialise'; i++) {
      await sleep(150);
      mode = (await get('/api/v1/status')).body['guardMode'];
    }
    assert.equal(mode, 'serialise', 'the running daemon took the CLI pin');
    const wrong = await runCli(['guard', 'sideways', '--data-dir', dataDir]);
    assert.equal(wrong.code, 2);
    assert.match(
      wrong.stderr,
      /expected one of auto, open, serialise, refuse-new, cancel-newest, got "sideways"/,
    );
    assert.equal((await runCli(['guard', 'auto', '--data-dir', dataDir])).code, 0);

    const actions = (await get('/api/v1/actions')).body['actions'] as Json[];
    assert.deepEqual(
      actions
        .filter((a) => a['action'] === 'guard-mode' && a['level'] === 'manual')
        .map((a) => a['detail']['override']),
      [null, 'serialise', null, 'refuse-new'],
      'every pin is in the audit trail, newest first',
    );
  });

  it('streams a new sample over SSE within 2 s', async () => {
    const ac = new AbortController();
    const res = await fetch(`${api}/api/v1/stream`, { signal: ac.signal });
    const reader = res.body!.getReader();
    const t0 = Date.now();
    let text = '';
    while (!text.includes('event: sample') && Date.now() - t0 < 3000) {
      const { value } = await reader.read();
      text += Buffer.from(value ?? new Uint8Array()).toString();
    }
    ac.abort();
    assert.ok(text.includes('event: status'), 'the stream opens with the current status');
    assert.ok(text.includes('event: sample'));
    assert.ok(Date.now() - t0 <= 2000, `sample after ${Date.now() - t0} ms`);
  });

  it('serves /metrics in the Prometheus text format', async () => {
    await sleep(600);
    const text = await (await fetch(`${api}/metrics`)).text();
    const families = parsePrometheusTextFormat(text) as Array<{
      name: string;
      type: string;
      metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: unknown }>;
    }>;
    const by = Object.fromEntries(families.map((f) => [f.name, f]));
    for (const name of [
      'exo_sentinel_memory_bytes',
      'exo_sentinel_memory_total_bytes',
      'exo_sentinel_memory_free_ratio',
      'exo_sentinel_risk_level',
      'exo_sentinel_panics',
      'exo_sentinel_tick_duration_seconds',
      'exo_sentinel_exo_reachable',
      'exo_sentinel_process_footprint_bytes',
      'exo_sentinel_guard_requests_total',
      'exo_sentinel_probe_failures_total',
      'exo_sentinel_gpu_in_use_bytes',
      'exo_sentinel_gpu_ceiling_bytes',
      'exo_sentinel_build_info',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(by[name], `${name} is exported`);
    }
    assert.equal(Number(by['exo_sentinel_memory_total_bytes']!.metrics[0]?.value), machineMemoryTotal());
    assert.equal(
      by['exo_sentinel_panics']!.metrics.find((m) => m.labels?.['kind'] === 'completeMemory')?.value,
      '1',
    );
    assert.equal(by['exo_sentinel_tick_duration_seconds']!.type, 'HISTOGRAM');
    assert.equal(by['exo_sentinel_exo_reachable']!.metrics[0]?.value, '1');
  });
});

describe('API beyond loopback and the cluster view', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('needs the bearer token when bound to a non-loopback address', async () => {
    const d = await startDaemon([
      '--data-dir',
      `${dir.path}/open`,
      '--api-listen',
      '0.0.0.0:0',
      '--no-guard',
    ]);
    try {
      const port = /api {6}http:\/\/0\.0\.0\.0:(\d+)/.exec(d.output())![1];
      const url = `http://127.0.0.1:${port}/api/v1/status`;
      const no = await fetch(url);
      assert.equal(no.status, 401);
      assert.equal(no.headers.get('www-authenticate'), 'Bearer, ExoSentinel-HMAC-SHA256');
      const token = readFileSync(`${dir.path}/open/api-token`, 'utf8').trim();
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 401);
      const agent = JSON.parse(
        (await runCli(['agent', 'status', '--json', '--data-dir', `${dir.path}/open`])).stdout,
      );
      assert.equal(agent.api.token, token, '`agent status` shows the token');
    } finally {
      d.kill('SIGTERM');
      await waitForExit(d);
    }
  });

  it('shows two daemons on loopback as two hosts', async () => {
    const b = await startDaemon(['--data-dir', `${dir.path}/b`, '--no-guard']);
    const bApi = b.apiUrl()!;
    mkdirSync(`${dir.path}/a`, { recursive: true });
    const aPort = await freePort();
    const closed = `http://127.0.0.1:${await freePort()}`;
    writeFileSync(
      `${dir.path}/a/config.json`,
      JSON.stringify({
        api: { listen: `127.0.0.1:${aPort}` },
        cluster: { peers: [bApi, closed] },
      }),
    );
    const a = await startDaemon([
      '--data-dir',
      `${dir.path}/a`,
      '--no-guard',
      '--api-listen',
      `127.0.0.1:${aPort}`,
    ]);
    try {
      await sleep(1500);
      const r = await runCli(['cluster', '--json', '--data-dir', `${dir.path}/a`]);
      assert.equal(r.code, 0, r.stderr);
      const rows = JSON.parse(r.stdout).rows as Json[];
      assert.equal(rows.length, 3);
      const hosts = rows.map((x) => x['host']);
      assert.equal(new Set(hosts).size, 3, `distinct host keys: ${hosts.join(', ')}`);
      assert.equal(rows[0]!['self'], true);
      assert.equal(rows[1]!['reachable'], true);
      assert.equal(rows[1]!['url'], bApi);
      assert.equal(rows[1]!['level'], 'ok');
      assert.ok(rows[1]!['memory']['total'] > 0);
      assert.equal(rows[2]!['reachable'], false);
      const text = await runCli(['cluster', '--data-dir', `${dir.path}/a`]);
      assert.match(text.stdout, /unreachable \(ECONNREFUSED\)/);
    } finally {
      for (const d of [a, b]) {
        d.kill('SIGTERM');
        await waitForExit(d);
      }
    }
  });
});
