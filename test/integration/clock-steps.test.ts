/**
 * A running daemon (real SQLite, real ticks) under a wall clock set three days forward for a moment and back,
 * and started again while it is ahead. Before, the tick at the forward clock ran retention at once (its
 * 10-minute cadence was counted on the wall clock) and deleted every raw sample stored; now retention runs on
 * the monotonic clock and its cut moves at most 2 h a pass.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { shiftedClock, startInProcessDaemon } from '../support/in-process-daemon.js';
import { tempDir } from '../support/temp-dir.js';

const DAY = 86_400_000;

describe('the timeline under a wall clock set forward and back', () => {
  const dir = tempDir('exo-sentinel-clock-');
  after(() => dir.cleanup());
  let offset = 0;
  const clock = shiftedClock(() => offset);

  async function run(
    ms: number,
    during?: () => Promise<void>,
    over: Record<string, unknown> = {},
    onSlowRead?: () => void,
  ): Promise<void> {
    const loaded = validateConfig({
      ...over,
      intervalSeconds: 0.2,
      exo: { url: 'http://127.0.0.1:9' },
      guard: { enabled: false },
      api: { enabled: false },
      reports: { dirs: [] },
    });
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.join('; '));
    const daemon = await startInProcessDaemon({
      dataDir: dir.path,
      config: loaded.config,
      clock,
      probe: (probe) => {
        if (onSlowRead) {
          const readGpu = probe.readGpu.bind(probe);
          probe.readGpu = (slow: boolean) => {
            if (slow) onSlowRead();
            return readGpu(slow);
          };
        }
        return probe;
      },
    });
    try {
      await sleep(ms);
      await during?.();
    } finally {
      await daemon.stop('test');
    }
  }

  const stored = (before: number): number => {
    const db = openDatabase(join(dir.path, 'timeline.db'), { readonly: true });
    try {
      return (db.prepare('SELECT count(*) n FROM samples WHERE ts < ?').get(before) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('keeps every sample through a moment three days ahead, and through a start while ahead', async () => {
    let jumpedAt = 0;
    let kept = 0;
    await run(1500, async () => {
      jumpedAt = Date.now();
      kept = stored(jumpedAt);
      assert.ok(kept >= 5, `${kept} samples before the jump`);
      offset = 3 * DAY;
      await sleep(1000); // ticks at the forward clock
      offset = 0;
      await sleep(500);
    });
    assert.equal(stored(jumpedAt), kept, 'nothing stored before the jump was deleted');

    // Started again while the clock is three days ahead: the start-up pass moves the cut 2 h, not 3 days.
    offset = 3 * DAY;
    await run(800);
    offset = 0;
    assert.equal(stored(jumpedAt), kept);
    const db = openDatabase(join(dir.path, 'timeline.db'), { readonly: true });
    try {
      const behind = new TimelineStore(db).events(0, Date.now() + 4 * DAY, 'storage.retention-behind');
      assert.equal(behind.length, 1, 'said once, when the cut fell behind the clock');
      assert.match(behind[0]!.message, /min behind the wall clock/);
    } finally {
      db.close();
    }
  });

  it('rolls a minute up as it ends, not at the next 10-minute retention pass', async () => {
    // The daemon's clock 1.5 s before a minute ends: it runs on past the end for 2 s.
    const t = Date.now();
    const end = Math.ceil((t + 3 * DAY) / 60_000) * 60_000;
    offset = end - 1500 - t;
    await run(3500);
    offset = 0;
    const db = openDatabase(join(dir.path, 'timeline.db'), { readonly: true });
    try {
      const ended = end - 60_000;
      const raw = (
        db.prepare('SELECT count(*) n FROM samples WHERE ts >= ? AND ts < ?').get(ended, end) as { n: number }
      ).n;
      const minute = db.prepare('SELECT n FROM samples_minute WHERE ts = ?').get(ended) as
        | { n: number }
        | undefined;
      assert.ok(raw >= 3, `${raw} samples in the minute that ended`);
      assert.equal(minute?.n, raw, 'the minute that ended is rolled up from all its samples');
    } finally {
      db.close();
    }
  });

  it('takes the slow readings on their cadence through a clock set back an hour', async () => {
    let slow = 0;
    await run(
      100,
      async () => {
        await sleep(1100);
        offset -= 3_600_000;
        slow = 0;
        await sleep(2300);
        offset += 3_600_000;
      },
      { slowIntervalSeconds: 1 },
      () => slow++,
    );
    // Before, none came until the clock had caught up (an hour): GPU, the process list and footprints on
    // macOS stayed at their last reading, stored as fresh.
    assert.ok(slow >= 2, `${slow} slow readings in 2.3 s at one a second`);
  });
});
