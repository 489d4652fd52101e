import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadOrCreateToken, type TokenLoad, tokenNoticeText } from '../../src/main/core/api/api-token.js';
import { readToken, requestDaemon } from '../../src/main/headless/daemon-client.js';
import { startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

const OLD = 'old-token-someone-may-know-0123456789';
const modeOf = (p: string): number => statSync(p).mode & 0o7777;
const isRoot = process.getuid?.() === 0;
/** A uid that is not this process's (nobody). */
const OTHER_UID = 65534;

/** A token file with exactly this mode, whatever the umask. */
function tokenFile(dir: string, name: string, mode: number, content = `${OLD}\n`): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

const texts = (load: TokenLoad): string[] => load.notices.map(tokenNoticeText);

describe('the daemon and its API token file (real files, real modes)', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('creates the file 0600 even under a umask that lets everyone read and write', () => {
    const old = process.umask(0);
    try {
      const p = join(dir.path, 'fresh', 'api-token');
      mkdirSync(join(dir.path, 'fresh'), { mode: 0o700 });
      const load = loadOrCreateToken(p);
      assert.ok(load.ok);
      assert.equal(modeOf(p), 0o600);
      assert.equal(readFileSync(p, 'utf8'), `${load.token}\n`);
      assert.deepEqual(load.notices, []);
      const again = loadOrCreateToken(p);
      assert.ok(again.ok);
      assert.equal(again.token, load.token, 'a sound file is kept');
      assert.deepEqual(again.notices, []);
    } finally {
      process.umask(old);
    }
  });

  it('a file group or others could read or write: its token is not used, a new one replaces it (0600)', () => {
    const cases: Array<[number, RegExp]> = [
      [0o644, /is readable by group or others \(mode 0644\): its token may have been read by another user/],
      [0o604, /is readable by group or others \(mode 0604\)/],
      [0o620, /is writable by group or others \(mode 0620\): its token may be one another user chose/],
      [0o666, /is readable and writable by group or others \(mode 0666\)/],
    ];
    for (const [mode, said] of cases) {
      const p = tokenFile(dir.path, `loose-${mode.toString(8)}`, mode);
      const load = loadOrCreateToken(p);
      assert.ok(load.ok);
      assert.notEqual(load.token, OLD);
      assert.equal(modeOf(p), 0o600, mode.toString(8));
      assert.equal(readFileSync(p, 'utf8').trim(), load.token);
      const [text, ...rest] = texts(load);
      assert.deepEqual(rest, []);
      assert.match(text ?? '', said);
      assert.ok(text?.startsWith(`the API token file ${p} `), text);
      assert.match(text ?? '', /a new token replaces it \(mode 0600\)$/);
      assert.ok(!text?.includes(OLD) && !text?.includes(load.token), 'no token in the notice');
    }
  });

  it('bits only the owner gains from are taken away and the token kept; 0600 and 0400 say nothing', () => {
    const x = tokenFile(dir.path, 'owner-x', 0o700);
    const load = loadOrCreateToken(x);
    assert.ok(load.ok);
    assert.equal(load.token, OLD);
    assert.equal(modeOf(x), 0o600);
    assert.deepEqual(texts(load), [`the API token file ${x} had mode 0700, more than 0600: set to 0600`]);
    for (const mode of [0o600, 0o400]) {
      const p = tokenFile(dir.path, `sound-${mode.toString(8)}`, mode);
      const sound = loadOrCreateToken(p);
      assert.deepEqual(sound, { ok: true, token: OLD, notices: [], written: null });
      assert.equal(modeOf(p), mode, 'left as it is');
    }
  });

  it('a link is not followed: replaced by a file of its own, what it pointed to untouched', () => {
    const secret = tokenFile(dir.path, 'someone-elses-secret', 0o600, 'another-secret-not-the-token-42\n');
    const p = join(dir.path, 'linked-token');
    symlinkSync(secret, p);
    const load = loadOrCreateToken(p);
    assert.ok(load.ok);
    assert.notEqual(load.token, 'another-secret-not-the-token-42');
    assert.ok(lstatSync(p).isFile(), 'the link itself was replaced');
    assert.equal(modeOf(p), 0o600);
    assert.equal(readFileSync(secret, 'utf8'), 'another-secret-not-the-token-42\n');
    assert.deepEqual(texts(load), [
      `the API token file ${p} is a symbolic link: not used; a new token replaces it (mode 0600)`,
    ]);
  });

  it("another user's file is not used; a new one of this user replaces it", {
    skip: !isRoot && 'needs root to chown',
  }, () => {
    const p = tokenFile(dir.path, 'foreign', 0o600);
    chownSync(p, OTHER_UID, OTHER_UID);
    const load = loadOrCreateToken(p);
    assert.ok(load.ok);
    assert.notEqual(load.token, OLD);
    assert.equal(statSync(p).uid, process.getuid?.());
    assert.equal(modeOf(p), 0o600);
    assert.deepEqual(texts(load), [
      `the API token file ${p} is owned by another user (uid ${OTHER_UID}), not by this one (uid ${process.getuid?.()}): its token is not used; a new token replaces it (mode 0600)`,
    ]);
  });

  it('what cannot be replaced fails naming the path and the problem', () => {
    const p = join(dir.path, 'a-directory');
    mkdirSync(join(p, 'inside'), { recursive: true });
    const load = loadOrCreateToken(p);
    assert.equal(load.ok, false);
    assert.match(
      !load.ok ? load.error : '',
      new RegExp(
        `^the API token file ${p} is not a regular file: not used, and a new API token cannot be written to ${p} \\(E[A-Z]+\\)$`,
      ),
    );
  });

  it('a data directory others can write is a warning of its own', () => {
    const open = join(dir.path, 'open-dir');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const load = loadOrCreateToken(join(open, 'api-token'));
    assert.ok(load.ok);
    assert.deepEqual(texts(load), [
      `the API token file ${join(open, 'api-token')} is in a directory group or others can write (${open}, mode 0777): another user can replace it; make the directory writable by you only (chmod go-w)`,
    ]);
    chmodSync(open, 0o1777);
    assert.deepEqual(
      texts(loadOrCreateToken(join(open, 'api-token'))),
      [],
      'the sticky bit keeps others out',
    );
  });
});

describe('the CLI reading the token file (real files, real modes)', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('refuses a file group or others can write, and says why; warns about one they can read', () => {
    const writable = tokenFile(dir.path, 'w', 0o622);
    assert.deepEqual(readToken(writable), {
      token: null,
      problem: `the API token file ${writable} is writable by group or others (mode 0622): not used (its token may be one another user chose); restarting the daemon replaces it with a new one only you can read`,
    });
    const readable = tokenFile(dir.path, 'r', 0o640);
    const r = readToken(readable);
    assert.equal(r.token, OLD);
    assert.match(
      r.problem ?? '',
      /is readable by group or others \(mode 0640\): its token may be known to another user/,
    );
    assert.deepEqual(readToken(tokenFile(dir.path, 'ok', 0o600)), { token: OLD, problem: null });
    assert.deepEqual(readToken(join(dir.path, 'absent')), { token: null, problem: null });
    assert.equal(modeOf(writable), 0o622, 'the CLI changes nothing');
  });

  it("refuses another user's file", { skip: !isRoot && 'needs root to chown' }, () => {
    const p = tokenFile(dir.path, 'foreign', 0o600);
    chownSync(p, OTHER_UID, OTHER_UID);
    assert.equal(readToken(p).token, null);
    assert.match(readToken(p).problem ?? '', /is owned by another user \(uid 65534\)/);
  });

  it('a request sends no token from a writable file and says so on stderr, once', async () => {
    const seen: IncomingMessage[] = [];
    const s: Server = createServer((req, res) => {
      seen.push(req);
      res.end('{}');
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const api = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const p = tokenFile(dir.path, 'writable-for-request', 0o666);
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      for (let i = 0; i < 2; i++) await requestDaemon({ pid: 1, api, tokenFile: p }, 'GET', '/api/v1/status');
    } finally {
      process.stderr.write = write;
      s.close();
    }
    assert.equal(seen.length, 2);
    assert.ok(seen.every((r) => r.headers.authorization === undefined));
    assert.equal(written.length, 1);
    assert.match(
      written[0] ?? '',
      new RegExp(`^exo-sentinel: warning: the API token file ${p} is readable and writable`),
    );
    assert.ok(!written[0]?.includes(OLD));
  });
});

describe('a daemon started over a token file others could read', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('replaces it, warns in its log and its timeline without the token, and answers only the new one', async () => {
    const dataDir = join(dir.path, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const p = tokenFile(dataDir, 'api-token', 0o644);
    const d = await startDaemon(['--data-dir', dataDir, '--no-guard']);
    try {
      const api = d.apiUrl();
      assert.ok(api, d.output());
      assert.equal(modeOf(p), 0o600);
      const token = readFileSync(p, 'utf8').trim();
      assert.notEqual(token, OLD);
      const ask = (t: string) =>
        fetch(`${api}/api/v1/config`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
          body: JSON.stringify({ set: { 'exo.url': 'http://127.0.0.1:52499' } }),
        });
      assert.equal((await ask(OLD)).status, 401, 'the old token opens nothing');
      assert.equal((await ask(token)).status, 200);
      let events: Array<{ kind: string; severity: string; message: string }> = [];
      for (let i = 0; i < 60 && events.length === 0; i++) {
        const r = (await (await fetch(`${api}/api/v1/events?from=0&kind=api.token-file`)).json()) as {
          events: typeof events;
        };
        events = r.events;
        if (events.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(events.length, 1);
      assert.equal(events[0]?.severity, 'warning');
      assert.match(
        events[0]?.message ?? '',
        new RegExp(`^the API token file ${p} is readable by group or others \\(mode 0644\\)`),
      );
      const logs = readdirSync(join(dataDir, 'logs'))
        .map((f) => readFileSync(join(dataDir, 'logs', f), 'utf8'))
        .join('\n');
      assert.match(logs, /its token may have been read by another user and is not used/);
      for (const t of [OLD, token]) {
        assert.ok(!logs.includes(t), 'no token in the log');
        assert.ok(!d.output().includes(t), 'no token on the console');
        assert.ok(!JSON.stringify(events).includes(t), 'no token in the timeline');
      }
    } finally {
      d.kill('SIGTERM');
      await waitForExit(d);
    }
  });
});
