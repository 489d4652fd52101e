import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { AuditStore } from '../../src/main/core/actions/audit-store.js';
import { readGuardProfile } from '../../src/main/core/actions/guard-profile.js';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import { Daemon } from '../../src/main/core/daemon.js';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { createProbe } from '../../src/main/core/probes/create-probe.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dir.js';

type Json = Record<string, unknown>;

describe('GET/PUT /api/v1/guard/profile on a running daemon (real HTTP, real SQLite)', () => {
  const dir = tempDir('exo-sentinel-profile-api-');
  let daemon: Daemon;
  let api: string;

  before(async () => {
    const reports = join(dir.path, 'reports');
    mkdirSync(reports);
    const port = await freePort();
    const loaded = validateConfig({
      intervalSeconds: 0.5,
      guard: { enabled: false },
      api: { listen: `127.0.0.1:${port}` },
      exo: { url: `http://127.0.0.1:${await freePort()}` },
      reports: { dirs: [reports] },
    });
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
    const events = new EventCollector(() => Date.now());
    daemon = new Daemon({
      dataDir: dir.path,
      config: loaded.config,
      probe: createProbe(events),
      events,
      logger: pino({ level: 'silent' }),
      reportDirs: [reports],
    });
    const begun = await daemon.begin();
    assert.ok(begun.ok, begun.ok ? '' : begun.error);
    api = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await daemon?.stop('test');
    dir.cleanup();
  });

  const put = async (body: unknown): Promise<{ status: number; json: Json }> => {
    const r = await fetch(`${api}/api/v1/guard/profile`, { method: 'PUT', body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as Json };
  };

  it('reads the profile, refuses a bad one naming the field, and chooses one as the CLI does (kept, audited)', async () => {
    const got = (await (await fetch(`${api}/api/v1/guard/profile`)).json()) as Json;
    assert.deepEqual(got, {
      profile: 'protect',
      configured: 'protect',
      profiles: ['protect', 'balanced', 'observe'],
    });

    const bad = await put({ profile: 'reckless' });
    assert.equal(bad.status, 400);
    assert.match(String((bad.json['error'] as Json)['message']), /^body: "profile" is "reckless"/);
    assert.equal((await put({ profile: 'observe', extra: 1 })).status, 400, 'unknown keys are refused');
    assert.equal(
      (await fetch(`${api}/api/v1/guard/profile`, { method: 'PUT', body: '{not json' })).status,
      400,
    );

    const chosen = await put({ profile: 'observe' });
    assert.equal(chosen.status, 200);
    assert.deepEqual(
      {
        profile: chosen.json['profile'],
        configured: chosen.json['configured'],
        changed: chosen.json['changed'],
      },
      { profile: 'observe', configured: 'protect', changed: true },
    );
    assert.equal(
      (await put({ profile: 'observe' })).json['changed'],
      false,
      'choosing it again changes nothing',
    );
    const status = (await (await fetch(`${api}/api/v1/status`)).json()) as Json;
    assert.equal(status['guardProfile'], 'observe');

    // The same store key the CLI (`exo-sentinel guard profile`) reads and writes, and one audit row.
    const db = openDatabase(join(dir.path, 'timeline.db'), { readonly: true });
    try {
      assert.equal(readGuardProfile(new TimelineStore(db), 'protect'), 'observe');
      const audited = new AuditStore(db).list().filter((a) => a.action === 'guard-profile');
      assert.equal(audited.length, 1);
      assert.equal(audited[0]!.reason, 'guard profile observe chosen by the API (was protect)');
    } finally {
      db.close();
    }
    // The menu bar goes through the same call.
    assert.equal(daemon.service.setGuardProfile('balanced', 'the menu bar').profile, 'balanced');
    assert.equal(
      ((await (await fetch(`${api}/api/v1/guard/profile`)).json()) as Json)['profile'],
      'balanced',
    );
  });
});
