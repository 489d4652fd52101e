/**
 * Ticks held in memory while the timeline cannot take them (a disk full for inserts, simulated by a trigger on
 * `samples` on a real SQLite file), with a retention pass in the middle, through the daemon's own per-tick
 * sequence on TimelineStorage: every minute is rolled up from all its ticks once they are written. Before, the
 * pass (deletes and updates need no new pages, so it succeeded) moved the roll-up pointer past the minutes still
 * in memory, and they were never rolled up: a hole in every view longer than 6 h.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { TimelineStorage } from '../../src/main/core/daemon/timeline-storage.js';
import { EventCollector } from '../../src/main/core/event-collector.js';
import { makeSample } from '../support/sample-factory.js';
import { tempDir } from '../support/temp-dir.js';

describe('minute roll-ups while ticks wait in memory', () => {
  const dir = tempDir('exo-sentinel-rollup-');
  after(() => dir.cleanup());

  it('rolls up every minute from all its ticks, a retention pass during the failure included', () => {
    const T = Date.UTC(2026, 0, 10, 12, 0, 0);
    let now = T;
    const events = new EventCollector(() => now);
    const s = new TimelineStorage({
      path: join(dir.path, 'timeline.db'),
      intervalSeconds: 1,
      events,
      logger: pino({ level: 'silent' }),
    });
    s.db.exec(`CREATE TRIGGER full BEFORE INSERT ON samples WHEN (SELECT value FROM meta WHERE key = 'fail') = '1'
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`);
    const fail = s.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('fail', ?)");
    const [from, to, pass] = [T + 3 * 60_000, T + 6 * 60_000 + 30_000, T + 5 * 60_000];
    for (let i = 0; i < 10 * 60; i++) {
      now = T + i * 1000;
      fail.run(now >= from && now < to ? '1' : '0');
      const result = {
        sample: makeSample(now),
        changes: [],
        watched: [],
        leftOut: 0,
        deferred: 0,
        durationMs: 1,
      };
      if (s.writeTick(result, events.drain(), now, () => undefined)) s.rollUp(now);
      if (now === T || now === pass) s.retain(now, { rawDays: 2, minuteDays: 30 }, 2 * 3_600_000);
    }
    const minutes = s.db.prepare('SELECT ts, n FROM samples_minute ORDER BY ts').all() as Array<{
      ts: number;
      n: number;
    }>;
    assert.deepEqual(
      minutes.map((m) => [(m.ts - T) / 60_000, m.n]),
      Array.from({ length: 9 }, (_, i) => [i, 60]),
      'minutes 0-8 each rolled up from 60 ticks',
    );
    s.closeAfter({ time: now, kind: 'daemon.stopped', severity: 'info', message: 'test' });
  });
});
