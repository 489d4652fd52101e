import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ActionConfigSchema } from '../../../src/main/core/actions/action-config.js';
import {
  guardModeFor,
  type PlannerMemory,
  planActions,
} from '../../../src/main/core/actions/action-planner.js';
import { ActionRunner, readGuardMode } from '../../../src/main/core/actions/action-runner.js';
import { AuditStore } from '../../../src/main/core/actions/audit-store.js';
import type { Notification, Notifier } from '../../../src/main/core/actions/notifier.js';
import { acknowledgeHold, readHold } from '../../../src/main/core/actions/post-panic-hold.js';
import { type Db, openDatabase } from '../../../src/main/core/store/database.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import type { RiskLevel, RiskState } from '../../../src/shared/risk.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
const config = ActionConfigSchema.parse({});

const state = (level: RiskLevel, over: Partial<RiskState> = {}): RiskState => ({
  level,
  since: 0,
  reasons: [{ signal: 'gpu-in-use', level, message: `GPU at ${level}` }],
  evaluatedAt: 0,
  score: 0,
  hold: null,
  ...over,
});
const memory = (over: Partial<PlannerMemory> = {}): PlannerMemory => ({
  lastNotify: {},
  lastUnload: null,
  guardMode: 'open',
  ...over,
});

describe('action policy', () => {
  it('maps levels to guard modes, and a post-panic hold serialises at least', () => {
    assert.deepEqual(
      (['ok', 'elevated', 'high', 'critical'] as RiskLevel[]).map((l) => guardModeFor(l, null, config)),
      ['open', 'serialise', 'refuse-new', 'cancel-newest'],
    );
    const hold = { since: 1, reportId: 1, kind: 'completeMemory', reason: 'panic' };
    assert.equal(guardModeFor('ok', hold, config), 'serialise');
    assert.equal(guardModeFor('high', hold, config), 'refuse-new');
  });

  it('notifies once per rise, respects the cool-down, and changes the guard only when the mode changes', () => {
    const rise = planActions(1000, 'ok', state('high'), memory(), config, []);
    assert.deepEqual(
      rise.map((a) => a.action),
      ['notify', 'guard-mode'],
    );
    assert.deepEqual(
      planActions(2000, 'high', state('high'), memory({ guardMode: 'refuse-new' }), config, []),
      [],
      'a steady level does nothing',
    );
    const again = planActions(
      60_000,
      'elevated',
      state('high'),
      memory({ guardMode: 'serialise', lastNotify: { high: 1000 } }),
      config,
      [],
    );
    assert.deepEqual(
      again.map((a) => a.action),
      ['guard-mode'],
      'within 10 min of the last high notification: no second one',
    );
    const later = planActions(
      1000 + 600_000,
      'elevated',
      state('high'),
      memory({ guardMode: 'serialise', lastNotify: { high: 1000 } }),
      config,
      [],
    );
    assert.deepEqual(
      later.map((a) => a.action),
      ['notify', 'guard-mode'],
    );
    assert.deepEqual(
      planActions(1000, 'high', state('ok'), memory({ guardMode: 'refuse-new' }), config, []).map(
        (a) => a.action,
      ),
      ['guard-mode'],
      'falling back opens the guard without a notification',
    );
  });

  it('unloads only when enabled, at its level, with instances on this node, after its cool-down', () => {
    assert.ok(
      !planActions(1, 'high', state('critical'), memory(), config, ['i1']).some((a) => a.action === 'unload'),
      'off by default',
    );
    const on = ActionConfigSchema.parse({ unload: { enabled: true } });
    const plan = planActions(1, 'high', state('critical'), memory(), on, ['i1']);
    assert.deepEqual(
      plan.find((a) => a.action === 'unload'),
      { action: 'unload', level: 'critical', reason: 'GPU at critical', instanceIds: ['i1'] },
    );
    assert.ok(
      !planActions(100_000, 'high', state('critical'), memory({ lastUnload: 1 }), on, ['i1']).some(
        (a) => a.action === 'unload',
      ),
    );
    assert.ok(
      !planActions(1, 'high', state('critical'), memory(), on, []).some((a) => a.action === 'unload'),
    );
  });

  it('names the first signal above ok as the reason, never an ok-level note such as an estimated ceiling', () => {
    const estimated = {
      signal: 'ceiling-estimated',
      level: 'ok' as const,
      message: 'Metal ceiling estimated',
    };
    const back = planActions(
      1,
      'high',
      state('ok', { reasons: [estimated] }),
      memory({ guardMode: 'refuse-new' }),
      config,
      [],
    );
    assert.deepEqual(
      back.map((a) => [a.action, a.reason]),
      [['guard-mode', 'no signal above ok']],
    );
    const up = planActions(
      1,
      'ok',
      state('high', { reasons: [estimated, { signal: 'wired', level: 'high', message: 'wired 93 %' }] }),
      memory(),
      config,
      [],
    );
    assert.ok(up.length > 0);
    for (const a of up) assert.equal(a.reason, 'wired 93 %');
  });
});

class RecordingNotifier implements Notifier {
  sent: Notification[] = [];
  async notify(n: Notification): Promise<{ ok: boolean; detail: string }> {
    this.sent.push(n);
    return { ok: true, detail: 'recorded' };
  }
}

/** A database of its own for one test, with the timeline and the audit trail over it. */
function stores(name: string): { db: Db; store: TimelineStore; audit: AuditStore } {
  const db = openDatabase(`${dir.path}/${name}.db`);
  return { db, store: new TimelineStore(db), audit: new AuditStore(db) };
}

/** A notifier whose every notification waits until `release()` (a banner that takes its 10 s). */
function slowNotifier(): { notifier: Notifier; release: () => void } {
  let pending: Array<() => void> = [];
  const notifier: Notifier = {
    notify: () => new Promise((r) => pending.push(() => r({ ok: true, detail: 'late' }))),
  };
  const release = (): void => {
    const now = pending;
    pending = [];
    for (const r of now) r();
  };
  return { notifier, release };
}

/** EXO's API as the runner uses it, keeping the instances it was asked to unload. */
function recordingExo(): { exo: ConstructorParameters<typeof ActionRunner>[4]; deleted: string[] } {
  const deleted: string[] = [];
  const exo = {
    deleteInstance: async (id: string) => {
      deleted.push(id);
      return { ok: true as const };
    },
  } as unknown as ConstructorParameters<typeof ActionRunner>[4];
  return { exo, deleted };
}

describe('action runner and audit trail (real SQLite)', () => {
  it('carries out the plan, records each action with its result, and persists the guard mode', async () => {
    const { db, store, audit } = stores('a');
    const notifier = new RecordingNotifier();
    const modes: string[] = [];
    const runner = new ActionRunner(config, store, audit, notifier, null, (m) => modes.push(m));
    // As the pipeline does each tick: the mode at once, the rest of the plan after.
    const update = { state: state('critical'), changed: true, previous: 'ok' as const };
    const events = [...runner.applyGuardMode(5000, update), ...(await runner.apply(5000, update, []))];
    assert.deepEqual(
      events.map((e) => e.kind),
      ['action.guard-mode', 'action.notify'],
    );
    assert.equal(notifier.sent[0]?.title, 'EXO risk critical');
    assert.deepEqual(modes, ['cancel-newest']);
    assert.equal(readGuardMode(store), 'cancel-newest');
    assert.deepEqual(
      audit.list().map((a) => [a.action, a.level, a.result, a.dryRun]),
      [
        ['guard-mode', 'critical', 'done', false],
        ['notify', 'critical', 'done', false],
      ],
    );
    db.close();
  });

  it('applies the guard mode in the tick itself, never behind a notification that takes 10 s', async () => {
    const { db, store, audit } = stores('slow');
    const { notifier: slow, release } = slowNotifier();
    const modes: Array<[string, number]> = [];
    const runner = new ActionRunner(config, store, audit, slow, null, (m) => modes.push([m, Date.now()]));
    const update = { state: state('critical'), changed: true, previous: 'ok' as const };
    const t = Date.now();
    const now = runner.applyGuardMode(5000, update);
    assert.deepEqual(
      now.map((e) => e.kind),
      ['action.guard-mode'],
    );
    assert.deepEqual(
      modes.map(([m]) => m),
      ['cancel-newest'],
    );
    assert.ok(modes[0]![1] - t < 100, 'applied synchronously');
    // The rest of the plan (the notification) runs afterwards and does not set the mode a second time.
    const rest = runner.apply(5000, update, []);
    release();
    assert.deepEqual(
      (await rest).map((e) => e.kind),
      ['action.notify'],
    );
    assert.equal(modes.length, 1);
    db.close();
  });

  it('in dry-run mode records what it would do and does nothing', async () => {
    const { db, store, audit } = stores('b');
    const notifier = new RecordingNotifier();
    const dry = ActionConfigSchema.parse({ dryRun: true, unload: { enabled: true } });
    const modes: string[] = [];
    const runner = new ActionRunner(dry, store, audit, notifier, null, (m) => modes.push(m));
    const update = { state: state('critical'), changed: true, previous: 'ok' as const };
    const events = [
      ...runner.applyGuardMode(5000, update),
      ...(await runner.apply(5000, update, ['inst-1'])),
    ];
    assert.equal(notifier.sent.length, 0);
    assert.equal(readGuardMode(store), 'open', 'the persisted mode is untouched');
    // The guard reads the runner's mode every tick: a dry run must not hand it the planned one.
    assert.equal(runner.guardMode, 'open');
    assert.deepEqual(modes, []);
    assert.deepEqual(
      audit.list().map((a) => [a.action, a.result, a.dryRun]),
      [
        ['guard-mode', 'dry-run', true],
        ['notify', 'dry-run', true],
        ['unload', 'dry-run', true],
      ],
    );
    assert.match(events[2]!.message, /^would unload EXO instance\(s\) inst-1/);
    // The next tick plans nothing again; out of the dry run, the level's mode is set at once, for real.
    assert.deepEqual(runner.applyGuardMode(6000, { ...update, previous: 'critical' }), []);
    const out = runner.setConfig(ActionConfigSchema.parse({ unload: { enabled: true } }));
    assert.deepEqual(
      out.map((e) => e.kind),
      ['action.guard-mode'],
    );
    assert.equal(runner.guardMode, 'cancel-newest');
    assert.deepEqual(modes, ['cancel-newest']);
    assert.equal(readGuardMode(store), 'cancel-newest');
    // What the dry run only planned starts no cool-down: the real notification and unload go out.
    await runner.apply(7000, { ...update, previous: 'critical' }, ['inst-1']);
    assert.equal(notifier.sent.length, 0, 'a steady level: no notification (that is for a rise)');
    assert.equal(audit.lastDone('unload'), 7000, 'unloaded for real (it failed: no EXO here)');
    // Back into a dry run: the guard stands down at once, and stays down after a restart.
    runner.setConfig(dry);
    assert.equal(runner.guardMode, 'open');
    assert.deepEqual(modes, ['cancel-newest', 'open']);
    assert.equal(readGuardMode(store), 'open', 'status shows the mode the guard applies');
    assert.equal(new ActionRunner(dry, store, audit, notifier, null).guardMode, 'open');
    // Out of it at a level that has fallen meanwhile: nothing from before the dry run is applied, not for a moment.
    runner.applyGuardMode(8000, { state: state('ok'), changed: true, previous: 'critical' });
    modes.length = 0;
    runner.setConfig(config);
    assert.equal(runner.guardMode, 'open');
    assert.deepEqual(modes, []);
    db.close();
  });

  it('in a dry run, a post-panic hold still serialises, and its end opens the guard', () => {
    const { db, store, audit } = stores('dryhold');
    const modes: string[] = [];
    const hold = { since: 1, reportId: 1, kind: 'completeMemory', reason: 'panic' };
    store.setMeta('post-panic-hold', JSON.stringify(hold));
    assert.ok(readHold(store), 'the hold as the daemon stores it');
    const dry = ActionConfigSchema.parse({ dryRun: true });
    const runner = new ActionRunner(dry, store, audit, new RecordingNotifier(), null, (m) => modes.push(m));
    assert.equal(runner.guardMode, 'serialise');
    acknowledgeHold(store, audit, 2, 'test');
    runner.applyGuardMode(3000, { state: state('ok'), changed: false, previous: 'ok' });
    assert.equal(runner.guardMode, 'open');
    assert.deepEqual(modes, ['open']);
    db.close();
  });

  it('a plan that waited behind a slow notification neither sets the mode of a level left nor unloads after it', async () => {
    const { db, store, audit } = stores('stale');
    const { notifier: slow, release } = slowNotifier();
    const { exo, deleted } = recordingExo();
    const modes: string[] = [];
    // Every rise notified (no cool-down), so each plan below waits behind its notification.
    const withUnload = ActionConfigSchema.parse({
      unload: { enabled: true },
      notify: { cooldownSeconds: 0 },
    });
    const runner = new ActionRunner(withUnload, store, audit, slow, exo, (m) => modes.push(m));
    const critical = { state: state('critical'), changed: true, previous: 'elevated' as const };
    runner.applyGuardMode(1000, critical);
    const late = runner.apply(1000, critical, ['inst-1']);
    // The level falls back to ok while the critical notification is still being sent.
    runner.applyGuardMode(2000, { state: state('ok'), changed: true, previous: 'critical' });
    release();
    const events = await late;
    assert.deepEqual(modes, ['cancel-newest', 'open'], 'no cancel-newest set again after the return to ok');
    assert.equal(runner.guardMode, 'open');
    assert.deepEqual(deleted, [], 'no unload once the level is below unload.minLevel');
    assert.deepEqual(
      events.map((e) => [e.kind, e.data?.['result']]),
      [
        ['action.notify', 'done'],
        ['action.unload', 'skipped: the level is ok now'],
      ],
    );
    // The next queued tick's plan (still critical when made) is skipped too, without a second row.
    const next = await runner.apply(1500, { ...critical, previous: 'critical' }, ['inst-1']);
    assert.deepEqual(next, []);
    assert.equal(audit.list().filter((a) => a.action === 'unload').length, 1);
    // Unloading turned off while a plan waits: at a level still critical, the plan does not unload either.
    runner.applyGuardMode(3000, { ...critical, previous: 'ok' });
    const waiting = runner.apply(3000, { ...critical, previous: 'ok' }, ['inst-1']);
    runner.setConfig(ActionConfigSchema.parse({}));
    release();
    assert.deepEqual(
      (await waiting).map((e) => [e.kind, e.data?.['result']]),
      [
        ['action.notify', 'done'],
        ['action.unload', 'skipped: unloading is off now'],
      ],
    );
    assert.deepEqual(deleted, []);
    db.close();
  });

  it('keeps the cool-downs across a restart: a daemon restarted in a loop does not unload and notify each time', async () => {
    const { db, store, audit } = stores('restart');
    const { exo, deleted } = recordingExo();
    const notifier = new RecordingNotifier();
    const cfg = ActionConfigSchema.parse({ unload: { enabled: true, cooldownSeconds: 3600 } });
    const update = { state: state('critical'), changed: true, previous: 'ok' as const };
    for (const [i, now] of [100_000, 110_000, 120_000].entries()) {
      const runner = new ActionRunner(cfg, store, audit, notifier, exo);
      runner.applyGuardMode(now, update);
      await runner.apply(now, update, ['inst-1']);
      assert.equal(deleted.length, 1, `start ${i + 1}: one unload in the hour`);
      assert.equal(notifier.sent.length, 1, `start ${i + 1}: one critical notification in its cool-down`);
    }
    // A clock set back an hour ends the cool-down rather than stretching it by the hour.
    const back = new ActionRunner(cfg, store, audit, notifier, exo);
    back.applyGuardMode(120_000 - 3_600_000, update);
    await back.apply(120_000 - 3_600_000, update, ['inst-1']);
    assert.equal(deleted.length, 2);
    // A skipped unload does not start a cool-down.
    audit.record({
      time: 130_000,
      action: 'unload',
      level: 'critical',
      reason: 'r',
      result: 'skipped: x',
      dryRun: false,
    });
    assert.equal(audit.lastDone('unload'), 120_000 - 3_600_000);
    // Nor does one only planned in a dry run.
    audit.record({
      time: 140_000,
      action: 'unload',
      level: 'critical',
      reason: 'r',
      result: 'dry-run',
      dryRun: true,
    });
    assert.equal(audit.lastDone('unload'), 120_000 - 3_600_000);
    db.close();
  });

  it('starts a post-panic hold that only `ack` ends', async () => {
    const { db, store, audit } = stores('c');
    const notifier = new RecordingNotifier();
    const runner = new ActionRunner(config, store, audit, notifier, null);
    const hold = {
      since: 7000,
      reportId: 4,
      kind: 'completeMemory',
      reason: 'completeMemory kernel panic (report 4)',
    };
    const evs = await runner.startHold(7000, hold);
    assert.equal(evs[0]?.kind, 'hold.started');
    assert.deepEqual(readHold(store), hold);
    assert.equal(notifier.sent[0]?.level, 'critical');
    assert.deepEqual(acknowledgeHold(store, audit, 9000, 'alice'), hold);
    assert.equal(readHold(store), null);
    assert.equal(acknowledgeHold(store, audit, 9500, 'alice'), null, 'nothing to end twice');
    assert.deepEqual(
      audit.list().map((a) => [a.action, a.reason]),
      [
        ['hold-start', 'completeMemory kernel panic (report 4)'],
        ['hold-end', 'acknowledged by alice'],
      ],
    );
    assert.equal(
      store.events(0, 10_000, 'hold.')[0]?.message,
      'post-panic hold (since 1970-01-01T00:00:07.000Z) acknowledged by alice',
    );
    db.close();
  });
});
