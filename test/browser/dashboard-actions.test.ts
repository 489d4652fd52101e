import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { launchChromium, noChromium } from '../support/chromium.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { fixture } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore lint/suspicious/noExplicitAny: test reads deep into JSON responses; shapes are asserted field by field
type Json = Record<string, any>;

const TOKEN = 'cluster-token-never-shown-5678';

describe('the dashboard’s own buttons write through the API of a running daemon (headless Chromium)', {
  skip: noChromium,
}, () => {
  const dir = tempDir();
  const dataDir = `${dir.path}/data`;
  const reports = `${dir.path}/reports`;
  let browser: Browser;
  let fake: FakeExoControl;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let api: string;
  let page: Page;
  const errors: string[] = [];

  const status = async (): Promise<Json> => (await (await fetch(`${api}/api/v1/status`)).json()) as Json;

  before(async () => {
    mkdirSync(reports, { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(`${dataDir}/config.json`, JSON.stringify({ cluster: { token: TOKEN } }));
    // A panic a minute ago: the daemon starts in its post-panic hold, which the Acknowledge button ends.
    writeFileSync(
      `${reports}/panic-full-2026-11-26-000000.0002.panic`,
      wrapAsPanicFile(fixture('panics/omlx-300-5.panic.txt'), { time: Date.now() - 60_000 }),
    );
    fake = await startFakeExo();
    daemon = await startDaemon([
      '--data-dir',
      dataDir,
      '--interval',
      '0.5',
      '--exo-url',
      fake.url,
      '--reports-dir',
      reports,
    ]);
    api = daemon.apiUrl()!;
    for (let i = 0; i < 40 && !(await status())['hold']; i++) await sleep(250);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${api}/`);
  });
  after(async () => {
    await browser?.close();
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.close();
    dir.cleanup();
  });

  it('Acknowledge ends the post-panic hold', async () => {
    assert.ok((await status())['hold'], 'the daemon holds after the panic');
    await page.click('#ack', { timeout: 10_000 });
    let hold: unknown = 'still';
    for (let i = 0; i < 20 && hold; i++) {
      await sleep(150);
      hold = (await status())['hold'];
    }
    assert.equal(hold, null, 'the API says the hold is over');
    await page.waitForSelector('#ack', { state: 'detached', timeout: 5000 });
  });

  it('the guard mode switch pins the mode and returns it to automatic', async () => {
    await page.click('nav button:has-text("Guard")');
    await page.waitForSelector('#view[data-tab="Guard"] #guard-mode');
    await page.selectOption('#guard-mode', 'refuse-new');
    await page.waitForSelector('#guard-mode-note:text-is("pinned by hand")');
    const pinned = await status();
    assert.equal(pinned['guardOverride'], 'refuse-new');
    assert.equal(pinned['guardMode'], 'refuse-new');
    await page.selectOption('#guard-mode', 'auto');
    await page.waitForSelector('#guard-mode-note:text-is("following the risk level")');
    assert.equal((await status())['guardOverride'], null);
  });

  it('the Guard tab lists decisions newest first and pages to older ones past 1000', async () => {
    // 1 100 decisions in the last hour, written beside the running daemon (WAL: one more writer is fine).
    const db = openDatabase(`${dataDir}/timeline.db`);
    const store = new TimelineStore(db);
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < 1100; i++)
        store.writeEvent({
          time: now - (1100 - i) * 1000,
          kind: 'guard.request',
          severity: 'info',
          message: `request ${i}`,
          data: { decision: 'admitted', status: 200, endpoint: '/v1/chat/completions', reason: `n${i}` },
        });
    })();
    db.close();
    await page.click('nav button:has-text("Overview")');
    await page.waitForSelector('#view[data-tab="Overview"] #chart');
    await page.click('nav button:has-text("Guard")');
    await page.waitForSelector('#view[data-tab="Guard"] #guard-decisions tr[data-event]');
    const firstPage = await page.$$eval('#guard-decisions tr[data-event]', (rows) =>
      rows.map((r) => r.lastElementChild?.textContent ?? ''),
    );
    assert.equal(firstPage.length, 1000);
    assert.equal(firstPage[0], 'n1099', 'the newest decision is at the top');
    assert.equal(firstPage[999], 'n100');
    await page.click('button:has-text("Older decisions")');
    // A function, not a string: the page's CSP forbids eval, and a function runs through the debugger protocol.
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll('#guard-decisions tr[data-event]').length > 1000,
    );
    const all = await page.$$eval('#guard-decisions tr[data-event]', (rows) =>
      rows.map((r) => r.lastElementChild?.textContent ?? ''),
    );
    assert.equal(all.length, 1100);
    assert.equal(all[1099], 'n0');
    assert.equal(await page.$('button:has-text("Older decisions")'), null, 'no more pages');
  });
  it('left no error in the console', () => {
    assert.deepEqual(errors, []);
  });
  // The Settings tab's writes (a form over PATCH /api/v1/config) are tested in settings-form.test.ts.
});
