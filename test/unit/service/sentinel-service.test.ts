import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditStore } from '../../../src/main/core/actions/audit-store.js';
import { validateConfig } from '../../../src/main/core/config/config-loader.js';
import { REPORTS_AND_PASTED_COPIES, ReportIngester } from '../../../src/main/core/panics/report-ingester.js';
import { type ScanResult, scanDirectory } from '../../../src/main/core/panics/report-scan.js';
import {
  SentinelService,
  type ServiceParts,
  ServiceUnavailable,
} from '../../../src/main/core/service/sentinel-service.js';
import { openDatabase } from '../../../src/main/core/store/database.js';
import { ReportStore } from '../../../src/main/core/store/report-store.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import { repoRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/temp-dir.js';

function parts(
  extra: Partial<ServiceParts> = {},
): ServiceParts & { timeline: TimelineStore; reports: ReportStore } {
  const db = openDatabase(':memory:');
  const cfg = validateConfig({});
  assert.ok(cfg.ok);
  return {
    timeline: new TimelineStore(db),
    reports: new ReportStore(db),
    audit: new AuditStore(db),
    now: () => 1_800_000_000_000,
    status: () => ({}) as never,
    config: () => cfg.config,
    configPath: () => '/nonexistent/config.json',
    ...extra,
  };
}

describe('SentinelService', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('answers a crash report for an ingested panic only: 404-like for no report, 409-like for a non-panic', async () => {
    const p = parts();
    copyFileSync(
      join(repoRoot, 'test', 'fixtures', 'panics', 'mlx-3186-1.panic.txt'),
      join(dir.path, 'a.txt'),
    );
    writeFileSync(join(dir.path, 'b.txt'), 'a note pasted from an issue, with no panic in it\n');
    const scan = await scanDirectory(new ReportIngester(p.reports, p.timeline, p.now), dir.path, {
      names: REPORTS_AND_PASTED_COPIES,
    });
    const panic = scan.added.find((r) => r.name === 'a.txt');
    const note = scan.added.find((r) => r.name === 'b.txt');
    assert.ok(panic && note, JSON.stringify(scan));
    const s = new SentinelService(p);
    const md = s.panicReport(panic.id);
    assert.ok(md.ok && md.markdown.startsWith('#'), JSON.stringify(md).slice(0, 200));
    assert.deepEqual(s.panicReport(note.id), {
      ok: false,
      reason: 'not-a-panic',
      message: `report ${note.id} is not a readable kernel panic`,
    });
    assert.deepEqual(s.panicReport(9999), {
      ok: false,
      reason: 'not-found',
      message: 'no report with id 9999',
    });
    assert.ok(s.panics().reports.some((r) => r.id === panic.id));
  });

  it('runs one scan at a time: a second call joins the running one, a scan of other directories waits', async () => {
    const calls: Array<string[] | undefined> = [];
    const result = (d: string): ScanResult => ({
      dir: d,
      names: ['*.panic'],
      files: 3,
      added: [],
      error: null,
    });
    const s = new SentinelService(
      parts({
        scan: (dirs) => {
          calls.push(dirs);
          return (dirs ?? ['/configured']).map(result);
        },
      }),
    );
    const [a, b, c] = await Promise.all([s.scanPanics(), s.scanPanics(), s.scanPanics(['/pasted'])]);
    assert.deepEqual(calls, [undefined, ['/pasted']], 'the joined call did not scan again');
    assert.equal(a, b);
    assert.deepEqual(a, { found: 3, new: 0, results: [result('/configured')] });
    assert.deepEqual(
      c.results.map((r) => r.dir),
      ['/pasted'],
    );
    await assert.rejects(new SentinelService(parts()).scanPanics(), ServiceUnavailable);
  });

  it('has no guard to steer without one, and reaches only app.* keys for the shells', () => {
    const p = parts();
    const s = new SentinelService(p);
    assert.throws(() => s.setGuardMode('serialise', 'a test'), ServiceUnavailable);
    assert.equal(s.hasGuardProfile, false);
    const meta = s.shellMeta();
    meta.setMeta('app.advisory-shown', '3');
    assert.equal(meta.getMeta('app.advisory-shown'), '3');
    assert.throws(() => meta.setMeta('guard.override', 'open'), RangeError);
    assert.throws(() => meta.getMeta('identity'), RangeError);
    assert.equal(p.timeline.getMeta('guard.override'), null);
  });

  it('ends the post-panic hold once, audited under the name of who asked', () => {
    const p = parts();
    p.timeline.setMeta(
      'post-panic-hold',
      JSON.stringify({ since: 1, reportId: null, kind: 'completeMemory', reason: 'test' }),
    );
    const s = new SentinelService(p);
    assert.equal(s.ack('the API').ended?.kind, 'completeMemory');
    assert.deepEqual(s.ack('the API'), { ended: null });
    const audited = s.actions({ from: 0, to: 2_000_000_000_000 });
    assert.equal(audited.actions.length, 1);
    assert.equal(audited.truncated, false);
    assert.match(audited.actions[0]!.reason, /acknowledged by the API/);
  });
});
