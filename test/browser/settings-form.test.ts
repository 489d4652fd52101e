import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, noChromium } from '../support/chromium.js';
import { startDaemon, waitForExit } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { tempDir } from '../support/temp-dir.js';
import { readmeScreenshot, SCREENSHOT_VIEWPORT } from './screenshots.js';

// biome-ignore lint/suspicious/noExplicitAny: test reads deep into JSON responses; shapes are asserted field by field
type Json = Record<string, any>;

const CLUSTER_TOKEN = 'cluster-secret-never-in-the-page-Q7zX';
const GUARD_TOKEN = 'guard-secret-never-in-the-page-K4wJ';
const NEW_TOKEN = 'replacement-cluster-token-Z9vB';

/** The schema's fields as the form lays them out: every leaf, objects with properties walked. */
function leafKeys(node: Json, at = ''): string[] {
  return Object.entries((node['properties'] ?? {}) as Record<string, Json>).flatMap(([k, child]) => {
    if (k === '$schema') return [];
    const key = at ? `${at}.${k}` : k;
    return child['properties'] && child['type'] === 'object' ? leafKeys(child, key) : [key];
  });
}

const field = (key: string): string => `#settings-form .field[data-key="${key}"]`;

describe('the Settings form, generated from the configuration schema, against a running daemon (headless Chromium)', {
  skip: noChromium,
}, () => {
  const dir = tempDir();
  const dataDir = `${dir.path}/data`;
  const configFile = `${dataDir}/config.json`;
  let browser: Browser;
  let fake: FakeExoControl;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let api: string;
  let page: Page;
  const errors: string[] = [];

  const getJson = async (path: string): Promise<Json> =>
    (await (await fetch(`${api}${path}`)).json()) as Json;
  const stored = (): Json => JSON.parse(readFileSync(configFile, 'utf8')) as Json;
  /** Everything the page holds: its markup and every input's current value. */
  const pageText = async (): Promise<string> =>
    `${await page.content()}\n${(
      await page.$$eval('input, textarea, select', (els) =>
        els.map((e) => (e as unknown as { value: string }).value),
      )
    ).join('\n')}`;
  const save = async (): Promise<void> => {
    await page.click('#save-config');
    await page.waitForSelector('#config-saved, #config-refused, #config-unchanged', { timeout: 5000 });
  };

  before(async () => {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(
      configFile,
      JSON.stringify({ cluster: { token: CLUSTER_TOKEN }, guard: { token: GUARD_TOKEN }, logLevel: 'info' }),
    );
    fake = await startFakeExo();
    daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5', '--exo-url', fake.url]);
    api = daemon.apiUrl()!;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: SCREENSHOT_VIEWPORT });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${api}/#Settings`);
    // The view carries the tab it shows, and the form is what only Settings renders.
    await page.waitForSelector('#view[data-tab="Settings"] #settings-form', { timeout: 10_000 });
  });
  after(async () => {
    await browser?.close();
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.close();
    dir.cleanup();
  });

  it('renders one field per key of the schema, the right input per type, help, default and marks', async () => {
    const schema = await getJson('/api/v1/config/schema');
    const keys = leafKeys(schema);
    assert.ok(keys.length > 80, `the schema has ${keys.length} keys`);
    const shown = await page.$$eval('#settings-form .field[data-key]', (els) =>
      els.map((e) => e.getAttribute('data-key')),
    );
    assert.deepEqual([...shown].sort(), [...keys].sort(), 'every key of the schema, once');
    assert.deepEqual(
      shown.slice(0, 3),
      ['intervalSeconds', 'slowIntervalSeconds', 'logLevel'],
      'top-level values first, in a general section',
    );
    const sections = await page.$$eval('#settings-form fieldset[data-section] > legend', (els) =>
      els.map((e) => e.textContent),
    );
    assert.deepEqual(sections.slice(0, 4), ['general', 'retention', 'gpu', 'watch']);
    assert.ok(sections.includes('guard') && sections.includes('risk'));

    // A number with its bounds, its help text and its default; a restart mark where the schema says so.
    const interval = `${field('intervalSeconds')} input`;
    assert.equal(await page.getAttribute(interval, 'type'), 'number');
    assert.equal(await page.getAttribute(interval, 'min'), '0.1');
    assert.equal(await page.getAttribute(interval, 'max'), '60');
    assert.equal(await page.getAttribute(`${field('guard.queue.max')} input`, 'step'), '1');
    const help = (await page.textContent(`${field('intervalSeconds')} .help`)) ?? '';
    assert.ok(help.includes(schema['properties']['intervalSeconds']['description']), help);
    assert.match(help, /Default: 1\. Range: 0\.1 to 60\./);
    assert.equal(await page.getAttribute(field('intervalSeconds'), 'data-restart'), 'true');
    assert.ok(await page.$(`${field('intervalSeconds')} .mark.restart`));
    assert.equal(await page.$(`${field('slowIntervalSeconds')} .mark.restart`), null);
    // A boolean is a checkbox, an enum a select of its values, a list of strings one per line.
    assert.equal(await page.getAttribute(`${field('guard.enabled')} input`, 'type'), 'checkbox');
    assert.equal(await page.isChecked(`${field('guard.enabled')} input`), true);
    const levels = await page.$$eval(`${field('logLevel')} select option`, (els) =>
      els.map((e) => e.textContent),
    );
    assert.deepEqual(levels, ['trace', 'debug', 'info', 'warn', 'error']);
    assert.equal(await page.inputValue(`${field('logLevel')} select`), '"info"');
    assert.ok(await page.$(`${field('cluster.peers')} textarea`));
    assert.ok(await page.$(`${field('watch.mlxServerPatterns')} textarea`));
    assert.equal(
      (await page.inputValue(`${field('watch.mlxServerPatterns')} textarea`)).split('\n').length,
      (schema['properties']['watch']['properties']['mlxServerPatterns']['default'] as string[]).length,
    );
    // A program to run is shown read-only, saying why.
    assert.equal(await page.getAttribute(field('actions.notify.command'), 'data-file-only'), 'true');
    assert.equal(
      await page.$(`${field('actions.notify.command')} input, ${field('actions.notify.command')} textarea`),
      null,
    );
    assert.match(
      (await page.textContent(`${field('actions.notify.command')} .help`)) ?? '',
      /only editing the configuration file sets it/,
    );
    await readmeScreenshot(page, 'settings');
  });

  it('never puts a token in the page: a secret is "set" or "not set" with a field to replace it', async () => {
    const text = await pageText();
    for (const t of [CLUSTER_TOKEN, GUARD_TOKEN]) {
      assert.ok(!text.includes(t), 'the token is not in the page');
      assert.ok(!text.includes(t.slice(-4)), 'nor its last four characters');
    }
    assert.equal(await page.textContent(`${field('cluster.token')} .secret-state`), 'set');
    assert.equal(
      await page.getAttribute(`${field('cluster.token')} input[type=password]`, 'type'),
      'password',
    );
    assert.equal(await page.inputValue(`${field('cluster.token')} input[type=password]`), '');
    // The raw JSON view hides them too.
    await page.click('#raw-config summary');
    const raw = JSON.parse(await page.inputValue('#config')) as Json;
    assert.equal(raw['cluster']['token'], '(set: hidden)');
    assert.equal(raw['guard']['token'], '(set: hidden)');
    await page.click('#raw-config summary');
  });

  it('a bad value is refused by the daemon, the key named beside its field, and the file left as it was', async () => {
    const before = readFileSync(configFile, 'utf8');
    const was = await page.inputValue(`${field('intervalSeconds')} input`);
    assert.equal(was, '0.5', 'the value in use (the --interval flag)');
    await page.fill(`${field('intervalSeconds')} input`, '500');
    await save();
    await page.waitForSelector(`${field('intervalSeconds')} .answer.error`);
    assert.match(
      (await page.textContent(`${field('intervalSeconds')} .answer`)) ?? '',
      /^config: "intervalSeconds" is 500: /,
    );
    assert.equal(await page.getAttribute(`${field('intervalSeconds')} input`, 'aria-invalid'), 'true');
    assert.match((await page.textContent('#config-answer')) ?? '', /Not saved/);
    assert.equal(readFileSync(configFile, 'utf8'), before, 'nothing written');
    await page.fill(`${field('intervalSeconds')} input`, was);
  });

  it('a good change is saved, applied at once and read back from GET /api/v1/config; only that key is sent', async () => {
    const sent: Json[] = [];
    const onRequest = (r: { method(): string; url(): string; postData(): string | null }): void => {
      if (r.url().endsWith('/api/v1/config') && r.method() !== 'GET')
        sent.push({ method: r.method(), body: JSON.parse(r.postData() ?? 'null') });
    };
    page.on('request', onRequest);
    await page.fill(`${field('guard.queue.max')} input`, '5');
    await page.fill(`${field('guard.retryAfterSeconds')} input`, '12');
    await save();
    page.off('request', onRequest);
    assert.match(
      (await page.textContent('#config-saved')) ?? '',
      /^Saved 2 keys: guard\.queue\.max, guard\.retryAfterSeconds\.$/,
    );
    assert.equal(await page.textContent(`${field('guard.queue.max')} .answer`), 'Saved and applied.');
    assert.equal(await page.textContent(`${field('guard.retryAfterSeconds')} .answer`), 'Saved and applied.');
    assert.deepEqual(sent, [
      { method: 'PATCH', body: { set: { 'guard.queue.max': 5, 'guard.retryAfterSeconds': 12 }, unset: [] } },
    ]);
    const cfg = (await getJson('/api/v1/config'))['config'] as Json;
    assert.equal(cfg['guard']['queue']['max'], 5);
    assert.equal(cfg['guard']['retryAfterSeconds'], 12);
    // The file holds what it held plus the change: no flag (--exo-url) or default written into it.
    assert.deepEqual(stored(), {
      cluster: { token: CLUSTER_TOKEN },
      guard: { token: GUARD_TOKEN, queue: { max: 5 }, retryAfterSeconds: 12 },
      logLevel: 'info',
    });
    // The thresholds decide when the daemon acts (unloading EXO's models among it): a browser without the
    // token is told so beside the field, and nothing is saved.
    await page.fill(`${field('risk.freeHigh')} input`, '12');
    await save();
    assert.match(
      (await page.textContent(`${field('risk.freeHigh')} .answer`)) ?? '',
      /"risk" sets the thresholds the level is judged by .*: changing it needs the bearer token even on loopback/,
    );
    assert.equal(((await getJson('/api/v1/config'))['config'] as Json)['risk']['freeHigh'], 10);
    await page.fill(`${field('risk.freeHigh')} input`, '10');
    // Saving again with nothing changed sends nothing.
    await save();
    assert.equal(await page.textContent('#config-unchanged'), 'Nothing changed.');
  });

  it('a key that waits for a restart says so beside its field; one a flag overrides says that', async () => {
    await page.fill(`${field('exo.timeoutMs')} input`, '3000');
    await page.fill(`${field('intervalSeconds')} input`, '2');
    await save();
    assert.equal(
      await page.textContent(`${field('exo.timeoutMs')} .answer`),
      'Saved; takes effect when the daemon restarts.',
    );
    assert.equal(stored()['exo']['timeoutMs'], 3000);
    // The daemon runs with --interval 0.5, which the file does not change.
    assert.equal(
      await page.textContent(`${field('intervalSeconds')} .answer`),
      'Saved; the daemon runs with it already (a flag may override it).',
    );
    assert.equal(stored()['intervalSeconds'], 2);
  });

  it("a token typed into its field is the owner's to change: refused beside it, saying why, and in the page nowhere", async () => {
    await page.fill(`${field('cluster.token')} input[type=password]`, NEW_TOKEN);
    await save();
    // A page on the loopback API has no API token: any local user could have opened it.
    assert.equal((await page.textContent('#config-answer')) ?? '', 'Not saved: the daemon refused it.');
    assert.match(
      (await page.textContent(`${field('cluster.token')} .answer`)) ?? '',
      /"cluster\.token" decides who may read this node as a cluster peer: changing it needs the bearer token even on loopback/,
    );
    assert.equal(stored()['cluster']['token'], CLUSTER_TOKEN, 'nothing written');
    assert.equal(stored()['guard']['token'], GUARD_TOKEN, 'the other token kept');
    // Only in the password field the user typed it into: never in the document or from the daemon.
    assert.ok(!(await page.content()).includes(NEW_TOKEN));
    assert.ok(!JSON.stringify(await getJson('/api/v1/config')).includes(NEW_TOKEN));
    await page.fill(`${field('cluster.token')} input[type=password]`, '');
  });

  it('the raw JSON view sends only what was edited; a program to run is refused naming it', async () => {
    await page.click('#raw-config summary');
    const raw = JSON.parse(await page.inputValue('#config')) as Json;
    await page.fill('#config', JSON.stringify({ ...raw, logLevel: 'debug' }, null, 2));
    await page.click('#save-raw');
    // The tab is drawn again from what the daemon runs with, the raw view open with the answer.
    await page.waitForSelector('#view[data-tab="Settings"] #raw-config[open] #raw-saved', { timeout: 5000 });
    assert.equal(await page.textContent('#raw-saved'), 'Saved 1 key: logLevel.');
    assert.equal(await page.inputValue(`${field('logLevel')} select`), '"debug"', 'the form shows it too');
    assert.equal((await getJson('/api/v1/config'))['config']['logLevel'], 'debug');
    assert.equal(stored()['cluster']['token'], CLUSTER_TOKEN);

    const again = JSON.parse(await page.inputValue('#config')) as Json;
    again['actions']['notify']['command'] = ['/bin/sh'];
    const before = readFileSync(configFile, 'utf8');
    await page.fill('#config', JSON.stringify(again, null, 2));
    await page.click('#save-raw');
    await page.waitForSelector('#raw-answer .error', { timeout: 5000 });
    assert.match(
      (await page.textContent('#raw-answer')) ?? '',
      /"actions\.notify\.command" names a program to run and cannot be changed from here/,
    );
    assert.equal(readFileSync(configFile, 'utf8'), before, 'nothing written');
    // The refusals asked for (400 invalid or a program, 401 an owner's key) are the only console errors.
    assert.deepEqual(
      errors.filter((e) => !/status of 40[01]/.test(e)),
      [],
    );
  });
});
