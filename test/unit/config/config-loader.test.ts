import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { loadConfig, validateConfig } from '../../../src/main/core/config/config-loader.js';
import { resolveDataDir } from '../../../src/main/core/config/data-dir.js';
import { parseDuration, parseTime } from '../../../src/main/core/util/format.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

describe('configuration', () => {
  it('gives defaults when there is no file', () => {
    const r = loadConfig(`${dir.path}/absent.json`);
    assert.ok(r.ok);
    assert.equal(r.config.intervalSeconds, 1);
    assert.equal(r.config.slowIntervalSeconds, 5);
    assert.deepEqual(r.config.retention, { rawDays: 2, minuteDays: 30 });
  });

  it('names the key, the value and what is allowed', () => {
    const r = validateConfig({ intervalSeconds: 0, retention: { rawDays: 'week' } }, 'config.json');
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.ok(
      r.errors.some((e) =>
        /config\.json: "intervalSeconds" is 0: Number must be greater than or equal to 0\.1$/.test(e),
      ),
      r.errors.join('\n'),
    );
    assert.ok(
      r.errors.some((e) => /"retention\.rawDays" is "week"/.test(e)),
      r.errors.join('\n'),
    );
  });

  it('rejects unknown keys, bad regexes, bad JSON and non-objects', () => {
    const unknown = validateConfig({ intervall: 1 });
    assert.ok(!unknown.ok && /unknown key "intervall"/.test(unknown.errors[0]!));
    const re = validateConfig({ watch: { mlxServerPatterns: ['(unclosed'] } });
    assert.ok(
      !re.ok &&
        /"watch\.mlxServerPatterns\.0" is "\(unclosed": must be a valid regular expression/.test(
          re.errors[0]!,
        ),
    );
    // A pattern the linear-time engine cannot run (a backreference, a lookahead) is refused.
    for (const p of ['(a)\\1', '(?=a)a', 'mlx(?!_lm)']) {
      const r = validateConfig({ watch: { mlxServerPatterns: [p] } });
      assert.ok(!r.ok && /cannot run in linear time/.test(r.errors[0]!), `${p}: ${JSON.stringify(r)}`);
    }
    // Each pattern runs over every new command line: 64 of them at most.
    const many = validateConfig({
      watch: { mlxServerPatterns: Array.from({ length: 65 }, (_, i) => `srv${i}`) },
    });
    assert.ok(!many.ok && /"watch\.mlxServerPatterns" .*64/.test(many.errors[0]!), JSON.stringify(many));
    // Backtracking shapes are fine: they run in linear time.
    for (const p of ['(a+)+$', '(?:a|a)*b', String.raw`\bmy_server\.py\b`, '(?<=/)omlx'])
      assert.ok(validateConfig({ watch: { mlxServerPatterns: [p] } }).ok, p);
    writeFileSync(`${dir.path}/bad.json`, '{"intervalSeconds": ');
    const bad = loadConfig(`${dir.path}/bad.json`);
    assert.ok(!bad.ok && /bad\.json: not valid JSON/.test(bad.errors[0]!));
    writeFileSync(`${dir.path}/arr.json`, '[1]');
    const arr = loadConfig(`${dir.path}/arr.json`);
    assert.ok(!arr.ok && /must hold a JSON object/.test(arr.errors[0]!));
    const missing = loadConfig(`${dir.path}/none.json`, {}, true);
    assert.ok(!missing.ok && /cannot read \(ENOENT\)/.test(missing.errors[0]!));
  });

  it('keeps a URL as a URL parser reads it: no whitespace around it, no line break hiding its host', () => {
    const r = validateConfig({
      exo: { url: '\u3000http://127.0.0.1:52415 ' },
      cluster: { peers: ['\ufeffhttp://studio-2.local:52417\n'] },
      api: { corsOrigins: ['tauri://localhost '] },
      guard: { corsOrigins: ['\thttps://chat.example\u00a0'] },
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.equal(r.config.exo.url, 'http://127.0.0.1:52415');
    assert.deepEqual(r.config.cluster.peers, ['http://studio-2.local:52417']);
    assert.deepEqual(r.config.api.corsOrigins, ['tauri://localhost']);
    assert.deepEqual(r.config.guard.corsOrigins, ['https://chat.example']);
    // Requests go where a URL parser reads the text, so that is what is kept and shown.
    const raw = 'http://127.0.0.1\n.evil.example:52415';
    const split = validateConfig({ exo: { url: raw } });
    assert.ok(split.ok);
    assert.equal(split.config.exo.url, 'http://127.0.0.1.evil.example:52415');
    assert.equal(new URL(split.config.exo.url).host, new URL(raw).host);
    const bad = validateConfig({ exo: { url: ' ftp://127.0.0.1 ' } });
    assert.ok(
      !bad.ok &&
        /"exo\.url" is " ftp:\/\/127\.0\.0\.1 ": must be an http:\/\/ or https:\/\/ URL/.test(bad.errors[0]!),
    );
  });

  it('says what was wrong once, and never quotes Infinity as null', () => {
    const arr = validateConfig({ guard: { token: [1] } }, 'api');
    assert.ok(!arr.ok);
    assert.deepEqual(arr.errors, [
      'api: "guard.token" is a secret (not shown): Expected string, received array',
    ]);
    const inf = validateConfig(JSON.parse('{"intervalSeconds": 1e400}'), 'api');
    assert.ok(!inf.ok);
    assert.match(inf.errors[0]!, /^api: "intervalSeconds" is Infinity \(a number out of range\): /);
    const up = validateConfig({ guard: 'Zq8rT3xWv9LmK2pY7nB4' }, 'config.json');
    assert.ok(!up.ok);
    assert.match(up.errors[0]!, /^config\.json: "guard" is a string \(not quoted: it may hold a token\): /);
    assert.ok(!up.errors.join().includes('Zq8r'));
    const top = validateConfig([1], 'body');
    assert.ok(!top.ok);
    assert.match(top.errors[0]!, /^body: "\(top level\)" is an array \(not quoted: it may hold a token\): /);
  });

  it('refuses a guard beyond loopback without its token, naming both keys', () => {
    for (const listen of ['0.0.0.0:52416', '192.168.1.20:52416', '[::]:52416']) {
      const r = validateConfig({ guard: { listen } }, 'config.json');
      assert.ok(!r.ok, listen);
      assert.match(
        r.errors.join('\n'),
        new RegExp(
          `"guard\\.token" .*needed when guard\\.listen \\(${listen.replace(/[[\].]/g, '\\$&')}\\) is not loopback`,
        ),
      );
      assert.ok(validateConfig({ guard: { listen, token: 'a-token-of-16-chars+' } }).ok, listen);
    }
    for (const listen of ['127.0.0.1:52416', 'localhost:1', '[::1]:52416'])
      assert.ok(validateConfig({ guard: { listen } }).ok, listen);
  });

  it('lets flags override the file', () => {
    writeFileSync(`${dir.path}/c.json`, JSON.stringify({ intervalSeconds: 2, slowIntervalSeconds: 10 }));
    const r = loadConfig(`${dir.path}/c.json`, { intervalSeconds: 0.5 });
    assert.ok(r.ok);
    assert.equal(r.config.intervalSeconds, 0.5);
    assert.equal(r.config.slowIntervalSeconds, 10);
  });

  it('resolves the data directory: flag, EXO_SENTINEL_HOME, then the platform place', () => {
    assert.equal(resolveDataDir('/x', { EXO_SENTINEL_HOME: '/y' }), '/x');
    assert.equal(resolveDataDir(undefined, { EXO_SENTINEL_HOME: '/y' }), '/y');
    assert.equal(resolveDataDir(undefined, { XDG_STATE_HOME: '/state' }, 'linux'), '/state/exo-sentinel');
    assert.match(resolveDataDir(undefined, {}, 'linux'), /\.local\/state\/exo-sentinel$/);
    assert.match(resolveDataDir(undefined, {}, 'darwin'), /Library\/Application Support\/exo-sentinel$/);
  });

  it('parses durations and times for the CLI', () => {
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('15'), null);
    assert.equal(parseTime('2026-11-26T03:00:00Z'), Date.UTC(2026, 10, 26, 3));
    assert.equal(parseTime('1795664410870'), 1795664410870);
    assert.equal(parseTime('yesterday'), null);
    assert.equal(parseTime('0'), 0);
    assert.equal(parseTime('12'), 12, 'digits are epoch ms, not a month');
    assert.equal(parseTime('2026'), 2026, 'nor a year');
    assert.equal(parseTime('-1'), null);
    assert.equal(parseTime('9'.repeat(20)), null, 'past 2^53');
    assert.equal(parseTime('9000000000000000'), null, 'past what a Date holds');
    assert.equal(parseTime('2026-02-30'), null, 'no February 30 (Date.parse made it March 2)');
    assert.equal(parseTime('2026-13-01'), null);
    assert.equal(parseTime('2028-02-29T00:00:00Z'), Date.UTC(2028, 1, 29));
    assert.equal(parseTime('8640000000000000'), 8.64e15);
    assert.equal(parseDuration('999999999999d'), null, 'past 100 years');
    assert.equal(parseDuration(`${'9'.repeat(400)}d`), null, 'Infinity');
    assert.equal(parseDuration('36500d'), 36_500 * 86_400_000);
  });
});
