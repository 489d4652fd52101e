import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { startFakeExo } from '../support/fake-exo-server.js';
import { fixture } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';

interface ReplayJson {
  ticks: number;
  levels: Record<string, number>;
  changes: Array<{
    time: number;
    from: string;
    to: string;
    guardMode: string;
    score: number;
    reasons: Array<{ message: string }>;
  }>;
  panics: Array<{
    time: number;
    kind: string;
    firstWarning: number | null;
    leadSeconds: number | null;
    levelAtPanic: string;
  }>;
  falseAlarms: number;
  config: string;
}

async function until<T>(what: string, fn: () => Promise<T | null | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function chat(url: string): AbortController {
  const ac = new AbortController();
  void fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      stream: true,
      max_tokens: 40,
      messages: [{ role: 'user', content: 'x'.repeat(2000) }],
    }),
    signal: ac.signal,
  })
    .then((r) => r.text())
    .catch(() => undefined);
  return ac;
}

describe('replay --db on a timeline recorded by the daemon', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('finds the recorded panic, says how early the level warned, and a --config changes the verdict', async () => {
    const exoHome = `${dir.path}/exo-home`;
    const dataDir = `${dir.path}/data`;
    const reports = `${dir.path}/reports`;
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(reports, { recursive: true });
    const fake = await startFakeExo({ logPath: `${exoHome}/exo_log/exo.log`, tokenIntervalMs: 300 });
    writeFileSync(`${dataDir}/config.json`, JSON.stringify({ exo: { url: fake.url, home: exoHome } }));
    const started = Date.now();
    const daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--reports-dir', reports]);
    const requests: AbortController[] = [];
    let panicTime = 0;
    try {
      const status = async () => {
        const r = await runCli(['status', '--json', '--data-dir', dataDir, '--exo-url', fake.url]);
        return JSON.parse(r.stdout) as {
          exo: { inFlight: number };
          risk: { daemon: { level: string } | null };
        };
      };
      await until('EXO seen by the daemon', async () => (await status()).risk.daemon !== null);
      await sleep(1500);
      requests.push(chat(fake.url), chat(fake.url));
      await until(
        'the daemon at high (wired limit, two in flight)',
        async () => (await status()).risk.daemon?.level === 'high',
      );
      await sleep(3000);
      // The panic: a completeMemory report whose body dates it now, while two requests are in flight.
      panicTime = Date.now();
      writeFileSync(
        `${reports}/panic-full-2026-11-28-120000.0002.panic`,
        wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time: panicTime }),
      );
      await until('the report ingested', async () => {
        const r = await runCli(['panics', 'list', '--json', '--data-dir', dataDir]);
        return r.stdout.includes('completeMemory');
      });
    } finally {
      for (const r of requests) r.abort();
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
      await fake.close();
    }

    // The report's time has centisecond precision; the replay ends just after it.
    const range = ['--from', String(started - 1000), '--to', String(panicTime + 100)];
    const db = `${dataDir}/timeline.db`;
    const r = await runCli(['replay', '--db', db, ...range, '--json', '--data-dir', dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as ReplayJson;
    assert.equal(out.config, `${dataDir}/config.json`);
    assert.ok(out.ticks > 10, `${out.ticks} ticks`);
    const toHigh = out.changes.find((c) => c.to === 'high');
    assert.ok(toHigh, JSON.stringify(out.changes));
    assert.equal(toHigh.guardMode, 'refuse-new');
    assert.match(
      toHigh.reasons[0]!.message,
      /^IOGPU trigger score [45]: EXO wired the Metal working set \(\+2\), 2 requests in flight \(\+2\)/,
    );
    assert.equal(out.panics.length, 1);
    const p = out.panics[0]!;
    assert.equal(p.kind, 'completeMemory');
    assert.ok(Math.abs(p.time - panicTime) < 20, `panic at ${p.time}, written ${panicTime}`);
    assert.equal(p.levelAtPanic, 'high');
    assert.equal(p.firstWarning, toHigh.time);
    assert.equal(p.leadSeconds, Math.round((p.time - toHigh.time) / 100) / 10);
    assert.ok(p.leadSeconds! >= 2.5, `warned ${p.leadSeconds} s before`);
    assert.ok(out.levels['high']! >= 2.5);
    assert.equal(out.falseAlarms, 0);

    // The same timeline with concurrency weighing nothing: never high, the panic not warned.
    const cfg = `${dir.path}/no-concurrency.json`;
    writeFileSync(cfg, JSON.stringify({ risk: { weights: { concurrency: 0 } } }));
    const r2 = await runCli(['replay', '--db', db, ...range, '--config', cfg, '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    const out2 = JSON.parse(r2.stdout) as ReplayJson;
    assert.equal(out2.config, cfg);
    assert.equal(out2.ticks, out.ticks);
    // Never high before the panic. A tick that falls between the panic and the end of the range (100 ms)
    // counts the panic itself as recent (high, by design), so the seconds at high may be that sliver.
    assert.deepEqual(
      out2.changes.filter((c) => c.time < p.time && (c.to === 'high' || c.to === 'critical')),
      [],
    );
    assert.ok(out2.levels['high']! <= 0.1, `${out2.levels['high']} s at high`);
    assert.deepEqual(
      out2.panics.map((x) => [x.leadSeconds, x.firstWarning]),
      [[null, null]],
    );

    // The human form says the same; a bad --config names the file and the key.
    const text = await runCli(['replay', '--db', db, ...range, '--data-dir', dataDir]);
    assert.match(text.stdout, /panic \(completeMemory\) at \S+: warned [\d.]+ s before/);
    writeFileSync(cfg, JSON.stringify({ risk: { weights: { concurrency: 'lots' } } }));
    const bad = await runCli(['replay', '--db', db, '--config', cfg]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      new RegExp(`${cfg.replace(/[.]/g, '\\.')}: "risk\\.weights\\.concurrency" is "lots"`),
    );
    const both = await runCli(['replay', '--db', db, '--scenario', cfg]);
    assert.equal(both.code, 2);
  });

  it('backtest --json over the shipped corpus meets the targets', async () => {
    const r = await runCli(['backtest', '--json', '--data-dir', `${dir.path}/empty`]);
    assert.equal(r.code, 0, r.stderr);
    const b = JSON.parse(r.stdout) as {
      incidents: number;
      warned: number;
      leadSeconds: { min: number; median: number };
      healthyHours: number;
      falseAlarms: number;
      targetsMet: boolean;
      config: string;
    };
    assert.equal(b.config, 'defaults');
    assert.deepEqual(
      [b.incidents, b.warned, b.leadSeconds, b.falseAlarms, b.targetsMet],
      [8, 8, { min: 102, median: 240.5 }, 1, true],
    );
    assert.ok(b.healthyHours >= 24);
    assert.ok((b.falseAlarms * 24) / b.healthyHours <= 1);
  });
});
