import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStores } from '../../src/main/headless/commands/store-access.js';
import { runCli, startDaemon, waitForExit } from '../support/cli-runner.js';
import { repoRoot } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON the CLI printed, asserted field by field
type Json = Record<string, any>;

/** The CLI with its path-taken debug lines on (EXO_SENTINEL_DEBUG=client, daemon-client.ts). */
const cli = (dataDir: string, ...args: string[]) =>
  runCli(['--data-dir', dataDir, ...args], { EXO_SENTINEL_DEBUG: 'client', NO_COLOR: '1' });

const PANIC = join(repoRoot, 'test', 'fixtures', 'panics', 'mlx-3186-1.panic.txt');

/** A directory holding one pasted copy of a kernel panic report (what `panics scan --dir` reads). */
function pastedReports(root: string): string {
  const dir = join(root, 'pasted');
  mkdirSync(dir, { recursive: true });
  copyFileSync(PANIC, join(dir, 'mlx-3186-1.panic.txt'));
  return dir;
}

describe('the CLI is a client of the running daemon (guard, ack, panics scan go through its API)', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let api: string;

  before(async () => {
    mkdirSync(join(dir.path, 'reports'), { recursive: true });
    // Ticks a minute apart: a change the daemon shows at once was applied by it, not read at a tick.
    daemon = await startDaemon([
      '--data-dir',
      dataDir,
      '--interval',
      '60',
      '--exo-url',
      'http://127.0.0.1:9',
      '--reports-dir',
      join(dir.path, 'reports'),
    ]);
    api = daemon.apiUrl()!;
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    dir.cleanup();
  });

  const status = async (): Promise<Json> => (await (await fetch(`${api}/api/v1/status`)).json()) as Json;

  it('guard serialise pins the running guard at once; the CLI never opens the database for writing', async () => {
    const ticks = (await status())['daemon']['ticks'];
    const pin = await cli(dataDir, 'guard', 'serialise', '--json');
    assert.equal(pin.code, 0, pin.stderr);
    assert.match(pin.stderr, /PUT \/api\/v1\/guard\/mode through the API of the daemon \(pid \d+\)/);
    assert.doesNotMatch(pin.stderr, /for writing/);
    assert.deepEqual(
      { ...JSON.parse(pin.stdout), byLevel: undefined },
      { mode: 'serialise', override: 'serialise', byLevel: undefined, changed: true },
    );

    const s = await status();
    assert.equal(s['guardOverride'], 'serialise');
    assert.equal(s['guardMode'], 'serialise');
    // The guard itself took the mode: a store write by the CLI would reach it only at the next tick.
    if (s['daemon']['ticks'] === ticks) assert.equal(s['guard']['mode'], 'serialise');
    // Audited as the daemon's API did it (a CLI writing itself would record its user).
    const actions = (await (await fetch(`${api}/api/v1/actions`)).json()) as Json;
    assert.ok(
      actions['actions'].some(
        (a: Json) => a['action'] === 'guard-mode' && /pinned to serialise by the API/.test(a['reason']),
      ),
      JSON.stringify(actions),
    );

    // `status` (read-only) shows the pin.
    const shown = await cli(dataDir, 'status', '--json');
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout)['guardOverride'], 'serialise');
    assert.doesNotMatch(shown.stderr, /for writing/);
  });

  it('panics scan ingests through the daemon, ack ends the hold it started, guard auto unpins', async () => {
    const scan = await cli(dataDir, 'panics', 'scan', '--dir', pastedReports(dir.path), '--json');
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stderr, /POST \/api\/v1\/panics\/scan through the API/);
    assert.doesNotMatch(scan.stderr, /for writing/);
    const results = JSON.parse(scan.stdout) as Json[];
    assert.equal(results.length, 1);
    assert.equal(results[0]!['files'], 1);
    assert.equal(results[0]!['added'].length, 1);
    assert.equal(results[0]!['added'][0]['kind'], 'completeMemory');
    // The daemon's ledger has it, and a second scan finds nothing new.
    const listed = (await (await fetch(`${api}/api/v1/panics`)).json()) as Json;
    assert.equal(listed['reports'].length, 1);
    const again = await cli(dataDir, 'panics', 'scan', '--dir', join(dir.path, 'pasted'), '--json');
    assert.equal(JSON.parse(again.stdout)[0]['added'].length, 0);

    const held = (await status())['hold'];
    const ack = await cli(dataDir, 'ack', '--json');
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stderr, /POST \/api\/v1\/ack through the API/);
    assert.doesNotMatch(ack.stderr, /for writing/);
    assert.deepEqual(JSON.parse(ack.stdout), { ended: held ?? null });
    assert.equal((await status())['hold'], null);

    const unpin = await cli(dataDir, 'guard', 'auto', '--json');
    assert.equal(unpin.code, 0, unpin.stderr);
    assert.equal(JSON.parse(unpin.stdout)['override'], null);
    assert.equal((await status())['guardOverride'], null);

    const profile = await cli(dataDir, 'guard', 'profile', 'observe', '--json');
    assert.equal(profile.code, 0, profile.stderr);
    assert.match(profile.stderr, /PUT \/api\/v1\/guard\/profile through the API/);
    assert.equal(JSON.parse(profile.stdout)['profile'], 'observe');
    assert.equal((await status())['guardProfile'], 'observe');
  });

  it('a second concurrent scan joins the one running; naming directories needs the token even on loopback', async () => {
    const post = () =>
      fetch(`${api}/api/v1/panics/scan`, { method: 'POST' }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Json,
      }));
    const [a, b] = await Promise.all([post(), post()]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.deepEqual(a.body, b.body);
    assert.equal(typeof a.body['found'], 'number');
    assert.equal(a.body['new'], 0);
    const bad = await fetch(`${api}/api/v1/panics/scan`, {
      method: 'POST',
      body: JSON.stringify({ dirs: ['relative/dir'] }),
    });
    assert.equal(bad.status, 400);
    // Naming directories to read needs the token even on loopback (the CLI sends it from <data>/api-token).
    const named = JSON.stringify({ dirs: [join(dir.path, 'pasted')] });
    const anyone = await fetch(`${api}/api/v1/panics/scan`, { method: 'POST', body: named });
    assert.equal(anyone.status, 401);
    const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
    const owner = await fetch(`${api}/api/v1/panics/scan`, {
      method: 'POST',
      body: named,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(owner.status, 200);
    assert.equal(((await owner.json()) as Json)['found'], 1);
  });
});

describe('without a daemon the CLI does the work itself', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  after(() => dir.cleanup());

  it('guard, panics scan and ack write the data directory; status reads the pin back', async () => {
    const pin = await cli(dataDir, 'guard', 'refuse-new', '--json');
    assert.equal(pin.code, 0, pin.stderr);
    assert.match(pin.stderr, /opened \S+timeline\.db for writing/);
    assert.doesNotMatch(pin.stderr, /through the API/);
    assert.equal(JSON.parse(pin.stdout)['override'], 'refuse-new');

    const scan = await cli(dataDir, 'panics', 'scan', '--dir', pastedReports(dir.path), '--json');
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stderr, /for writing/);
    assert.equal(JSON.parse(scan.stdout)[0]['added'].length, 1);

    const ack = await cli(dataDir, 'ack', '--json');
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stderr, /for writing/);

    const shown = await cli(dataDir, 'status', '--json');
    assert.equal(JSON.parse(shown.stdout)['guardOverride'], 'refuse-new');
  });

  it("reading commands' database is read-only: a write through it is refused by SQLite", () => {
    const s = openStores(dataDir, 'read');
    assert.ok(!('error' in s), JSON.stringify(s));
    try {
      assert.throws(() => s.timeline.setMeta('guard.override', 'open'), /readonly|read-only|query_only/i);
    } finally {
      s.db.close();
    }
  });
});

describe('status of a daemon it cannot ask', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  after(() => dir.cleanup());

  it('a daemon without its API that stored nothing for 5 s is a timeline not being written, not "ok"', async () => {
    const d = await startDaemon(['--data-dir', dataDir, '--interval', '0.25', '--no-api', '--no-guard']);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const writing = JSON.parse((await cli(dataDir, 'status', '--json')).stdout) as Json;
      assert.equal(writing['storage']['state'], 'ok');
      // Stopped (as a daemon wedged on a disk would be): it holds its pidfile and stores nothing.
      d.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 6000));
      const silent = JSON.parse((await cli(dataDir, 'status', '--json')).stdout) as Json;
      assert.equal(silent['storage']['state'], 'failing');
      assert.match(
        silent['storage']['message'],
        new RegExp(
          `^the daemon \\(pid ${d.pid}\\) has stored nothing for \\d+ s in .*timeline\\.db, and its API is off to say why$`,
        ),
      );
    } finally {
      d.kill('SIGCONT');
      d.kill('SIGTERM');
      await waitForExit(d);
    }
  });

  it("judged by the interval the daemon samples at (its --interval, from its pidfile), not the config file's", async () => {
    const d = await startDaemon(['--data-dir', dataDir, '--interval', '10', '--no-api', '--no-guard']);
    try {
      assert.equal(JSON.parse(readFileSync(join(dataDir, 'daemon.pid'), 'utf8'))['intervalSeconds'], 10);
      d.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 6000));
      const between = JSON.parse((await cli(dataDir, 'status', '--json')).stdout) as Json;
      assert.equal(between['storage']['state'], 'ok', 'no sample for 6 s is normal at 10 s');
    } finally {
      d.kill('SIGCONT');
      d.kill('SIGTERM');
      await waitForExit(d);
    }
  });
});
