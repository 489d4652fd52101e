import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli, sleep, startDaemon, startFakeExoProcess, waitForExit } from '../support/cli-runner.js';
import { residentBytes } from '../support/machine.js';
import { rawRequest, selfSignedCert } from '../support/raw-http.js';
import { tempDir } from '../support/temp-dir.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';
const MiB = 1024 * 1024;

/** Resident memory of a process (Linux procfs, macOS ps), bytes. */
const rss = residentBytes;

const chat = (content: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    model: MODEL,
    stream: true,
    max_tokens: 8,
    messages: [{ role: 'user', content }],
    ...extra,
  });

describe('guard hardening end to end: daemon, guard and fake EXO as real processes', () => {
  const dir = tempDir();
  let fake: Awaited<ReturnType<typeof startFakeExoProcess>>;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let guardPort: number;
  let api: string;
  const dataDir = `${dir.path}/data`;

  before(async () => {
    fake = await startFakeExoProcess(['--token-ms', '20', '--max-gen', '8']);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({ exo: { url: fake.url, home: `${dir.path}/exo` } }),
    );
    daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5']);
    guardPort = Number(new URL(daemon.guardUrl()!).port);
    api = daemon.apiUrl()!;
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.stop();
    dir.cleanup();
  });

  it('a body nesting 20,000 levels deep gets a 400, and the daemon keeps sampling and serving', async () => {
    const deep = `{"model":"${MODEL}","messages":[{"role":"user","content":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}]}`;
    const r = await rawRequest(guardPort, 'POST', '/v1/chat/completions', deep);
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error.message, /nest/i);
    await sleep(1200);
    assert.equal(daemon.exitCode, null, 'the daemon is alive');
    const status = await fetch(`${api}/api/v1/status`);
    assert.equal(status.status, 200);
    const ok = await rawRequest(guardPort, 'POST', '/v1/chat/completions', chat('hello'));
    assert.equal(ok.status, 200);
  });

  it('Prometheus sees the guard from the start: refusals by reason at 0, queue depth, in flight, queue wait', async () => {
    const text = await (await fetch(`${api}/metrics`)).text();
    for (const reason of ['context', 'kv-headroom', 'mode', 'queue-full', 'queue-timeout', 'body-too-large'])
      assert.match(
        text,
        new RegExp(`exo_sentinel_guard_refusals_total\\{reason="${reason}"\\} \\d+`),
        reason,
      );
    assert.match(text, /exo_sentinel_guard_queue_depth 0/);
    assert.match(text, /exo_sentinel_guard_in_flight_requests \d+/);
    assert.match(text, /exo_sentinel_guard_queue_wait_seconds_count \d+/);
    assert.match(
      text,
      /exo_sentinel_guard_refusals_total\{reason="bad-body"\} 1/,
      'the deep body was counted',
    );
  });

  it('a pin from the API applies at once: the next request is refused, saying it is a hand pin', async () => {
    const put = await fetch(`${api}/api/v1/guard/mode`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'refuse-new' }),
    });
    assert.equal(put.status, 200);
    const t = Date.now();
    const r = await rawRequest(guardPort, 'POST', '/v1/chat/completions', chat('hi'));
    assert.ok(Date.now() - t < 100);
    assert.equal(r.status, 503);
    assert.match(JSON.parse(r.body).error.message, /pinned to refuse-new by hand/);
    assert.ok(Number(r.headers['retry-after']) >= 1);
    const back = await fetch(`${api}/api/v1/guard/mode`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'auto' }),
    });
    assert.equal(back.status, 200);
    assert.equal((await rawRequest(guardPort, 'POST', '/v1/chat/completions', chat('hi'))).status, 200);
  });

  it('a client that reads nothing of a 300 MB stream pauses EXO: the daemon holds < 64 MiB more', async (t) => {
    const before = rss(daemon.pid!);
    const body = chat('stall');
    const socket = connect(guardPort, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.pause(); // reads nothing
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nx-fake-stream-bytes: ${300 * MiB}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    let peak = before;
    for (let i = 0; i < 16; i++) {
      await sleep(250);
      peak = Math.max(peak, rss(daemon.pid!));
    }
    const sent = ((await (await fetch(`${fake.control}/__fake/bulk`)).json()) as { bytes: number }).bytes;
    t.diagnostic(
      `EXO paused after ${(sent / MiB).toFixed(1)} MiB; daemon RSS ${Math.round(before / MiB)} → peak ${Math.round(peak / MiB)} MiB`,
    );
    assert.ok(sent < 64 * MiB, `EXO was paused after ${Math.round(sent / MiB)} MiB`);
    assert.ok(peak - before < 64 * MiB, `daemon RSS grew ${Math.round((peak - before) / MiB)} MiB`);
    socket.destroy();
    // The client left: the guard closes upstream and EXO stops sending.
    await sleep(500);
    const after1 = ((await (await fetch(`${fake.control}/__fake/bulk`)).json()) as { bytes: number }).bytes;
    await sleep(500);
    const after2 = ((await (await fetch(`${fake.control}/__fake/bulk`)).json()) as { bytes: number }).bytes;
    assert.equal(after2, after1, 'nothing more was sent once the client left');
  });
});

describe('guard end to end over https', () => {
  it('a daemon in front of an https EXO (its CA in guard.upstreamCaFile) forwards and watches it', async () => {
    const dir = tempDir();
    const { key, cert } = selfSignedCert(dir.path);
    const fake = await startFakeExoProcess(['--tls-key', key, '--tls-cert', cert, '--token-ms', '5']);
    const dataDir = `${dir.path}/data`;
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({ exo: { url: fake.url, home: `${dir.path}/exo` }, guard: { upstreamCaFile: cert } }),
    );
    // The EXO client reads the same CA through Node's own mechanism.
    const daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5'], {
      NODE_EXTRA_CA_CERTS: cert,
    });
    try {
      assert.match(fake.url, /^https:\/\//);
      const port = Number(new URL(daemon.guardUrl()!).port);
      const r = await rawRequest(port, 'POST', '/v1/chat/completions', chat('over tls'));
      assert.equal(r.status, 200);
      assert.match(r.body, /data: \[DONE\]/);
      let reachable = false;
      for (let i = 0; i < 20 && !reachable; i++) {
        await sleep(250);
        reachable =
          JSON.parse(
            (await runCli(['status', '--json', '--data-dir', dataDir], { NODE_EXTRA_CA_CERTS: cert })).stdout,
          ).exo?.reachable === true;
      }
      assert.ok(reachable, 'EXO over https is reachable for the daemon and the CLI');
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
      await fake.stop();
      dir.cleanup();
    }
  });
});
