import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { wakeNotice, writeWakeHold } from '../../src/main/core/actions/wake-hold.js';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import type { Daemon } from '../../src/main/core/daemon.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { runCli } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { freePort } from '../support/free-port.js';
import { shiftedClock, startInProcessDaemon } from '../support/in-process-daemon.js';
import { tempDir } from '../support/temp-dir.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';

async function chat(guard: string): Promise<{ status: number; retryAfter: string | null; body: string }> {
  const res = await fetch(`${guard}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, max_tokens: 4, messages: [{ role: 'user', content: 'hello' }] }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
}

/** Polls until `f` holds (the daemon ticks every 0.2 s). */
async function until<T>(f: () => Promise<T | null>, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('the sleep/wake hold in a running daemon (real guard, real HTTP, real SQLite)', () => {
  const dir = tempDir('exo-sentinel-wake-');
  let fake: FakeExoControl;
  let daemon: Daemon;
  let guard: string;
  let api: string;
  // The wall clock the daemon reads: the real one plus what the test adds; its monotonic clock is real.
  let offset = 0;
  const clock = shiftedClock(() => offset);

  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 1 });
    const reports = join(dir.path, 'reports');
    mkdirSync(reports);
    const [gp, ap] = [await freePort(), await freePort()];
    const loaded = validateConfig({
      intervalSeconds: 0.2,
      exo: { url: fake.url },
      guard: { listen: `127.0.0.1:${gp}`, wakeHoldSeconds: 2 },
      api: { listen: `127.0.0.1:${ap}` },
      reports: { dirs: [reports] },
    });
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
    daemon = await startInProcessDaemon({
      dataDir: dir.path,
      config: loaded.config,
      clock,
      reportDirs: [reports],
    });
    guard = `http://127.0.0.1:${gp}`;
    api = `http://127.0.0.1:${ap}`;
  });
  after(async () => {
    await daemon?.stop('test');
    await fake?.close();
    dir.cleanup();
  });

  it('a jump of the wall clock past the monotonic one (a sleep) refuses new requests with 503 + Retry-After until the hold ends', async () => {
    await until(async () => ((await chat(guard)).status === 200 ? true : null), 'the guard to admit');

    await sleep(600); // ticks have run: the jump falls between two of them
    offset += 3_600_000; // an hour of wall time between two ticks, no monotonic time: the machine slept
    const refused = await until(async () => {
      const r = await chat(guard);
      return r.status === 503 ? r : null;
    }, 'the hold to refuse');
    const after = Date.now();
    const retry = Number(refused.retryAfter);
    assert.ok(retry >= 1 && retry <= 3, `Retry-After ${refused.retryAfter} is the ≤ 2 s left (+ ≤ 20 %)`);
    const err = JSON.parse(refused.body) as { error: { message: string; type: string } };
    assert.match(
      err.error.message,
      /^sleep\/wake hold: the machine slept \(seen from a clock gap\) and woke at .*\(guard\.wakeHoldSeconds 2;/,
    );

    // The status (in-process and over the API) shows the hold and why.
    const status = (await (await fetch(`${api}/api/v1/status`)).json()) as Record<string, unknown>;
    assert.equal(status['guardMode'], 'refuse-new');
    assert.equal(status['guardModeSource'], 'wake-hold');
    const hold = status['wakeHold'] as { via: string; reason: string; until: number; since: number };
    assert.equal(hold.via, 'clock-gap');
    assert.match(hold.reason, /omlx#978/);
    assert.ok(hold.until - hold.since >= 3_600_000, 'held from the last tick before the gap');

    // Still refused before the end; admitted again after it, with no one touching anything.
    if (Date.now() - after < 1000) assert.equal((await chat(guard)).status, 503);
    const back = await until(async () => {
      const r = await chat(guard);
      return r.status === 200 ? Date.now() : null;
    }, 'the hold to end');
    assert.ok(
      back - after >= 500 && back - after < 4000,
      `admitted again ${back - after} ms after the refusal`,
    );
    const later = daemon.service.status();
    assert.equal(later['guardModeSource'], 'level');
    assert.equal(later['wakeHold'], null);

    await sleep(300);
    const db = openDatabase(join(dir.path, 'timeline.db'), { readonly: true });
    try {
      const store = new TimelineStore(db);
      const kinds = store.events(0, clock.now() + 1000).map((e) => e.kind);
      for (const k of ['power.wake', 'guard.wake-hold', 'guard.wake-hold-ended'])
        assert.ok(kinds.includes(k), `${k} in the timeline`);
      const wake = store.events(0, clock.now() + 1000, 'power.wake').at(-1)!;
      assert.equal(wake.data?.['inferred'], true);
    } finally {
      db.close();
    }
  });

  it('a clock set a day forward (taken for a sleep) and back: the hold lasts its 2 s, not the day', async () => {
    await until(async () => ((await chat(guard)).status === 200 ? true : null), 'the guard to admit');
    await sleep(600);
    offset += 86_400_000;
    await until(async () => ((await chat(guard)).status === 503 ? true : null), 'the hold to refuse');
    offset -= 86_400_000;
    const setBack = Date.now();
    // Before, the hold ended a day ahead on the restored clock: refused with Retry-After ~86 400 s, across
    // restarts (it is stored).
    const back = await until(
      async () => ((await chat(guard)).status === 200 ? Date.now() : null),
      'the hold to end',
      6000,
    );
    assert.ok(back - setBack < 4000, `admitted again ${back - setBack} ms after the clock was set back`);
    const db = openDatabase(join(dir.path, 'timeline.db'), { readonly: true });
    try {
      const stored = JSON.parse(
        (db.prepare("SELECT value FROM meta WHERE key = 'wake-hold'").get() as { value: string }).value,
      ) as { until: number };
      assert.ok(stored.until <= clock.now() + 2000, 'the stored hold ends within its length of now');
    } finally {
      db.close();
    }
  });

  it('the app path: from the sleep notice to N seconds after the wake', async () => {
    await until(async () => ((await chat(guard)).status === 200 ? true : null), 'the guard to admit');
    daemon.pause('the machine is going to sleep');
    const asleep = await chat(guard);
    assert.equal(asleep.status, 503, 'refused from the sleep notice on, before any tick');
    assert.match(asleep.body, /the machine sleeps since .* until 2 s after the wake/);
    await sleep(500);
    assert.equal((await chat(guard)).status, 503, 'still refused while asleep');
    daemon.resume('the machine woke up');
    const woke = Date.now();
    const r = await chat(guard);
    assert.equal(r.status, 503);
    assert.ok(Number(r.retryAfter) >= 1 && Number(r.retryAfter) <= 3, `Retry-After ${r.retryAfter}`);
    const back = await until(async () => ((await chat(guard)).status === 200 ? Date.now() : null), 'the end');
    assert.ok(back - woke >= 1800, `admitted ${back - woke} ms after the wake (hold 2 s)`);
  });

  it('`exo-sentinel status` shows a hold the daemon stored, with its reason, and not once it is over', async () => {
    const data = join(dir.path, 'cli');
    mkdirSync(data);
    const db = openDatabase(join(data, 'timeline.db'));
    const now = Date.now();
    writeWakeHold(new TimelineStore(db), wakeNotice(null, now, 120, 'clock-gap', now - 3_600_000));
    db.close();
    const args = ['--data-dir', data, '--exo-url', fake.url];
    const [json, text] = await Promise.all([
      runCli(['status', '--json', ...args]),
      runCli(['status', ...args]),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const hold = JSON.parse(json.stdout).wakeHold as { until: number; via: string; reason: string };
    assert.equal(hold.until, now + 120_000);
    assert.equal(hold.via, 'clock-gap');
    assert.match(
      text.stdout,
      /^wake hold {5}the machine slept \(seen from a clock gap\) and woke at .*guard\.wakeHoldSeconds 120/m,
    );

    const db2 = openDatabase(join(data, 'timeline.db'));
    writeWakeHold(new TimelineStore(db2), wakeNotice(null, now - 600_000, 120, 'power-event'));
    db2.close();
    const over = await runCli(['status', '--json', ...args]);
    assert.equal(JSON.parse(over.stdout).wakeHold, null);
  });
});
