import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Metrics } from '../../../src/main/core/api/metrics.js';
import { CounterRecorder, HistogramRecorder } from '../../../src/main/core/api/metrics-state.js';
import { repoRoot } from '../../support/fixtures.js';

describe('metrics recorded without prom-client', () => {
  it('counts per label set whatever the order of the labels; a negative or non-finite step counts nothing', () => {
    const c = new CounterRecorder();
    c.inc({ decision: 'refuse', status: '503' }, 0);
    c.inc({ status: '503', decision: 'refuse' });
    c.inc({ decision: 'refuse', status: '503' }, 2);
    c.inc({ decision: 'admit', status: '200' });
    c.inc({ decision: 'admit', status: '200' }, -5);
    c.inc({ decision: 'admit', status: '200' }, Number.NaN);
    assert.deepEqual(c.series(), [
      { labels: { decision: 'refuse', status: '503' }, value: 3 },
      { labels: { decision: 'admit', status: '200' }, value: 1 },
    ]);
  });

  it('keeps cumulative bucket counts, the sum and the count, a value past the last bucket only in +Inf', () => {
    const h = new HistogramRecorder([0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 3, 42, Number.POSITIVE_INFINITY]) h.observe(v);
    const s = h.snapshot();
    assert.deepEqual(s.cumulative, [2, 3, 4]);
    assert.equal(s.count, 5, 'the infinite value is not counted');
    assert.equal(Math.round(s.sum * 100) / 100, 45.65);
  });

  it('loads prom-client only when /metrics is first rendered', () => {
    // A separate process, so this test's own imports do not count: the built module, as the daemon runs it.
    const script = `
      import { createRequire } from 'node:module';
      const { Metrics } = await import(${JSON.stringify(join(repoRoot, 'dist/main/core/api/metrics.js'))});
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/prom-client/'));
      const m = new Metrics();
      m.tickSeconds.observe(0.002);
      m.guardRefusals.inc({ reason: 'mode' });
      const before = loaded();
      const { text } = await m.render();
      console.log(JSON.stringify({ before, after: loaded(), refusals: /exo_sentinel_guard_refusals_total\\{reason="mode"\\} 1/.test(text), ticks: /exo_sentinel_tick_duration_seconds_count 1/.test(text) }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true, refusals: true, ticks: true });
  });
});

describe('what the API shed, as a counter', () => {
  it('adds each window the shed tally reports, by reason in snake case, the other reasons at 0', async () => {
    const m = new Metrics();
    m.countShed({ idleConnectionClosed: 412, liveClientRefused: 2 });
    m.countShed({ idleConnectionClosed: 8 });
    const text = (await m.render()).text;
    const value = (reason: string): string | undefined =>
      new RegExp(`^exo_sentinel_api_shed_total\\{reason="${reason}"\\} (\\S+)$`, 'm').exec(text)?.[1];
    assert.equal(value('idle_connection_closed'), '420');
    assert.equal(value('live_client_refused'), '2');
    assert.equal(value('connection_refused'), '0');
    assert.equal(value('live_client_over_buffer'), '0');
  });
});
