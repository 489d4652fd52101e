import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { ApiServer } from '../../src/main/core/api/api-server.js';
import { loadOrCreateToken, type TokenNotice } from '../../src/main/core/api/api-token.js';
import { TokenFileWatch } from '../../src/main/core/api/api-token-watch.js';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { localApiServer } from '../support/local-api.js';
import { tempDir } from '../support/temp-dir.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

function watched(path: string) {
  const first = loadOrCreateToken(path);
  assert.ok(first.ok);
  const seen = {
    changed: [] as Array<[string, string]>,
    notices: [] as TokenNotice[],
    failed: [] as string[],
  };
  const watch = new TokenFileWatch(path, first.token, {
    changed: (t, why) => seen.changed.push([t, why]),
    notice: (n) => seen.notices.push(n),
    failed: (e) => seen.failed.push(e),
  });
  return { token: first.token, watch, seen };
}

describe('the API token file, looked at again while the daemon runs', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('an unchanged file is not read again and says nothing', () => {
    const { watch, seen } = watched(`${dir.path}/quiet-token`);
    for (let i = 0; i < 5; i++) assert.equal(watch.check(), false);
    assert.deepEqual(seen, { changed: [], notices: [], failed: [] });
  });

  it('a file made readable by others after the start is replaced by a new private token', () => {
    const path = `${dir.path}/loosened-token`;
    const { token, watch, seen } = watched(path);
    chmodSync(path, 0o644);
    assert.equal(watch.check(), true);
    const [next, why] = seen.changed[0]!;
    assert.notEqual(next, token);
    assert.equal(readFileSync(path, 'utf8').trim(), next);
    assert.equal(mode(path), 0o600);
    assert.equal(why, 'the file could not be trusted and was replaced');
    assert.match(seen.notices[0]!.problem, /group or others can read it \(mode 0644\)|0644/);
    assert.ok(!JSON.stringify(seen.notices).includes(token), 'notices never carry a token');
    assert.equal(watch.check(), false, 'the rewritten file is the new normal');
  });

  it("the owner's edit rotates the token without a restart; a removed file is written again", () => {
    const path = `${dir.path}/edited-token`;
    const { watch, seen } = watched(path);
    const chosen = 'a-token-the-owner-chose-0123456789';
    writeFileSync(`${path}.tmp`, `${chosen}\n`, { mode: 0o600 });
    rmSync(path);
    writeFileSync(path, readFileSync(`${path}.tmp`), { mode: 0o600 });
    assert.equal(watch.check(), true);
    assert.deepEqual(seen.changed.at(-1), [chosen, 'the file holds a new token']);
    rmSync(path);
    assert.equal(watch.check(), true);
    assert.equal(seen.changed.at(-1)![1], 'the file was removed and written again');
    assert.equal(mode(path), 0o600);
  });

  it('an edit that leaves no valid token is not announced as the new token: it says the file was written again', () => {
    const path = `${dir.path}/mistyped-token`;
    const { token, watch, seen } = watched(path);
    writeFileSync(path, 'too-short\n', { mode: 0o600 });
    assert.equal(watch.check(), true);
    const [next, why] = seen.changed.at(-1)!;
    assert.notEqual(next, token);
    assert.equal(readFileSync(path, 'utf8').trim(), next, 'the daemon wrote a token of its own');
    assert.equal(why, 'the file held no valid token (16 to 512 printable characters) and was written again');
    // The owner's own token in a file only its owner can use (0700): taken, the mode repaired, and said so.
    const chosen = 'another-token-the-owner-chose-0123456789';
    writeFileSync(path, `${chosen}\n`, { mode: 0o600 });
    chmodSync(path, 0o700);
    assert.equal(watch.check(), true);
    assert.deepEqual(seen.changed.at(-1), [chosen, 'the file holds a new token']);
    assert.equal(mode(path), 0o600);
  });

  it('a link put in its place is not followed: replaced by a private file', () => {
    const path = `${dir.path}/linked-token`;
    const { watch, seen } = watched(path);
    const elsewhere = `${dir.path}/elsewhere`;
    writeFileSync(elsewhere, 'a-token-someone-else-knows-0123456789\n', { mode: 0o600 });
    rmSync(path);
    symlinkSync(elsewhere, path);
    assert.equal(watch.check(), true);
    assert.notEqual(seen.changed.at(-1)![0], 'a-token-someone-else-knows-0123456789');
    assert.ok(!statSync(path, { throwIfNoEntry: true }).isSymbolicLink());
    assert.equal(
      readFileSync(elsewhere, 'utf8'),
      'a-token-someone-else-knows-0123456789\n',
      'the target untouched',
    );
  });

  it('a running API takes the new token: the old one is refused, the file’s is accepted', async () => {
    const path = `${dir.path}/api-token`;
    const first = loadOrCreateToken(path);
    assert.ok(first.ok);
    const db = openDatabase(`${dir.path}/timeline.db`);
    const cfg = validateConfig({});
    assert.ok(cfg.ok);
    const changes: string[] = [];
    let api: ApiServer;
    const tokenWatch = new TokenFileWatch(
      path,
      first.token,
      {
        changed: (t, why) => {
          api.setToken(t);
          changes.push(why);
        },
        notice: () => {},
        failed: () => {},
      },
      50,
    );
    // Beyond loopback: every request needs the token.
    api = localApiServer(db, dir.path, { listen: '0.0.0.0:0', token: first.token, tokenWatch });
    const { port } = await api.start();
    const status = (token: string) =>
      fetch(`http://127.0.0.1:${port}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.status,
      );
    try {
      assert.equal(await status(first.token), 200);
      chmodSync(path, 0o604);
      const deadline = Date.now() + 3000;
      while (changes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(changes, ['the file could not be trusted and was replaced']);
      assert.equal(await status(first.token), 401, 'the token others could read is refused');
      assert.equal(await status(readFileSync(path, 'utf8').trim()), 200);
    } finally {
      await api.stop();
      db.close();
    }
    // Stopped with the API: a file changed afterwards is not rewritten.
    rmSync(path);
    await new Promise((r) => setTimeout(r, 200));
    assert.throws(() => statSync(path), /ENOENT/);
  });
});
