import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, noChromium } from '../support/chromium.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { fixture, repoRoot } from '../support/fixtures.js';
import { waitForPage } from '../support/page-wait.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts');

describe('the dashboard in headless Chromium against a running daemon', {
  skip: noChromium,
}, () => {
  const dir = tempDir();
  let browser: Browser;
  let fake: FakeExoControl;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  const reports = `${dir.path}/reports`;

  before(async () => {
    mkdirSync(reports, { recursive: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    fake = await startFakeExo();
    daemon = await startDaemon([
      '--data-dir',
      `${dir.path}/data`,
      '--interval',
      '0.5',
      '--exo-url',
      fake.url,
      '--reports-dir',
      reports,
    ]);
    await sleep(1500);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.close();
    dir.cleanup();
  });

  it('renders the level, a chart with data and the panic list; a new panic appears without reload; no console errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${daemon.apiUrl()}/`);
    await page.waitForSelector('#level.badge.ok', { timeout: 10_000 });
    assert.equal(await page.textContent('#level'), 'ok');
    assert.match((await page.textContent('#level-detail')) ?? '', /^OK since .* · guard open$/);
    // The chart fills from the timeline and grows with live samples.
    await waitForPage(
      () => page.getAttribute('#chart', 'data-points'),
      (points) => Number(points ?? 0) >= 3,
      'points on the chart',
    );
    assert.ok(await page.$('#chart canvas'));
    const before = Number(await page.getAttribute('#chart', 'data-points'));
    await sleep(1500);
    assert.ok(
      Number(await page.getAttribute('#chart', 'data-points')) > before,
      'live samples reach the chart over SSE',
    );
    assert.match((await page.textContent('main')) ?? '', /mlx-community\/Qwen3-Coder-Next-4bit/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });

    await page.click('nav button:has-text("Panics")');
    await page.waitForSelector('#view[data-tab="Panics"] #panic-list');
    assert.match((await page.textContent('#panic-list')) ?? '', /No panic reports\./);
    // The fixture is an excerpt of a panicString; wrapAsPanicFile puts it in the .panic container macOS writes.
    writeFileSync(
      `${reports}/panic-full-2026-11-26-000000.0002.panic`,
      wrapAsPanicFile(fixture('panics/omlx-300-5.panic.txt'), { time: Date.now() - 5000 }),
    );
    await page.waitForSelector('#panic-list tr[data-id]', { timeout: 10_000 });
    assert.match((await page.textContent('#panic-list')) ?? '', /completeMemory/);
    await page.click('#panic-list tr[data-id]');
    await page.waitForSelector('article.report');
    assert.match(
      (await page.textContent('article.report h3')) ?? '',
      /^Kernel panic on .+: IOGPUFamily completeMemory\(\) prepare count underflow$/,
      'the report is rendered: its title a heading, no Markdown marks',
    );
    assert.ok(await page.$('button:has-text("Copy report")'));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-panic.png'), fullPage: true });
    // The panic raised the level without a reload.
    await page.waitForSelector('#level.badge.elevated', { timeout: 10_000 });
    assert.deepEqual(errors, []);
  });

  it('is usable at 480×640 and in dark mode', async () => {
    const page = await browser.newPage({ viewport: { width: 480, height: 640 }, colorScheme: 'dark' });
    await page.goto(`${daemon.apiUrl()}/`);
    await page.waitForSelector('#chart canvas', { timeout: 10_000 });
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `no horizontal scroll (overflow ${overflow}px)`);
    const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    assert.equal(bg, 'rgb(23, 25, 28)');
    // Each tab is waited for by the view carrying it (data-tab) and content only that tab renders: a
    // heading alone could still be the tab before's.
    const own: Array<[string, string]> = [
      ['Guard', '#guard-decisions'],
      ['Cluster', 'h2:text-is("Cluster")'],
      ['Advisory', 'h2:text-is("Platform advisory")'],
      ['Settings', '#settings-form'],
    ];
    for (const [tab, content] of own) {
      await page.click(`nav button:has-text("${tab}")`);
      await page.waitForSelector(`#view[data-tab="${tab}"] ${content}`, { timeout: 10_000 });
      assert.equal(await page.getAttribute(`nav button:text-is("${tab}")`, 'class'), 'active');
    }
    assert.ok(await page.$('#settings-form .field[data-key="intervalSeconds"]'), 'the Settings form');
    // The Cluster tab says where each row comes from; a node found only in EXO's topology is unverified.
    await page.click('nav button:has-text("Cluster")');
    await page.waitForSelector('#view[data-tab="Cluster"] #cluster tr[data-source="self"]', {
      timeout: 10_000,
    });
    assert.match((await page.textContent('#cluster tr[data-source="self"] td')) ?? '', /this host$/);
    const found = await page.$$eval('#cluster tr[data-source="exo-topology"] td:first-child', (cells) =>
      cells.map((c) => c.textContent ?? ''),
    );
    assert.equal(found.length, 1, "the fake EXO's other node");
    assert.match(found[0]!, /unverified: found in EXO's topology at http:\/\/169\.254\.21\.\d+:\d+$/);
    await page.click('nav button:has-text("Settings")');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-480x640-dark.png'), fullPage: true });
  });
});
