import assert from 'node:assert/strict';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore lint/suspicious/noExplicitAny: the test reads deep into JSON answers; shapes are asserted field by field
type Json = Record<string, any>;

const dir = tempDir();
const configFile = join(dir.path, 'config.json');
const env = { EXO_SENTINEL_HOME: dir.path, NO_COLOR: '1' };
const TOKEN = 'guard-token-never-in-a-log-0123';

/** Replaces the file the way editors and `config set` do: a new file renamed over the old one. */
function writeConfig(value: unknown): void {
  const tmp = `${configFile}.tmp`;
  writeFileSync(tmp, typeof value === 'string' ? value : JSON.stringify(value, null, 2), { mode: 0o600 });
  renameSync(tmp, configFile);
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 6000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await read();
  while (!ok(v)) {
    if (Date.now() > deadline)
      assert.fail(`${what} within ${ms} ms; last: ${JSON.stringify(v).slice(0, 600)}`);
    await sleep(100);
    v = await read();
  }
  return v;
}

describe('live configuration reload in a running daemon', () => {
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let api: string;
  let guard: string;
  const get = async (path: string): Promise<Json> => (await fetch(`${api}${path}`)).json() as Promise<Json>;
  const statusJson = async (): Promise<Json> => {
    const r = await runCli(['status', '--json', '--exo-url', 'http://127.0.0.1:9'], env);
    return JSON.parse(r.stdout) as Json;
  };
  /** A chat request asking for 5000 tokens: over a 4096 cap (400 context_length_exceeded), under an 8192 one (then EXO, absent, fails it). */
  const ask = async (): Promise<number> =>
    (
      await fetch(`${guard}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5000 }),
      })
    ).status;

  before(async () => {
    writeConfig({ guard: { contextCap: 4096 }, exo: { timeoutMs: 500 } });
    daemon = await startDaemon(['--exo-url', 'http://127.0.0.1:9'], env);
    api = daemon.apiUrl()!;
    guard = daemon.guardUrl()!;
  });
  after(async () => {
    daemon.kill('SIGTERM');
    await waitForExit(daemon);
    dir.cleanup();
  });

  it('applies an edited file within seconds, and names what needs a restart', async () => {
    const start = await statusJson();
    assert.equal(start.daemon.config.path, configFile);
    assert.equal(start.daemon.config.reloads, 0);
    assert.equal(await ask(), 400, 'the cap at start is 4096');
    assert.equal((await get('/api/v1/status'))['guardProfile'], 'protect');

    const t0 = Date.now();
    writeConfig({
      $schema: './config.schema.json',
      guard: { contextCap: 8192 },
      actions: { guardProfile: 'observe' },
      exo: { timeoutMs: 1500 },
    });
    await until(
      'the reload',
      () => get('/api/v1/status'),
      (v) => v['config']['reloads'] === 1,
    );
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 3, `applied after ${seconds} s`);
    const s = await statusJson();
    assert.deepEqual(s.daemon.config.last.applied, ['actions.guardProfile', 'guard.contextCap']);
    assert.deepEqual(s.daemon.config.restartRequired, ['exo.timeoutMs']);
    assert.equal((await get('/api/v1/status'))['guardProfile'], 'observe');
    assert.notEqual(await ask(), 400, 'the guard admits 5000 tokens under the new 8192 cap');
    const cfg = await get('/api/v1/config');
    assert.equal(cfg['config']['guard']['contextCap'], 8192);
    assert.equal(cfg['config']['exo']['timeoutMs'], 500, 'the running value until a restart');
    assert.deepEqual(cfg['reload']['restartRequired'], ['exo.timeoutMs']);
    const text = await runCli(['status', '--exo-url', 'http://127.0.0.1:9'], env);
    assert.match(text.stdout, /^config {8}restart the daemon to apply exo\.timeoutMs$/m);
    const events = await until(
      'the config.reloaded event',
      () => get('/api/v1/events?from=0&kind=config.'),
      (v) => (v['events'] as Json[]).some((e) => e['kind'] === 'config.reloaded'),
    );
    const ev = (events['events'] as Json[]).find((e) => e['kind'] === 'config.reloaded')!;
    assert.match(
      ev['message'],
      /applied actions\.guardProfile, guard\.contextCap; needs a restart for exo\.timeoutMs/,
    );
    assert.deepEqual(ev['data']['restartRequired'], ['exo.timeoutMs']);
  });

  it('keeps a bad file out: the previous configuration stays and the error is recorded', async () => {
    // `status` itself refuses an invalid file, so the daemon's view is read from its API here.
    const daemonView = async (): Promise<Json> => (await get('/api/v1/status'))['config'] as Json;
    writeConfig({ guard: { contextCap: 12 }, actions: { guardProfile: 'balanced' } });
    const s = await until('the refusal', daemonView, (v) => v['error'] !== null);
    assert.match(s['error']['errors'][0], /"guard\.contextCap" is 12: /);
    assert.equal(s['reloads'], 1);
    assert.equal((await get('/api/v1/status'))['guardProfile'], 'observe', 'the old profile stays');
    assert.notEqual(await ask(), 400, 'the 8192 cap stays');
    // A token typed without its quotes: V8's parse error would quote ten characters of it either side.
    const secret = 'Zq8rT3xWv9LmK2pY7nB4';
    writeConfig(`{\n  "guard": {\n    "token": ${secret}\n  }\n}\n`);
    const refused = await until('the JSON error', daemonView, (v) =>
      /not valid JSON/.test(v['error']?.['errors'][0] ?? ''),
    );
    assert.match(
      refused['error']['errors'][0],
      /not valid JSON \(Unexpected character in JSON at .*line 3 column 14\)/,
    );
    const events = await until(
      'the config.invalid events',
      () => get('/api/v1/events?from=0&kind=config.invalid'),
      (v) => (v['events'] as Json[]).length >= 2,
    );
    const messages = (events['events'] as Json[]).map((e) => e['message'] as string);
    assert.ok(
      messages.some((m) => /"guard\.contextCap" is 12/.test(m) && /the previous configuration stays/.test(m)),
    );
    assert.ok(messages.some((m) => /not valid JSON/.test(m)));
    const bad = await runCli(['config', 'validate'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^exo-sentinel: .*config\.json: not valid JSON/);
    // Not four characters of it anywhere: the status, the timeline, the CLI.
    const seen = [JSON.stringify(refused), JSON.stringify(events), bad.stderr].join('\n');
    for (let i = 0; i + 4 <= secret.length; i++)
      assert.ok(!seen.includes(secret.slice(i, i + 4)), secret.slice(i, i + 4));
  });

  it('reloads on SIGHUP', async () => {
    const before = (await get('/api/v1/status'))['config']['reloads'] as number;
    writeConfig({ guard: { contextCap: 4096 }, exo: { timeoutMs: 500 } });
    daemon.kill('SIGHUP');
    const s = await until('the SIGHUP reload', statusJson, (v) => v.daemon.config.reloads > before);
    assert.equal(s.daemon.config.error, null);
    assert.deepEqual(s.daemon.config.restartRequired, [], 'back to the running value: nothing waits');
    assert.equal(await ask(), 400, 'the 4096 cap again');
    const events = await until(
      'a reload event from SIGHUP',
      () => get('/api/v1/events?from=0&kind=config.reloaded'),
      (v) => (v['events'] as Json[]).some((e) => e['data']['trigger'] === 'SIGHUP'),
    );
    assert.ok(events);
    assert.equal(daemon.exitCode, null, 'SIGHUP does not stop the daemon');
  });

  it('`config set` goes through the daemon, which applies it; secrets stay out of the log', async () => {
    const set = await runCli(['config', 'set', 'guard.contextCap', '8192'], env);
    assert.equal(set.code, 0, set.stderr);
    assert.match(
      set.stdout,
      new RegExp(
        `^set guard\\.contextCap in .*config\\.json; the daemon \\(pid ${daemon.pid}\\) applied it\\n$`,
      ),
    );
    assert.notEqual(await ask(), 400);
    const restart = await runCli(['config', 'set', 'exo.timeoutMs', '900'], env);
    assert.match(restart.stdout, /restart the daemon \(pid \d+\) to apply it/);
    const token = await runCli(['config', 'set', 'guard.token', TOKEN], env);
    assert.equal(token.code, 0, token.stderr);
    const refused = await runCli(['config', 'set', 'guard.queue.max', 'many'], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^exo-sentinel: config set: "guard\.queue\.max" is "many": /);
    const stored = JSON.parse(readFileSync(configFile, 'utf8')) as Json;
    assert.deepEqual(stored['guard'], { contextCap: 8192, token: TOKEN });
    assert.equal(stored['exo']['timeoutMs'], 900);
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    // The guard now wants the token.
    assert.equal(await ask(), 401);
    const masked = await runCli(['config', 'get', 'guard.token'], env);
    assert.equal(masked.stdout, '••••0123\n');
    const shown = await runCli(['config', 'get', 'guard.token', '--show-secrets'], env);
    assert.equal(shown.stdout, `${TOKEN}\n`);
    const log = readFileSync(join(dir.path, 'logs', 'exo-sentinel.log'), 'utf8');
    assert.ok(log.includes('applied guard.token'), 'the key is logged');
    assert.ok(!log.includes(TOKEN), 'the token is not');
    const events = JSON.stringify(await get('/api/v1/events?from=0&kind=config.'));
    assert.ok(!events.includes(TOKEN));
  });
});
