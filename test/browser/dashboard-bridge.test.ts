import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { SentinelBridge } from '../../src/shared/bridge.js';
import { launchChromium, noChromium } from '../support/chromium.js';
import { repoRoot } from '../support/fixtures.js';
import { waitForPage } from '../support/page-wait.js';

const page = join(repoRoot, 'dist', 'renderer', 'index.html');

/**
 * The bridge the Electron preload exposes, installed in the page before the dashboard loads (as the
 * window would have it). Passed as source text: a transpiled function would carry bundler helpers.
 */
const FAKE_BRIDGE = `
(() => {
  const now = Date.now();
  const sample = { time: now, memory: { total: 137438953472, usable: 137438953472, wired: 96636764160, freePercent: 21 }, gpu: { inUseBytes: 92341796864, ceilingBytes: 103079215104 }, processes: [{ pid: 1601, role: 'exo-runner', physFootprint: 90194313216, rss: 1073741824, cpuPercent: 97 }] };
  const status = {
    identity: { hostname: 'studio-1' },
    sample,
    risk: { level: 'high', since: now, reasons: [{ signal: 'gpu-in-use', level: 'high', message: 'GPU in use 86.0 GiB = 89.6% of the 96.0 GiB Metal ceiling (soft 85.0%, hard 95.0%)' }] },
    guardMode: 'refuse-new',
    guardOverride: null,
    guard: { host: '127.0.0.1', port: 52416, upstream: 'http://127.0.0.1:52415' },
    hold: null,
    exo: { reachable: true, inFlight: 1, instances: [{ modelId: 'mlx-community/Qwen3-Coder-Next-4bit', kind: 'MlxRingInstance', shards: [{}, {}] }], runners: [{ status: 'RunnerRunning' }] },
  };
  const calls = [];
  window.__calls = calls;
  window.exoSentinel = {
    invoke: async (channel, payload) => {
      calls.push(channel);
      if (channel === 'status') return status;
      if (channel === 'timeline') return { samples: [sample, { ...sample, time: now + 1000 }] };
      if (channel === 'panics') return [{ id: 4, category: 'panic', kind: 'completeMemory', pid: 1601, processName: 'exo', panicTime: now - 3600000, attribution: { verdict: 'exo-runner' } }];
      if (channel === 'panicReport') return '# Kernel panic on studio-1: IOGPUFamily completeMemory() prepare count underflow';
      if (channel === 'setGuardMode') {
        window.__guard = (window.__guard || []).concat([payload]);
        status.guardOverride = payload.mode === 'auto' ? null : payload.mode;
        status.guardMode = status.guardOverride || 'refuse-new';
        return { guardMode: status.guardMode, guardOverride: status.guardOverride };
      }
      if (channel === 'events') return [];
      return {};
    },
    onEvent: (listener) => {
      window.__push = listener;
      return () => { window.__push = null; };
    },
  };
})();
`;

/** The fake's shape, checked against the bridge interface at compile time. */
const bridgeShape = { invoke: async () => ({}), onEvent: () => () => {} } satisfies SentinelBridge;
void bridgeShape;

describe('the dashboard over the preload bridge (as in the Electron window), in headless Chromium', {
  skip: noChromium,
}, () => {
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('renders from the bridge, from file:// under the strict CSP, with no network and no console errors', async () => {
    assert.ok(existsSync(page), 'npm run build makes dist/renderer');
    const p = await browser.newPage({ viewport: { width: 900, height: 800 } });
    const errors: string[] = [];
    const requests: string[] = [];
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('request', (r) => requests.push(r.url()));
    await p.addInitScript(FAKE_BRIDGE);
    await p.goto(pathToFileURL(page).href);
    await p.waitForSelector('#level.badge.high');
    assert.match(
      (await p.textContent('main')) ?? '',
      /GPU in use 86\.0 GiB = 89\.6% of the 96\.0 GiB Metal ceiling/,
    );
    assert.match((await p.textContent('#level-detail')) ?? '', /guard refuse-new/);
    await p.click('nav button:has-text("Panics")');
    await p.waitForSelector('#panic-list tr[data-id="4"]');
    await p.click('#panic-list tr[data-id="4"]');
    await p.waitForSelector('article.report');
    const calls = await p.evaluate<string[]>('window.__calls');
    assert.deepEqual([...new Set(calls)].sort(), ['events', 'panicReport', 'panics', 'status', 'timeline']);
    assert.ok(
      requests.every((u) => u.startsWith('file://') || u.startsWith('data:')),
      `no network: ${requests.filter((u) => !u.startsWith('file://')).join(', ')}`,
    );
    assert.deepEqual(errors, []);
  });

  it('follows what main pushes: a notification click opens that crash report, live samples move the level', async () => {
    const p = await browser.newPage({ viewport: { width: 480, height: 640 } });
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.addInitScript(FAKE_BRIDGE);
    await p.goto(pathToFileURL(page).href);
    await p.waitForSelector('#level.badge.high');
    await waitForPage(
      () => p.evaluate('typeof window.__push'),
      (t) => t === 'function',
      'the bridge',
    );
    await p.evaluate('window.__push("navigate", { view: "Panics:4" })');
    await p.waitForSelector('article.report');
    assert.match((await p.textContent('article.report')) ?? '', /completeMemory\(\) prepare count underflow/);
    assert.equal(await p.textContent('nav button.active'), 'Panics');
    await p.evaluate('window.__push("navigate", { view: "Nowhere:1" })');
    assert.equal(await p.textContent('nav button.active'), 'Panics', 'an unknown view is ignored');
    await p.evaluate(
      'window.__push("sample", { sample: { time: Date.now(), memory: {}, gpu: {}, processes: [] }, level: "critical", reasons: [] })',
    );
    await p.waitForSelector('#level.badge.critical');
    assert.deepEqual(errors, []);
  });

  it('pins the guard mode from the Guard tab through the bridge, and back to automatic', async () => {
    const p = await browser.newPage({ viewport: { width: 480, height: 640 } });
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.addInitScript(FAKE_BRIDGE);
    await p.goto(pathToFileURL(page).href);
    await p.click('nav button:has-text("Guard")');
    assert.equal(await p.inputValue('#guard-mode'), 'auto');
    await p.selectOption('#guard-mode', 'serialise');
    await waitForPage(
      () => p.textContent('#guard-mode-note'),
      (t) => t === 'pinned by hand',
      'the mode note',
    );
    assert.match((await p.textContent('main')) ?? '', /mode serialise/);
    assert.equal(await p.inputValue('#guard-mode'), 'serialise');
    await p.selectOption('#guard-mode', 'auto');
    await waitForPage(
      () => p.textContent('#guard-mode-note'),
      (t) => t === 'following the risk level',
      'the mode note',
    );
    assert.deepEqual(await p.evaluate('window.__guard'), [{ mode: 'serialise' }, { mode: 'auto' }]);
    assert.deepEqual(errors, []);
  });
});
