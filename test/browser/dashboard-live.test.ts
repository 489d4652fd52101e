import assert from 'node:assert/strict';
import { type ClientRequest, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { SSE_MAX_CLIENTS } from '../../src/main/core/api/api-limits.js';
import { launchChromium, noChromium } from '../support/chromium.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { waitForPage } from '../support/page-wait.js';
import { tempDir } from '../support/temp-dir.js';

// A watchdog's page must never show a frozen "OK" as current. With every live-event slot taken (anything that
// can reach the API can hold them), the dashboard's stream was refused with 503 and its footer still said
// "live" while the chart stopped.

describe('the dashboard says when it is not live, and comes back by itself', { skip: noChromium }, () => {
  const dir = tempDir();
  let browser: Browser;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  before(async () => {
    daemon = await startDaemon(['--data-dir', `${dir.path}/data`, '--interval', '0.5', '--no-guard']);
    await sleep(1000);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    dir.cleanup();
  });

  /** Holds a live-event stream open, reading it (a client that reads is never evicted). */
  const holdStream = (url: URL): Promise<ClientRequest> =>
    new Promise((resolve, reject) => {
      const r = request({ host: url.hostname, port: url.port, path: '/api/v1/stream' }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve(r);
        else reject(new Error(`stream answered ${res.statusCode}`));
      });
      r.on('error', () => {});
      r.end();
    });

  it('a refused stream: the footer says so and the status is read meanwhile; freed, it is live again', async () => {
    const api = new URL(daemon.apiUrl()!);
    const held = await Promise.all(Array.from({ length: SSE_MAX_CLIENTS }, () => holdStream(api)));
    const page = await browser.newPage();
    try {
      await page.goto(`${api.origin}/`);
      await page.waitForSelector('#level.badge.ok', { timeout: 10_000 });
      const footer = await waitForPage(
        async () =>
          [await page.getAttribute('#footer', 'data-live'), await page.textContent('#footer')] as const,
        ([live]) => live === 'false',
        'the footer while the stream is refused',
      );
      assert.match(
        footer[1] ?? '',
        /^exo-sentinel · not live: the event stream was refused; trying again in \d+ s; last live update /,
      );
      // Read every 5 s meanwhile: the footer names when.
      await waitForPage(
        async () => (await page.textContent('#footer')) ?? '',
        (t) => /the status is read at \d/.test(t),
        'a status read while not live',
        8_000,
      );
      for (const r of held) r.destroy();
      await waitForPage(
        async () =>
          [await page.getAttribute('#footer', 'data-live'), await page.textContent('#footer')] as const,
        ([live, text]) => live === 'true' && text === 'exo-sentinel · live',
        'the footer once a slot is free (the retry waits 2, then 4 s)',
        12_000,
      );
    } finally {
      for (const r of held) r.destroy();
      await page.close();
    }
  });

  it('samples that stop while the stream stays open: not live, with how long since the last one', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${daemon.apiUrl()}/`);
      await waitForPage(
        async () => page.getAttribute('#footer', 'data-live'),
        (live) => live === 'true',
        'live at first',
      );
      await sleep(2000); // a few samples: the page learns the daemon's interval (0.5 s)
      // The daemon stopped (as a wedged or killed one would): no sample, and the stream goes with it.
      daemon.kill('SIGSTOP');
      try {
        const text = await waitForPage(
          async () => (await page.textContent('#footer')) ?? '',
          (t) => /^exo-sentinel · not live: no update for \d+ s; last live update /.test(t),
          'the footer once samples stop',
          20_000,
        );
        assert.equal(await page.getAttribute('#footer', 'data-live'), 'false', text);
      } finally {
        daemon.kill('SIGCONT');
      }
      await waitForPage(
        async () => page.getAttribute('#footer', 'data-live'),
        (live) => live === 'true',
        'live again once the daemon runs',
      );
      // The stall's own gap is not the daemon's interval: stopped again, it is seen as soon as the first time
      // (it was not for three times the stall, minutes on a slow interval).
      daemon.kill('SIGSTOP');
      const stoppedAt = Date.now();
      try {
        await waitForPage(
          async () => page.getAttribute('#footer', 'data-live'),
          (live) => live === 'false',
          'not live after the second stop',
          30_000,
        );
        // 15 s, plus up to the 5 s between looks; before, three times the first stall's gap (over 45 s).
        const took = Date.now() - stoppedAt;
        assert.ok(took < 22_000, `${took} ms`);
      } finally {
        daemon.kill('SIGCONT');
      }
    } finally {
      await page.close();
    }
  });
});
