import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { AuditStore } from '../../src/main/core/actions/audit-store.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { startFakeExo } from '../support/fake-exo-server.js';
import { fixture } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const linux = process.platform === 'linux';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';

interface Status {
  exo: {
    reachable: boolean;
    nodeId: string;
    inFlight: number;
    instances: Array<{ modelId: string }>;
    runners: Array<{ status: string }>;
    tasks: Array<{ inputChars: number; status: string }>;
    failures: Array<{ kind: string }>;
  };
  risk: {
    now: { level: string };
    daemon: { level: string; reasons: Array<{ signal: string; message: string }>; score: number } | null;
  };
  guardMode: string;
}

const status = async (dataDir: string, url: string): Promise<Status> => {
  const r = await runCli(['status', '--json', '--data-dir', dataDir, '--exo-url', url]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
};

async function until<T>(what: string, fn: () => Promise<T | null | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Starts a streaming chat request against the fake EXO and returns a way to abort it. */
function chat(url: string, promptChars: number): AbortController {
  const ac = new AbortController();
  void fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      stream: true,
      max_tokens: 8,
      messages: [{ role: 'user', content: 'x'.repeat(promptChars) }],
    }),
    signal: ac.signal,
  })
    .then((r) => r.text())
    .catch(() => undefined);
  return ac;
}

describe('the daemon against a fake EXO (state over time, failures, down and back)', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('shows instances, runners, tasks and failure states in status --json and the timeline, and judges concurrency with churn high', async () => {
    const exoHome = `${dir.path}/exo-home`;
    const dataDir = `${dir.path}/data`;
    const notified = `${dir.path}/notified.txt`;
    const fake = await startFakeExo({
      logPath: `${exoHome}/exo_log/exo.log`,
      bytesPerToken: 64 * 1024,
      prefillTokensPerSecond: 1500,
      tokenIntervalMs: 300,
    });
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({
        exo: { url: fake.url, home: exoHome },
        // macOS asks launchctl whether this is a desktop session (auto); a CI runner may not be one.
        ...(linux ? {} : { notifications: { desktop: 'on' } }),
        actions: {
          notify: {
            command: [
              process.execPath,
              '-e',
              'require("fs").appendFileSync(process.env.NOTIFIED, process.env.EXO_SENTINEL_LEVEL + " " + process.env.EXO_SENTINEL_TITLE + "\\n")',
            ],
          },
        },
      }),
    );
    // A desktop session: a session bus socket and a fake notify-send first on PATH, recording its argv
    // (macOS: a fake terminal-notifier, which the daemon prefers to osascript).
    const desktop = `${dir.path}/desktop`;
    mkdirSync(desktop);
    writeFileSync(`${desktop}/bus`, '');
    writeFileSync(
      `${desktop}/${linux ? 'notify-send' : 'terminal-notifier'}`,
      `#!/bin/sh\nfor a in "$@"; do printf '%s|' "$a"; done >> "${desktop}/banners"\necho >> "${desktop}/banners"\n`,
      { mode: 0o755 },
    );
    const daemon = await startDaemon(
      ['--data-dir', dataDir, '--interval', '0.5', '--reports-dir', `${dir.path}/reports`],
      {
        NOTIFIED: notified,
        PATH: `${desktop}:${process.env['PATH']}`,
        XDG_RUNTIME_DIR: desktop,
        DBUS_SESSION_BUS_ADDRESS: '',
      },
    );
    const requests: AbortController[] = [];
    try {
      const s0 = await until('EXO reachable in status', async () => {
        const s = await status(dataDir, fake.url);
        return s.exo.reachable && s.risk.daemon ? s : null;
      });
      assert.equal(s0.exo.nodeId, fake.nodeId);
      assert.deepEqual(
        s0.exo.instances.map((i) => i.modelId),
        [MODEL],
      );
      assert.deepEqual(
        s0.exo.runners.map((r) => r.status),
        ['RunnerRunning', 'RunnerRunning'],
      );
      assert.equal(s0.exo.inFlight, 0);
      assert.equal(s0.risk.daemon?.level, 'ok');

      // Two concurrent long prompts (40 000 characters each) and a KV-cache eviction: the best-evidenced trigger.
      requests.push(chat(fake.url, 40_000));
      await sleep(300);
      requests.push(chat(fake.url, 40_000));
      const s1 = await until('two requests in flight', async () => {
        const s = await status(dataDir, fake.url);
        return s.exo.inFlight === 2 ? s : null;
      });
      assert.deepEqual(
        s1.exo.tasks.map((t) => [t.status, t.inputChars]),
        [
          ['Running', 40_000],
          ['Running', 40_000],
        ],
      );
      assert.ok(!JSON.stringify(s1).includes('x'.repeat(100)), 'no prompt text in status');
      fake.log('INFO', 'KV cache evicted LRU entry (48211 tokens) due to memory usage');
      // The wired limit with two in flight is high already (2 + 2); the eviction adds its point once read.
      const high = await until('the daemon at high with the eviction counted', async () => {
        const s = await status(dataDir, fake.url);
        return s.risk.daemon?.level === 'high' && s.risk.daemon.score === 5 ? s : null;
      });
      const score = high.risk.daemon!.reasons.find((r) => r.signal === 'trigger-score');
      assert.equal(
        score?.message,
        'IOGPU trigger score 5: EXO wired the Metal working set (+2), 2 requests in flight (+2), 1 KV-cache eviction(s) and 0 model load/unload(s) in 2 min (+1)',
      );
      const afterHigh = await until('the guard set to refuse-new', async () => {
        const s = await status(dataDir, fake.url);
        return s.guardMode === 'refuse-new' ? s : null;
      });
      assert.equal(afterHigh.guardMode, 'refuse-new');
      await until(
        'the notification command ran',
        async () => existsSync(notified) && readFileSync(notified, 'utf8').includes('high EXO risk high'),
      );
      const banner = readFileSync(`${desktop}/banners`, 'utf8')
        .split('\n')
        .find((l) => l.includes('EXO risk high'));
      assert.match(
        banner ?? '',
        linux
          ? /^--app-name=exo-sentinel\|--urgency=normal\|--\|EXO risk high\|.+\|$/
          : /^-title\|EXO risk high\|-message\|.+\|-group\|exo-sentinel\..+\|$/,
      );
      for (const r of requests) r.abort();

      // Failure states: a failed runner, then runners gone while the instance stays.
      const jaccl = JSON.parse(fixture('exo/state-subpaths-jaccl-tensor.json'));
      fake.set('runners', {
        'a1d2c3b4-5e6f-4a7b-8c9d-0e1f2a3b4c5d':
          jaccl['GET /state/runners']['11111111-2222-4333-8444-555555555555'],
        'c9b8a7d6-e5f4-4321-9abc-def012345678': { RunnerRunning: {} },
      });
      const failed = await until('RunnerFailed in status', async () => {
        const s = await status(dataDir, fake.url);
        return s.exo.failures.some((f) => f.kind === 'runner-failed') ? s : null;
      });
      assert.ok(failed.exo.runners.some((r) => r.status === 'RunnerFailed'));
      await sleep(1200);
      fake.set('runners', {});
      await until('runners missing', async () =>
        (await status(dataDir, fake.url)).exo.failures.some((f) => f.kind === 'runners-missing'),
      );
      await sleep(1200);

      // Down, then back as a restarted EXO (new node id).
      const oldId = fake.nodeId;
      await fake.down();
      await until('EXO down in status', async () => !(await status(dataDir, fake.url)).exo.reachable);
      await sleep(1500);
      await fake.up();
      const back = await until('EXO back', async () => {
        const s = await status(dataDir, fake.url);
        return s.exo.reachable ? s : null;
      });
      assert.notEqual(back.exo.nodeId, oldId);
      // That was the CLI asking EXO itself; the daemon asks again on its own cadence (every 2, 4, then 5 s
      // while EXO was away and no EXO process ran), so wait until its timeline has the restart.
      await until(
        'the daemon records the restart',
        async () => {
          const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
          try {
            return new TimelineStore(db).events(0, Date.now() + 1000).some((e) => e.kind === 'exo.restarted');
          } finally {
            db.close();
          }
        },
        15_000,
      );
    } finally {
      for (const r of requests) r.abort();
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
      await fake.close();
    }

    const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
    const store = new TimelineStore(db);
    const events = store.events(0, Date.now() + 1000);
    const kinds = new Set(events.map((e) => e.kind));
    for (const k of [
      'exo.reachable',
      'exo.instance-present',
      'exo.wired-limit-set',
      'exo.kv-evicted',
      'exo.node-started',
      'risk.level',
      'action.guard-mode',
      'action.notify',
      'exo.runner-failed',
      'exo.runners-missing',
      'exo.unreachable',
      'exo.restarted',
    ]) {
      assert.ok(kinds.has(k), `timeline has ${k}; it has ${[...kinds].join(', ')}`);
    }
    const failedEvent = events.find((e) => e.kind === 'exo.runner-failed')!;
    assert.match(failedEvent.message, /Terminated \(signal=6 \(Abort trap: 6\)\).*RunnerMetalGpuTimeout/);
    const levels = events
      .filter((e) => e.kind === 'risk.level')
      .map((e) => [e.data?.['from'], e.data?.['to']]);
    // ok → (elevated when the second request is seen before the eviction, depending on tick timing) → high,
    // rising only: no flapping on the way up.
    const rank = ['ok', 'elevated', 'high', 'critical'];
    const toHigh = levels.findIndex((l) => l[1] === 'high');
    assert.ok(toHigh >= 0 && toHigh <= 1, `levels: ${JSON.stringify(levels)}`);
    assert.equal(levels[0]?.[0], 'ok');
    for (const [from, to] of levels.slice(0, toHigh + 1))
      assert.ok(rank.indexOf(String(to)) > rank.indexOf(String(from)));
    const samples = store.samples(0, Date.now() + 1000);
    assert.ok(samples.some((s) => s.exo.inFlight === 2 && s.exo.reachable === true));
    assert.ok(
      samples.some((s) => s.exo.reachable === false),
      'the outage is in the timeline',
    );
    assert.ok(samples.some((s) => s.riskLevel === 2));
    const audit = new AuditStore(db).list();
    assert.ok(
      audit.some(
        (a) => a.action === 'guard-mode' && a.detail?.['to'] === 'refuse-new' && a.result === 'done',
      ),
    );
    assert.ok(audit.some((a) => a.action === 'notify' && a.level === 'high' && a.result === 'done'));
    db.close();
  });

  it('doctor --json reads this machine and EXO', async () => {
    const fake = await startFakeExo();
    try {
      const r = await runCli(['doctor', '--json', '--exo-url', fake.url, '--data-dir', `${dir.path}/doc`]);
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout);
      assert.equal(d.platform.verdict, 'not-applicable');
      assert.equal(d.exo.reachable, true);
      assert.deepEqual(d.exo.models, [MODEL]);
      assert.equal(d.modelEvidence[0].source, 'https://github.com/exo-explore/exo/issues/1972');
      assert.equal(d.metal.ramBytes, d.identity.memoryBytes);
      assert.doesNotMatch(r.stdout, /MLX_METAL_MAX_BUFFER_SIZE/);
      const bad = await runCli(['doctor', '--exo-url', 'ftp://x']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x"/);
    } finally {
      await fake.close();
    }
  });
});
