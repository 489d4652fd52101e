import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { wirePowerEvents } from '../../src/main/app/power-events.js';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import { Daemon } from '../../src/main/core/daemon.js';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { createProbe } from '../../src/main/core/probes/create-probe.js';
import { type DatabaseConstructor, openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { freePort } from '../support/free-port.js';
import { tempDir } from '../support/temp-dir.js';

// The daemon as the menu-bar app runs it: in-process, with the shell's SQLite driver injected, its live
// stream going to the window instead of SSE, and sampling paused by powerMonitor across sleep.
describe('the daemon in-process, as the Electron main process hosts it', () => {
  it('uses the injected driver, publishes each tick, pauses across sleep, resumes on wake, keeps a pinned guard mode, flushes on quit', async () => {
    const dir = tempDir('exo-sentinel-inproc-');
    try {
      const reports = join(dir.path, 'reports');
      mkdirSync(reports);
      const loaded = validateConfig({
        intervalSeconds: 0.2,
        api: { enabled: false },
        guard: { enabled: false, wakeHoldSeconds: 1 },
        exo: { url: `http://127.0.0.1:${await freePort()}` },
        reports: { dirs: [reports] },
      });
      assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
      let opened = 0;
      const Driver = function (this: unknown, path: string, options?: Database.Options) {
        opened++;
        return new Database(path, options);
      } as unknown as DatabaseConstructor;
      const events = new EventCollector(() => Date.now());
      const deps = {
        dataDir: dir.path,
        config: loaded.config,
        probe: createProbe(events),
        events,
        logger: pino({ level: 'silent' }),
        Driver,
        reportDirs: [reports],
      };
      const daemon = new Daemon(deps);
      const published: string[] = [];
      daemon.onPublish = (message) => published.push(message.event);
      const begun = await daemon.begin();
      assert.ok(begun.ok, begun.ok ? '' : begun.error);
      assert.ok(opened >= 1, 'the store was opened with the shell-provided driver');

      const power = new Map<string, () => void>();
      const fakePower = {
        on(event: string, fn: () => void) {
          power.set(event, fn);
          return fakePower;
        },
      };
      wirePowerEvents(fakePower as never, daemon);
      daemon.start();
      await sleep(900);
      const beforeSleep = daemon.tickCount;
      assert.ok(beforeSleep >= 2, `ticked ${beforeSleep} times in 0.9 s at 0.2 s`);
      assert.ok(
        published.includes('sample') && published.includes('event'),
        `published: ${[...new Set(published)].join(', ')}`,
      );

      power.get('suspend')!();
      await sleep(150); // a tick already in flight may still land
      const asleep = daemon.tickCount;
      await sleep(800);
      assert.equal(daemon.tickCount, asleep, 'no sampling while asleep');

      power.get('resume')!();
      // New requests are held from the sleep notice until guard.wakeHoldSeconds after the wake.
      assert.equal(daemon.service.status()['guardModeSource'], 'wake-hold');
      assert.equal(daemon.service.status()['guardMode'], 'refuse-new');
      await sleep(700);
      assert.ok(daemon.tickCount >= asleep + 2, `ticks resumed: ${asleep} → ${daemon.tickCount}`);
      await sleep(500);
      assert.equal(daemon.service.status()['wakeHold'], null, 'the 1 s hold is over');

      // The menu's guard switch pins the mode over the level's, through ticks, until "Automatic".
      assert.equal(daemon.service.status()['guardMode'], 'open');
      daemon.service.setGuardMode('serialise', 'the menu bar');
      await sleep(500);
      assert.equal(daemon.service.status()['guardMode'], 'serialise', 'ticks do not undo a pinned mode');
      assert.equal(daemon.service.status()['guardOverride'], 'serialise');

      await daemon.stop('quit');
      const db = openDatabase(join(dir.path, 'timeline.db'), { readonly: true });
      try {
        const store = new TimelineStore(db);
        const kinds = store.events(0, Date.now() + 1000).map((e) => e.kind);
        for (const k of ['power.sleep', 'power.wake', 'daemon.stopped'])
          assert.ok(kinds.includes(k), `${k} in the timeline: ${kinds.join(', ')}`);
        assert.equal(store.sampleCount(), daemon.tickCount, 'every tick is on disk after quit');
        const pinned = store.events(0, Date.now() + 1000, 'guard.override');
        assert.equal(pinned.length, 1);
        assert.match(
          pinned[0]!.message,
          /guard pinned to serialise by the menu bar \(the level alone would give open\)/,
        );
      } finally {
        db.close();
      }
      const again = new Daemon(deps);
      assert.ok((await again.begin()).ok);
      assert.equal(again.service.status()['guardMode'], 'serialise', 'the pin survives a restart');
      again.service.setGuardMode(null, 'the menu bar');
      assert.equal(again.service.status()['guardMode'], 'open', 'Automatic follows the level again');
      await again.stop('test');
    } finally {
      dir.cleanup();
    }
  });
});
