import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AuditStore } from '../../../src/main/core/actions/audit-store.js';
import {
  PROTECT_NOTICE,
  profileMode,
  readGuardProfile,
  setGuardProfile,
  takeProtectNotice,
} from '../../../src/main/core/actions/guard-profile.js';
import {
  type AdmissionContext,
  decideAdmission,
  modeReason,
} from '../../../src/main/core/guard/admission.js';
import { openDatabase } from '../../../src/main/core/store/database.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import type { GuardMode } from '../../../src/shared/risk.js';
import { tempDir } from '../../support/temp-dir.js';

const ON = { affected: true, wiredLimitActive: true };

describe('guard profiles: the mode each gives', () => {
  it('protect serialises on an affected platform while the wired limit is active, and never loosens the level', () => {
    assert.deepEqual(profileMode('protect', 'open', ON), { mode: 'serialise', byProfile: true });
    assert.deepEqual(profileMode('protect', 'open', { ...ON, affected: false }), {
      mode: 'open',
      byProfile: false,
    });
    assert.deepEqual(profileMode('protect', 'open', { ...ON, wiredLimitActive: false }), {
      mode: 'open',
      byProfile: false,
    });
    for (const m of ['serialise', 'refuse-new', 'cancel-newest'] as GuardMode[])
      assert.deepEqual(profileMode('protect', m, ON), { mode: m, byProfile: false }, m);
  });

  it('balanced follows the level; observe never holds a request back', () => {
    for (const m of ['open', 'serialise', 'refuse-new', 'cancel-newest'] as GuardMode[]) {
      assert.deepEqual(profileMode('balanced', m, ON), { mode: m, byProfile: false });
      assert.deepEqual(profileMode('observe', m, ON), { mode: 'open', byProfile: m !== 'open' });
    }
  });
});

describe('guard profiles: admission decisions under protect', () => {
  const ctx = (over: Partial<AdmissionContext> = {}): AdmissionContext => {
    const p = profileMode('protect', 'open', ON);
    return {
      level: 'ok',
      mode: p.mode,
      modeSource: p.byProfile ? 'profile' : 'level',
      hold: null,
      contextCap: null,
      modelContext: null,
      kvPerToken: null,
      headroomBytes: null,
      inFlight: 0,
      queued: 0,
      queueMax: 2,
      queuedByClient: 0,
      clientShare: 2,
      mostQueuedByOther: 0,
      ...over,
    };
  };
  const req = { promptTokens: 1000, maxTokens: 100, promptParam: 'messages' };

  it('admits the first request, queues the next behind it, refuses past the queue naming the profile', () => {
    assert.deepEqual(decideAdmission(ctx(), req), { decision: 'admit', tokens: 1100, kvBytes: null });
    assert.deepEqual(decideAdmission(ctx({ inFlight: 1 }), req), {
      decision: 'queue',
      tokens: 1100,
      kvBytes: null,
    });
    assert.deepEqual(decideAdmission(ctx({ inFlight: 1, queued: 1 }), req).decision, 'queue');
    const full = decideAdmission(ctx({ inFlight: 1, queued: 2 }), req);
    assert.equal(full.decision, 'refuse');
    assert.equal(full.decision === 'refuse' && full.status, 503);
    assert.equal(
      full.decision === 'refuse' && full.message,
      `the queue is full (2 waiting) while requests are serialised: ${modeReason(ctx())}`,
    );
    assert.match(modeReason(ctx()), /protect profile serialises .*`exo-sentinel guard profile balanced`/);
  });

  it('under balanced the same requests run side by side', () => {
    const p = profileMode('balanced', 'open', ON);
    assert.equal(
      decideAdmission(ctx({ mode: p.mode, modeSource: 'level', inFlight: 3 }), req).decision,
      'admit',
    );
  });
});

describe('guard profiles: stored choice and the one-time notice', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('a chosen profile overrides the configured one, is audited and in the timeline; the notice comes once', () => {
    const db = openDatabase(`${dir.path}/t.db`);
    const store = new TimelineStore(db);
    const audit = new AuditStore(db);
    assert.equal(readGuardProfile(store, 'protect'), 'protect');
    assert.equal(readGuardProfile(store, 'balanced'), 'balanced');
    assert.equal(setGuardProfile(store, audit, 'observe', 'protect', 1000, 'alice'), true);
    assert.equal(setGuardProfile(store, audit, 'observe', 'protect', 2000, 'alice'), false);
    assert.equal(readGuardProfile(store, 'protect'), 'observe');
    const events = store.events(0, 10_000, 'guard.profile');
    assert.deepEqual(
      events.map((e) => [e.severity, e.message]),
      [['warning', 'guard profile observe chosen by alice (was protect)']],
    );
    assert.deepEqual(
      audit.list().map((a) => [a.action, a.reason]),
      [['guard-profile', 'guard profile observe chosen by alice (was protect)']],
    );
    assert.equal(takeProtectNotice(store), true);
    assert.equal(takeProtectNotice(store), false);
    assert.match(PROTECT_NOTICE, /why|mlx#3186/);
    assert.match(PROTECT_NOTICE, /costs throughput/);
    assert.match(PROTECT_NOTICE, /guard profile balanced.*guard profile observe/);
    db.close();
  });
});
