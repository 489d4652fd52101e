import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { AuditStore } from '../../src/main/core/actions/audit-store.js';
import { ApiConfigSchema } from '../../src/main/core/api/api-config.js';
import { ApiServer } from '../../src/main/core/api/api-server.js';
import { Metrics } from '../../src/main/core/api/metrics.js';
import { loadConfig, validateConfig } from '../../src/main/core/config/config-loader.js';
import { ConfigReloader } from '../../src/main/core/config/config-reload.js';
import type { Config } from '../../src/main/core/config/config-schema.js';
import { SentinelService } from '../../src/main/core/service/sentinel-service.js';
import { type Db, openDatabase } from '../../src/main/core/store/database.js';
import { ReportStore } from '../../src/main/core/store/report-store.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { makeStatusView } from '../support/status-view-factory.js';
import { tempDir } from '../support/temp-dir.js';

const TOKEN = 'stored-guard-token-0123456789';
const API_TOKEN = 'x'.repeat(32);

/**
 * Random bodies against PUT /api/v1/config and POST /api/v1/config/reload, with a real reloader behind the
 * API: never a 500, never a file the daemon cannot read, never a token in an answer, and what the API says
 * was applied is what the running configuration holds.
 */
describe('configuration writes over HTTP under random bodies', () => {
  const dir = tempDir();
  const path = join(dir.path, 'config.json');
  let db: Db;
  let server: ApiServer;
  let reloader: ConfigReloader;
  let running: Config;
  let base: string;

  before(async () => {
    writeFileSync(path, JSON.stringify({ guard: { token: TOKEN } }), { mode: 0o600 });
    const start = loadConfig(path);
    assert.ok(start.ok);
    running = start.config;
    reloader = new ConfigReloader({
      locate: () => path,
      load: (p) => loadConfig(p),
      started: running,
      apply: (next) => {
        running = next;
        return [];
      },
      report: () => undefined,
    });
    db = openDatabase(join(dir.path, 'timeline.db'));
    server = new ApiServer({
      config: ApiConfigSchema.parse({ listen: '127.0.0.1:0' }),
      token: API_TOKEN,
      metrics: new Metrics(),
      service: new SentinelService({
        timeline: new TimelineStore(db),
        reports: new ReportStore(db),
        audit: new AuditStore(db),
        now: Date.now,
        status: () => makeStatusView(),
        config: () => running,
        configPath: () => path,
        configReload: { state: () => reloader.state, reload: (trigger) => reloader.reload(trigger) },
      }),
      dashboardDir: null,
    });
    const a = await server.start();
    base = `http://127.0.0.1:${a.port}`;
  });
  after(async () => {
    await server.stop();
    db.close();
    dir.cleanup();
  });

  /** Bodies a Settings form would send: every value valid, the token masked, kept, replaced or removed. */
  const valid = fc.record(
    {
      intervalSeconds: fc.constantFrom(0.5, 1, 2),
      guard: fc.record(
        {
          token: fc.constantFrom('••••6789', TOKEN, null, 'a-new-token-of-twenty-chars'),
          contextCap: fc.constantFrom(null, 4096, 8192),
          queue: fc.record({ max: fc.integer({ min: 0, max: 1000 }) }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
      actions: fc.record(
        { guardProfile: fc.constantFrom('protect', 'balanced', 'observe') },
        { requiredKeys: [] },
      ),
      $schema: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: [] },
  );
  /** The same shape with hostile values: wrong types, out of range, another token's mask, programs, unknown keys. */
  const hostile = fc.record(
    {
      intervalSeconds: fc.oneof(fc.double({ noNaN: true }), fc.constant(2)),
      guard: fc.record(
        {
          token: fc.oneof(fc.constant('••••0000'), fc.string(), fc.constant(null)),
          contextCap: fc.oneof(fc.integer({ min: -10, max: 1_000_000 }), fc.constant(null)),
          queue: fc.record({ max: fc.integer({ min: -5, max: 2000 }) }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
      actions: fc.record(
        {
          guardProfile: fc.constantFrom('protect', 'nope'),
          notify: fc.record({ command: fc.constantFrom(null, ['/bin/true']) }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
      unknown: fc.integer(),
    },
    { requiredKeys: [] },
  );
  const config = fc.oneof(
    { arbitrary: fc.json({ maxDepth: 3 }).map((t) => JSON.parse(t) as unknown), weight: 1 },
    { arbitrary: hostile, weight: 1 },
    { arbitrary: valid, weight: 2 },
  );

  it('PUT answers 200 or 400 naming the problem, the file always loads, the token never shows', async () => {
    const seen = { 200: 0, 400: 0 };
    await fc.assert(
      fc.asyncProperty(config, async (body) => {
        const before = readFileSync(path, 'utf8');
        // As the owner (the CLI, or a client with <data>/api-token): the token and the other owner-only
        // fields may change; without it such a change is 401 (the next test).
        const r = await fetch(`${base}/api/v1/config`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${API_TOKEN}` },
          body: JSON.stringify(body),
        });
        const text = await r.text();
        assert.ok(r.status === 200 || r.status === 400, `${r.status} ${text}`);
        seen[r.status as 200 | 400]++;
        assert.ok(!text.includes(TOKEN), 'the stored token is never served');
        const stored = loadConfig(path);
        assert.ok(stored.ok, 'the file on disk always loads');
        if (r.status === 400) {
          assert.equal(readFileSync(path, 'utf8'), before, 'a refused write leaves the file as it was');
          assert.match((JSON.parse(text) as { error: { message: string } }).error.message, /^config: /);
        } else {
          const answer = JSON.parse(text) as { reloaded: boolean; applied: string[] };
          assert.equal(answer.reloaded, true);
          // What the file holds now is what runs (no restart-only key is in these bodies but intervalSeconds).
          assert.equal(running.guard.contextCap, stored.config.guard.contextCap);
          assert.equal(running.actions.guardProfile, stored.config.actions.guardProfile);
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(seen[200] >= 20 && seen[400] >= 20, JSON.stringify(seen));
  });

  it('without the API token, a PUT that changes or drops the guard token is 401 and writes nothing', async () => {
    writeFileSync(path, JSON.stringify({ guard: { token: TOKEN } }), { mode: 0o600 });
    const before = readFileSync(path, 'utf8');
    for (const body of [
      {},
      { guard: { token: null } },
      { guard: { token: 'a-new-token-of-twenty-chars' } },
    ]) {
      const r = await fetch(`${base}/api/v1/config`, { method: 'PUT', body: JSON.stringify(body) });
      const text = await r.text();
      assert.equal(r.status, 401, text);
      assert.match(
        text,
        /"guard\.token\\" decides who may use the guard: changing it needs the bearer token/,
      );
      assert.ok(!text.includes(TOKEN));
      assert.equal(readFileSync(path, 'utf8'), before);
    }
  });

  it("a PATCH waits for another writer's lock on the file, and says so when it is held too long", async () => {
    writeFileSync(path, JSON.stringify({ guard: { token: TOKEN } }), { mode: 0o600 });
    const before = readFileSync(path, 'utf8');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)'], { stdio: 'ignore' });
    try {
      writeFileSync(`${path}.lock`, String(holder.pid));
      const r = await fetch(`${base}/api/v1/config`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${API_TOKEN}` },
        body: JSON.stringify({ set: { logLevel: 'debug' } }),
      });
      const text = await r.text();
      assert.equal(r.status, 500, text);
      assert.match(text, /config\.json is being changed by another process/);
      assert.equal(readFileSync(path, 'utf8'), before, 'nothing written past the lock');
    } finally {
      holder.kill();
      rmSync(`${path}.lock`, { force: true });
    }
    const released = await fetch(`${base}/api/v1/config`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ set: { logLevel: 'debug' } }),
    });
    assert.equal(released.status, 200, await released.text());
  });

  it('POST /config/reload reads the file as it is: a broken one is 400 and changes nothing', async () => {
    const good = readFileSync(path, 'utf8');
    const kept = running;
    writeFileSync(path, '{"guard": {"contextCap": 1}}');
    const bad = await fetch(`${base}/api/v1/config/reload`, { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { error: { message: string } }).error.message,
      /"guard\.contextCap" is 1/,
    );
    assert.equal(running, kept);
    writeFileSync(path, good);
    const ok = await fetch(`${base}/api/v1/config/reload`, { method: 'POST' });
    assert.equal(ok.status, 200);
    assert.ok(existsSync(path));
    const v = validateConfig(JSON.parse(good));
    assert.ok(v.ok);
  });
});
