import assert from 'node:assert/strict';
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { repoRoot } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore lint/suspicious/noExplicitAny: the test reads deep into JSON answers; shapes are asserted field by field
type Json = Record<string, any>;

const dir = tempDir();
after(dir.cleanup);

/** A person's environment with only HOME set: the platform's places, no overrides. */
const homeEnv = (home: string): NodeJS.ProcessEnv => ({
  HOME: home,
  EXO_SENTINEL_HOME: undefined,
  XDG_CONFIG_HOME: undefined,
  XDG_STATE_HOME: undefined,
  NO_COLOR: '1',
});

const linux = process.platform === 'linux';
/** The configuration's folder under a HOME: XDG's on Linux, the data directory in Application Support on macOS. */
const configDir = (home: string): string =>
  linux
    ? join(home, '.config', 'exo-sentinel')
    : join(home, 'Library', 'Application Support', 'exo-sentinel');
// Only Linux keeps configuration (XDG_CONFIG_HOME) and data (XDG_STATE_HOME) apart, so only there has an old
// config.json in the data directory another place to move to.
const OLD_PLACE = linux
  ? false
  : 'Linux only: on macOS the configuration lives in the data directory (no old place)';

describe('exo-sentinel config: where the file lives, following it, schema and validate', () => {
  it('keeps the file in ~/.config/exo-sentinel (macOS: Application Support), created 0600 in a 0700 directory', async () => {
    const home = join(dir.path, 'fresh');
    mkdirSync(home);
    const env = homeEnv(home);
    const where = join(configDir(home), 'config.json');
    const p = await runCli(['config', 'path'], env);
    assert.deepEqual([p.code, p.stdout, p.stderr], [0, `${where}\n`, '']);
    const set = await runCli(['config', 'set', 'logLevel', 'debug'], env);
    assert.equal(set.stdout, `set logLevel in ${where} (applies when the daemon starts)\n`);
    assert.equal(statSync(where).mode & 0o777, 0o600);
    assert.equal(statSync(configDir(home)).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(readFileSync(where, 'utf8')), { logLevel: 'debug' });
    const get = await runCli(['config', 'get', 'logLevel'], env);
    assert.equal(get.stdout, 'debug\n');
    const json = await runCli(['config', 'path', '--json'], env);
    assert.deepEqual(JSON.parse(json.stdout), { path: where, preferred: where, legacy: null, exists: true });
  });

  it('reads an old config.json in the data directory and says where it belongs (daemon log too)', {
    skip: OLD_PLACE,
  }, async () => {
    const home = join(dir.path, 'old');
    const state = join(home, '.local', 'state', 'exo-sentinel');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'config.json'), JSON.stringify({ guard: { contextCap: 4096 } }), {
      mode: 0o600,
    });
    const env = homeEnv(home);
    const p = await runCli(['config', 'path'], env);
    assert.equal(p.stdout, `${join(state, 'config.json')}\n`);
    assert.match(
      p.stderr,
      /^exo-sentinel: the configuration is read from .*\.local\/state\/exo-sentinel\/config\.json, its old place; move it to .*\.config\/exo-sentinel\/config\.json/,
    );
    assert.equal((await runCli(['config', 'get', 'guard.contextCap'], env)).stdout, '4096\n');
    const once = await runCli(['daemon', '--once', '--exo-url', 'http://127.0.0.1:9'], env);
    assert.equal(once.code, 0, once.stderr);
    const log = readFileSync(join(state, 'log', 'exo-sentinel.log'), 'utf8');
    assert.match(log, /its old place; move it to .*\.config\/exo-sentinel\/config\.json/);
  });

  it('a running daemon follows an old config.json moved to its new place', { skip: OLD_PLACE }, async () => {
    const home = join(dir.path, 'moving');
    const state = join(home, '.local', 'state', 'exo-sentinel');
    const config = join(home, '.config', 'exo-sentinel');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'config.json'), JSON.stringify({ actions: { guardProfile: 'balanced' } }));
    const env = homeEnv(home);
    const daemon = await startDaemon(['--exo-url', 'http://127.0.0.1:9'], env);
    try {
      const status = async (): Promise<Json> =>
        (await fetch(`${daemon.apiUrl()}/api/v1/status`)).json() as Promise<Json>;
      assert.equal((await status())['config']['path'], join(state, 'config.json'));
      assert.equal((await status())['guardProfile'], 'balanced');
      mkdirSync(config, { recursive: true });
      writeFileSync(join(state, 'config.json'), JSON.stringify({ actions: { guardProfile: 'observe' } }));
      renameSync(join(state, 'config.json'), join(config, 'config.json'));
      const deadline = Date.now() + 6000;
      while ((await status())['guardProfile'] !== 'observe' && Date.now() < deadline) await sleep(100);
      const s = await status();
      assert.equal(s['guardProfile'], 'observe');
      assert.equal(s['config']['path'], join(config, 'config.json'));
      // Edits at the new place apply too.
      writeFileSync(join(config, 'config.json'), JSON.stringify({ actions: { guardProfile: 'protect' } }));
      const until = Date.now() + 6000;
      while ((await status())['guardProfile'] !== 'protect' && Date.now() < until) await sleep(100);
      assert.equal((await status())['guardProfile'], 'protect');
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
  });

  it('prints the JSON Schema the repository ships, and validates files', async () => {
    const env = { EXO_SENTINEL_HOME: join(dir.path, 'v') };
    const schema = await runCli(['config', 'schema'], env);
    assert.deepEqual(
      JSON.parse(schema.stdout),
      JSON.parse(readFileSync(join(repoRoot, 'src/main/core/config/config.schema.json'), 'utf8')),
    );
    const file = join(dir.path, 'try.json');
    writeFileSync(file, JSON.stringify({ $schema: 'x', guard: { queue: { max: -1 } }, nope: 1 }));
    const bad = await runCli(['config', 'validate', file, '--json'], env);
    assert.equal(bad.code, 1);
    const out = JSON.parse(bad.stdout);
    assert.equal(out.valid, false);
    assert.ok(out.errors.some((e: string) => e.endsWith('unknown key "nope"')));
    writeFileSync(file, JSON.stringify({ $schema: './config.schema.json', logLevel: 'warn' }));
    const ok = await runCli(['config', 'validate', file], env);
    assert.deepEqual([ok.code, ok.stdout], [0, `${file}: valid\n`]);
    const missing = await runCli(['config', 'validate', join(dir.path, 'none.json')], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /none\.json: cannot read \(ENOENT\)/);
  });

  it('config set from two shells at once keeps both keys; a config.json that is a link stays one', async () => {
    for (let round = 0; round < 4; round++) {
      const data = join(dir.path, `concurrent-${round}`);
      const [a, b] = await Promise.all([
        runCli(['config', 'set', '--data-dir', data, 'intervalSeconds', '3']),
        runCli(['config', 'set', '--data-dir', data, 'logLevel', 'debug']),
      ]);
      assert.deepEqual([a.code, b.code], [0, 0], a.stderr + b.stderr);
      const stored = JSON.parse(readFileSync(join(data, 'config.json'), 'utf8'));
      assert.deepEqual([stored.intervalSeconds, stored.logLevel], [3, 'debug'], `round ${round}`);
    }
    const real = join(dir.path, 'kept-elsewhere');
    const linked = join(dir.path, 'linked');
    mkdirSync(real, { recursive: true });
    mkdirSync(linked, { recursive: true });
    writeFileSync(join(real, 'config.json'), '{}\n');
    symlinkSync(join('..', 'kept-elsewhere', 'config.json'), join(linked, 'config.json'));
    const set = await runCli(['config', 'set', '--data-dir', linked, 'intervalSeconds', '2']);
    assert.equal(set.code, 0, set.stderr);
    assert.ok(lstatSync(join(linked, 'config.json')).isSymbolicLink(), 'still a link');
    assert.equal(JSON.parse(readFileSync(join(real, 'config.json'), 'utf8')).intervalSeconds, 2);
  });
});
