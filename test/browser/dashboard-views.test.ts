import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, noChromium } from '../support/chromium.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { fixture } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';
import { readmeScreenshot, SCREENSHOT_VIEWPORT } from './screenshots.js';
import { type Story, seedStory } from './seeded-story.js';

// biome-ignore lint/suspicious/noExplicitAny: test reads deep into JSON responses; shapes are asserted field by field
type Json = Record<string, any>;

/** Markup a crash report must show as text: none of it may become an element or run. */
const HOSTILE =
  '<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2;alert(2)</script><a href="javascript:alert(3)">x</a>';

/** Ids of the browser's tabs, in order. */
const TABS = ['Overview', 'Panics', 'Guard', 'Cluster', 'Advisory', 'Settings'];
/** What only each tab renders: a view is waited for by its tab and its own content. */
const OWN_CONTENT: Record<string, string> = {
  Overview: '#chart',
  Panics: '#panic-list',
  Guard: '#guard-decisions',
  Cluster: 'h2:text-is("Cluster")',
  Advisory: 'h2:text-is("Platform advisory")',
  Settings: '#settings-form',
};
const showing = async (page: Page, tab: string): Promise<void> => {
  await page.waitForSelector(`#view[data-tab="${tab}"] ${OWN_CONTENT[tab]}`, { timeout: 10_000 });
};

describe('the dashboard’s views over a seeded day, against a running daemon (headless Chromium)', {
  skip: noChromium,
}, () => {
  const dir = tempDir();
  const dataDir = `${dir.path}/data`;
  const reports = `${dir.path}/reports`;
  let browser: Browser;
  let fake: FakeExoControl;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let api: string;
  let story: Story;
  let hostileId = 0;
  let panicId = 0;
  const errors: string[] = [];
  const dialogs: string[] = [];

  const getJson = async (path: string): Promise<Json> =>
    (await (await fetch(`${api}${path}`)).json()) as Json;
  const open = async (
    width: number = SCREENSHOT_VIEWPORT.width,
    height: number = SCREENSHOT_VIEWPORT.height,
  ): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    return page;
  };

  before(async () => {
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(reports, { recursive: true });
    story = seedStory(dataDir, Date.now());
    const panic = fixture('panics/omlx-300-5.panic.txt');
    writeFileSync(
      `${reports}/panic-full-2026-11-26-000000.0001.panic`,
      wrapAsPanicFile(panic, { time: story.panicTime }),
    );
    // The same panic text with markup in its first line, as a hostile or broken report could carry.
    writeFileSync(
      `${reports}/panic-full-2026-11-25-000000.0002.panic`,
      wrapAsPanicFile(
        panic.replace('"completeMemory() prepare count underflow"', `"completeMemory() ${HOSTILE}"`),
        { time: story.panicTime - 20 * 3_600_000 },
      ),
    );
    fake = await startFakeExo();
    daemon = await startDaemon([
      '--data-dir',
      dataDir,
      '--interval',
      '1',
      '--exo-url',
      fake.url,
      '--reports-dir',
      reports,
    ]);
    api = daemon.apiUrl()!;
    for (let i = 0; i < 40; i++) {
      const list = (await getJson('/api/v1/panics'))['reports'] as Json[];
      if (list.length === 2) {
        // Apple's timestamps keep hundredths of a second: the newer report is the story's panic.
        const [newer, older] = [...list].sort((a, b) => b['panicTime'] - a['panicTime']);
        assert.ok(Math.abs(newer!['panicTime'] - story.panicTime) < 1000);
        panicId = newer!['id'];
        hostileId = older!['id'];
        break;
      }
      await sleep(250);
    }
    assert.ok(panicId > 0 && hostileId > 0, 'both reports read');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.close();
    dir.cleanup();
  });

  it('Overview: the seeded hour with its level bands, the panic marker, the process chart and pressure in words', async () => {
    assert.ok(
      story.samples > 4000 && story.minutes > 1300,
      `seeded ${story.samples} samples, ${story.minutes} minutes`,
    );
    const page = await open();
    await page.goto(`${api}/`);
    await showing(page, 'Overview');
    await page.waitForSelector('#chart[data-points]', { timeout: 10_000 });
    const points = Number(await page.getAttribute('#chart', 'data-points'));
    assert.ok(points >= 3000, `the last hour of 1 s samples (${points} points)`);
    const bands = (await page.getAttribute('#chart', 'data-bands')) ?? '';
    assert.match(bands, /\belevated:\d+/, bands);
    assert.match(bands, /\bhigh:\d+/, bands);
    assert.equal(await page.getAttribute('#chart', 'data-markers'), '1', 'the panic 30 minutes ago');
    assert.match((await page.textContent('#chart + ul.chart-notes')) ?? '', /panic/);
    // The high band stops at the last reading before the panic: the restart's gap is not coloured, and
    // no line is drawn across it.
    const high = await page.$$eval('#chart + ul.chart-notes li.band.high', (els) =>
      els.map((e) => Number(e.getAttribute('data-to'))),
    );
    assert.equal(high.length, 1);
    assert.ok(
      Math.abs(high[0]! - story.panicTime) < 5000,
      `high until ${high[0]! - story.panicTime} ms after the panic`,
    );
    assert.ok(Number(await page.getAttribute('#process-chart', 'data-points')) >= 3000);
    assert.match((await page.textContent('#process-chart-note')) ?? '', /Footprint .* of EXO’s processes/);
    // Pressure as a word; where the box has no reading (no PSI), a dash and why, never a bare number.
    const pressure = (await page.textContent('#card-pressure .v')) ?? '';
    assert.ok(['normal', 'warning', 'critical', '—'].includes(pressure), `pressure shows "${pressure}"`);
    if (pressure === '—') assert.ok(((await page.textContent('#card-pressure .why')) ?? '').length > 0);
    await readmeScreenshot(page, 'overview');
    await page.close();
  });

  it('the range picker: 24 h asks the per-minute roll-ups and draws the day; 15 m goes back to 1 s samples', async () => {
    const page = await open();
    await page.goto(`${api}/`);
    await showing(page, 'Overview');
    await page.waitForSelector('#chart[data-points]', { timeout: 10_000 });
    const asked: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/timeline')) asked.push(r.url());
    });
    await page.click('#range button[data-range="24h"]');
    await page.waitForSelector('#chart-note:has-text("Last 24 h:")', { timeout: 10_000 });
    assert.ok(asked.length >= 1);
    for (const u of asked) assert.equal(new URL(u).searchParams.get('resolution'), 'minute', u);
    const span = new URL(asked[0]!);
    const hours = (Number(span.searchParams.get('to')) - Number(span.searchParams.get('from'))) / 3_600_000;
    assert.ok(Math.abs(hours - 24) < 0.01, `asked ${hours} h`);
    assert.equal(await page.getAttribute('#range button[data-range="24h"]', 'aria-pressed'), 'true');
    const minutes = Number(await page.getAttribute('#chart', 'data-points'));
    assert.ok(minutes >= 1300 && minutes <= 1442, `${minutes} minutes drawn`);
    assert.match((await page.textContent('#chart-note')) ?? '', /per-minute roll-ups/);
    assert.match((await page.getAttribute('#chart', 'data-bands')) ?? '', /\belevated:\d+/);
    assert.equal(await page.getAttribute('#chart', 'data-markers'), '2', 'both panics are in the day');
    assert.match((await page.textContent('#process-chart-note')) ?? '', /choose 15 m or 1 h/);
    await readmeScreenshot(page, 'overview-24h');

    asked.length = 0;
    await page.click('#range button[data-range="15m"]');
    await page.waitForSelector('#chart-note:has-text("Last 15 m:")', { timeout: 10_000 });
    assert.equal(new URL(asked[0]!).searchParams.get('resolution'), 'raw');
    assert.equal(await page.getAttribute('#chart', 'data-markers'), '0', 'the panic is older than 15 m');
    await page.close();
  });

  it('a crash report with markup in its panic text shows it as text: no element made, nothing run, no dialog', async () => {
    const page = await open();
    await page.goto(`${api}/#Panics:${hostileId}`);
    await showing(page, 'Panics');
    await page.waitForSelector('#report article.report', { timeout: 10_000 });
    const text = (await page.textContent('#report article.report')) ?? '';
    assert.ok(text.includes('<img src=x onerror='), 'the markup is there, as text');
    // The report escapes Markdown for a pasted issue; the page shows the characters, not the escapes.
    assert.ok(!/\\[<>[\]!|@]/.test(text), 'no backslash escape shown');
    assert.ok(text.includes('<script>window.__pwned=2'));
    assert.equal(
      await page.$$eval('#report img, #report script, #report iframe, main [onerror]', (e) => e.length),
      0,
    );
    const links = await page.$$eval('#report a', (els) => els.map((a) => a.getAttribute('href') ?? ''));
    assert.ok(
      links.every((h) => !/^javascript:/i.test(h)),
      `links: ${links.join(', ')}`,
    );
    await sleep(300);
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    assert.deepEqual(dialogs, []);
    await page.close();
  });

  it('Panics: the report opened from the list is rendered (headings, no Markdown marks)', async () => {
    const page = await open();
    await page.goto(`${api}/`);
    await showing(page, 'Overview');
    await page.click('#tab-Panics');
    await showing(page, 'Panics');
    await page.click(`#panic-list tr[data-id="${panicId}"]`);
    await page.waitForSelector('#report article.report h3', { timeout: 10_000 });
    assert.match(
      (await page.textContent('#report article.report h3')) ?? '',
      /^Kernel panic on .+: IOGPUFamily completeMemory\(\) prepare count underflow$/,
    );
    assert.ok(!((await page.textContent('#report article.report')) ?? '').includes('**'));
    await readmeScreenshot(page, 'panic-report');
    await page.close();
  });

  it('at 480 px the report opened from the list is scrolled into view', async () => {
    const page = await open(480, 640);
    await page.goto(`${api}/#Panics`);
    await showing(page, 'Panics');
    assert.equal(await page.evaluate<number>('window.scrollY'), 0);
    await page.click(`#panic-list tr[data-id="${hostileId}"]`);
    await page.waitForSelector('#report h2:has-text("Crash report")', { timeout: 10_000 });
    // The heading is on screen, near the top, and the page scrolled to bring it there.
    const top = await page.evaluate<number>(
      "document.querySelector('#report h2').getBoundingClientRect().top",
    );
    assert.ok(top > -2 && top < 100, `the report's heading is at ${top}px`);
    assert.ok((await page.evaluate<number>('window.scrollY')) > 0, 'the page scrolled');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 0, `no horizontal scroll (overflow ${overflow}px)`);
    await page.close();
  });

  it('keyboard: Tab reaches the selected tab; arrows, Home and End move and open each view', async () => {
    const page = await open();
    await page.goto(`${api}/`);
    await showing(page, 'Overview');
    await page.focus('#tab-Overview');
    const focused = (): Promise<string> => page.evaluate<string>('document.activeElement.id');
    const expectTab = async (tab: string): Promise<void> => {
      await showing(page, tab);
      assert.equal(await focused(), `tab-${tab}`);
      assert.equal(await page.getAttribute(`#tab-${tab}`, 'aria-selected'), 'true');
      assert.equal(await page.getAttribute(`#tab-${tab}`, 'tabindex'), '0');
      const others = await page.$$eval('#tabs [role=tab][aria-selected=true]', (e) => e.length);
      assert.equal(others, 1);
    };
    for (const tab of TABS.slice(1)) {
      await page.keyboard.press('ArrowRight');
      await expectTab(tab);
    }
    await page.keyboard.press('ArrowRight');
    await expectTab('Overview');
    await page.keyboard.press('ArrowLeft');
    await expectTab('Settings');
    await page.keyboard.press('Home');
    await expectTab('Overview');
    await page.keyboard.press('End');
    await expectTab('Settings');
    // Only the selected tab is in the Tab order: Shift+Tab from the view comes back to it.
    await page.focus('#view');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'tab-Settings');
    await page.close();
  });

  it('the guard profile control changes the profile through the API', async () => {
    const page = await open();
    await page.goto(`${api}/#Guard`);
    await showing(page, 'Guard');
    await page.waitForSelector('#guard-profile:not([disabled])');
    // The seeded decisions, newest first: refused while high, queued while elevated.
    const decisions = await page.$$eval('#guard-decisions tr[data-event] td:nth-child(2)', (els) =>
      els.map((e) => e.textContent),
    );
    assert.equal(decisions.length, 28, 'a request every 2 minutes but while the machine restarted');
    assert.equal(decisions[0], 'admit');
    for (const d of ['refuse', 'queue']) assert.ok(decisions.includes(d), d);
    const before = (await getJson('/api/v1/guard/profile'))['profile'];
    assert.equal(await page.inputValue('#guard-profile'), before);
    await page.selectOption('#guard-profile', 'observe');
    await page.waitForSelector('#guard-profile-note:text-is("profile observe in effect")', { timeout: 5000 });
    assert.equal((await getJson('/api/v1/guard/profile'))['profile'], 'observe');
    await page.selectOption('#guard-profile', 'protect');
    await page.waitForSelector('#guard-profile-note:text-is("profile protect in effect")', { timeout: 5000 });
    assert.equal((await getJson('/api/v1/guard/profile'))['profile'], 'protect');
    await readmeScreenshot(page, 'guard');
    await page.close();
    assert.deepEqual(errors, []);
  });
});
