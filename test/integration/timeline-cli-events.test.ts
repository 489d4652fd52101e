import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { runCli } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

describe('exo-sentinel timeline: the newest events first, bounded, with a cursor', () => {
  const dir = tempDir();
  const now = Date.now();
  before(() => {
    const db = openDatabase(`${dir.path}/timeline.db`);
    const store = new TimelineStore(db);
    db.transaction(() => {
      for (let i = 0; i < 2500; i++)
        store.writeEvent({
          time: now - (2500 - i) * 1000,
          kind: 'guard.request',
          severity: 'info',
          message: `decision ${i}`,
        });
    })();
    db.close();
  });
  after(dir.cleanup);

  it('--json: newest first, eventsTruncated and eventsNext; --before pages on; --limit caps', async () => {
    const first = await runCli(['timeline', '--data-dir', dir.path, '--since', '1h', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const a = JSON.parse(first.stdout);
    assert.equal(a.events.length, 1000);
    assert.equal(a.events[0].message, 'decision 2499', 'the newest event first');
    assert.equal(a.eventsTruncated, true);
    assert.equal(a.eventsNext, a.events[999].id);
    const older = await runCli([
      'timeline',
      '--data-dir',
      dir.path,
      '--since',
      '1h',
      '--json',
      '--before',
      String(a.eventsNext),
    ]);
    const b = JSON.parse(older.stdout);
    assert.equal(b.events[0].message, 'decision 1499');
    assert.equal(b.events.length, 1000);
    const last = JSON.parse(
      (
        await runCli([
          'timeline',
          '--data-dir',
          dir.path,
          '--since',
          '1h',
          '--json',
          '--before',
          String(b.eventsNext),
        ])
      ).stdout,
    );
    assert.equal(last.events.length, 500);
    assert.equal(last.eventsTruncated, false);
    assert.equal(last.eventsNext, null);
  });

  it('text: says how to see older events', async () => {
    const r = await runCli(['timeline', '--data-dir', dir.path, '--since', '1h', '--limit', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /events, newest first\n.*decision 2499\n.*decision 2498\n.*decision 2497\n/);
    assert.match(r.stdout, /\(newest 3 events shown; older ones: --before \d+\)\n$/);
    const bad = await runCli(['timeline', '--data-dir', dir.path, '--limit', '5000']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit expects a whole number from 1 to 1000, got "5000"/);
  });
});
