import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { purgeable } from '../../src/main/headless/uninstall.js';
import { runCli, startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * `exo-sentinel uninstall` with a temporary HOME and a fake `systemctl` first on PATH: it records its calls,
 * answers is-active/MainPID from files, and `disable --now` stops the daemon it names (as systemd would).
 */
describe('exo-sentinel uninstall [--purge] [--yes]', {
  // The agent here is the systemd user unit driven through a fake systemctl found on PATH. On macOS the agent
  // manager runs /bin/launchctl by its absolute path, so no stand-in can take its place from a test; the
  // LaunchAgent plist and the launchctl calls are covered by test/unit/agent with a fake command port.
  skip: process.platform !== 'linux' && 'Linux only: a systemd user unit and a fake systemctl',
}, () => {
  const dir = tempDir();
  after(dir.cleanup);
  const home = join(dir.path, 'home');
  const fake = join(dir.path, 'fake-bin');
  mkdirSync(home);
  mkdirSync(fake);
  writeFileSync(
    join(fake, 'systemctl'),
    [
      '#!/bin/sh',
      `echo "$*" >> "${fake}/calls"`,
      'case "$*" in',
      `  "--user is-active exo-sentinel.service") if [ -f "${fake}/active" ]; then echo active; else echo inactive; exit 3; fi ;;`,
      `  "--user show -p MainPID --value exo-sentinel.service") cat "${fake}/mainpid" 2>/dev/null || echo 0 ;;`,
      `  "--user disable --now exo-sentinel.service") if [ -f "${fake}/mainpid" ]; then kill -TERM "$(cat "${fake}/mainpid")"; rm -f "${fake}/mainpid"; fi; rm -f "${fake}/active" ;;`,
      'esac',
      'exit 0',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const env = {
    HOME: home,
    PATH: `${fake}:${process.env['PATH']}`,
    EXO_SENTINEL_HOME: '',
    XDG_STATE_HOME: '',
    XDG_CONFIG_HOME: '',
  };
  const dataDir = join(home, '.local', 'state', 'exo-sentinel');
  const unit = join(home, '.config', 'systemd', 'user', 'exo-sentinel.service');
  const calls = (): string[] =>
    existsSync(join(fake, 'calls')) ? readFileSync(join(fake, 'calls'), 'utf8').trim().split('\n') : [];
  const seedData = (): void => {
    mkdirSync(join(dataDir, 'log'), { recursive: true });
    writeFileSync(join(dataDir, 'timeline.db'), '');
    writeFileSync(join(dataDir, 'config.json'), '{}');
    writeFileSync(join(dataDir, 'log', 'exo-sentinel.log'), '{}\n');
  };

  it('lists what it removes; off a terminal it asks for --yes and removes nothing', async () => {
    seedData();
    const install = await runCli(['agent', 'install'], env);
    assert.equal(install.code, 0, install.stderr);
    assert.ok(existsSync(unit));
    const r = await runCli(['uninstall', '--purge'], env);
    assert.equal(r.code, 2);
    assert.equal(
      r.stdout,
      `removes:\n  agent  ${unit}\n  data   ${dataDir} (exo-sentinel's files in it, and the directory when nothing else is left)\n`,
    );
    assert.equal(r.stderr, 'exo-sentinel: not on a terminal: add --yes to remove these without asking\n');
    assert.ok(existsSync(unit) && existsSync(join(dataDir, 'timeline.db')));
  });

  it('without --purge removes the agent (stopped and disabled) and keeps the data', async () => {
    const before = calls().length;
    const r = await runCli(['uninstall', '--yes'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'removes:',
        `  agent  ${unit}`,
        'keeps (remove them with --purge):',
        `  data   ${dataDir}`,
        `removed agent   ${unit}`,
        '',
      ].join('\n'),
    );
    assert.ok(!existsSync(unit));
    assert.ok(existsSync(join(dataDir, 'timeline.db')));
    const made = calls().slice(before);
    assert.ok(made.includes('--user disable --now exo-sentinel.service'), made.join('; '));
    assert.ok(made.includes('--user daemon-reload'));
  });

  it('refuses while a daemon it did not start runs for the data directory, and removes nothing', async () => {
    const daemon = await startDaemon(['--reports-dir', join(dir.path, 'reports')], env);
    try {
      const r = await runCli(['uninstall', '--purge', '--yes'], env);
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `exo-sentinel: a daemon (pid ${daemon.pid}) is running for ${dataDir} and was not started by the agent: stop it (kill ${daemon.pid}) and run uninstall again\n`,
      );
      assert.ok(existsSync(join(dataDir, 'timeline.db')));
      assert.equal(daemon.exitCode, null, 'the daemon still runs');

      // The same daemon run by the agent: uninstall stops it through systemctl, then purges.
      assert.equal((await runCli(['agent', 'install'], env)).code, 0);
      writeFileSync(join(fake, 'active'), '');
      writeFileSync(join(fake, 'mainpid'), String(daemon.pid));
      const purge = await runCli(['uninstall', '--purge', '--yes'], env);
      assert.equal(purge.code, 0, purge.stderr);
      assert.match(purge.stdout, new RegExp(`stopping the daemon \\(pid ${daemon.pid}\\) through its agent`));
      assert.match(purge.stdout, new RegExp(`removed data    ${dataDir}\n`));
      const exit = await waitForExit(daemon);
      assert.equal(exit.code, 0, 'stopped by SIGTERM, cleanly');
      assert.ok(!existsSync(dataDir), 'data, config and logs gone');
      assert.ok(!existsSync(unit));
    } finally {
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
    }
  });

  it('with nothing installed there is nothing to remove', async () => {
    const r = await runCli(['uninstall', '--purge'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'nothing to remove\n');
  });

  it("a data directory shared with other files (EXO's home): only exo-sentinel's own entries go", async () => {
    const shared = join(dir.path, 'exo-home');
    mkdirSync(join(shared, 'models'), { recursive: true });
    writeFileSync(join(shared, 'models', 'llama.safetensors'), 'weights');
    mkdirSync(join(shared, 'exo_log'));
    writeFileSync(join(shared, 'exo.pid'), '1');
    writeFileSync(join(shared, 'timeline.dbx'), 'not ours either');
    const once = await runCli(['daemon', '--once', '--data-dir', shared, '--no-api', '--no-guard'], env);
    assert.equal(once.code, 0, once.stderr);
    for (const own of [
      'timeline.corrupt-2026-11-28T12-30-05Z.db',
      'timeline.restored-1795988567004.db',
      'timeline.db-wal.replaced-1795988567004',
      'metal-ceiling.json',
      // What a run leaves beside its files while writing them, or killed meanwhile.
      'daemon.pid.4242.tmp',
      'daemon.pid.4242.stale',
      'config.json.lock',
      'metal-ceiling.json.4242.tmp',
      '.config.json.4242.0a1b2c3d.tmp',
    ])
      writeFileSync(join(shared, own), 'x');
    // A file of the user's in the log folder stays, and so does the folder; the daemon's logs go.
    writeFileSync(join(shared, 'logs', 'my-project-build.log'), 'mine');
    writeFileSync(join(shared, 'logs', 'app.log'), "a project's own log");
    writeFileSync(join(shared, 'logs', 'exo-sentinel-app.log'), "the menu-bar app's");
    writeFileSync(join(shared, 'logs', 'exo-sentinel.1.log'), 'old');
    const r = await runCli(['uninstall', '--purge', '--yes', '--data-dir', shared], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /removed data {4}.*exo-home: exo-sentinel's files only; kept the directory and 6 other entries: exo\.pid, exo_log, logs\/app\.log, logs\/my-project-build\.log, models, timeline\.dbx\n/,
    );
    assert.deepEqual(readdirSync(shared).sort(), ['exo.pid', 'exo_log', 'logs', 'models', 'timeline.dbx']);
    assert.deepEqual(readdirSync(join(shared, 'logs')).sort(), ['app.log', 'my-project-build.log']);
    assert.equal(readFileSync(join(shared, 'models', 'llama.safetensors'), 'utf8'), 'weights');
  });

  it("a project's own config.json in the data directory stays: only one this tool's schema accepts goes", async () => {
    const project = join(dir.path, 'project');
    const once = await runCli(['daemon', '--once', '--data-dir', project, '--no-api', '--no-guard'], env);
    assert.equal(once.code, 0, once.stderr);
    // Written there since (the folder was a project's): the daemon would not start on it, the purge finds it.
    writeFileSync(join(project, 'config.json'), '{"name": "my-app", "port": 8080}');
    const r = await runCli(['uninstall', '--purge', '--yes', '--data-dir', project], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kept the directory and 1 other entry: config\.json\n/);
    assert.deepEqual(readdirSync(project), ['config.json']);
    assert.equal(readFileSync(join(project, 'config.json'), 'utf8'), '{"name": "my-app", "port": 8080}');
    // Its own configuration goes.
    const ours = join(dir.path, 'ours');
    const again = await runCli(['daemon', '--once', '--data-dir', ours, '--no-api', '--no-guard'], env);
    assert.equal(again.code, 0, again.stderr);
    writeFileSync(join(ours, 'config.json'), '{"intervalSeconds": 2}');
    assert.equal((await runCli(['uninstall', '--purge', '--yes', '--data-dir', ours], env)).code, 0);
    assert.equal(existsSync(ours), false);
  });

  it('a data directory that is a link: its own files go, the link and its target stay; a link inside is not followed', async () => {
    const target = join(dir.path, 'real-data');
    const link = join(dir.path, 'data-link');
    const elsewhere = join(dir.path, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'precious'), 'keep');
    const once = await runCli(['daemon', '--once', '--data-dir', target, '--no-api', '--no-guard'], env);
    assert.equal(once.code, 0, once.stderr);
    symlinkSync(target, link);
    symlinkSync(elsewhere, join(target, 'Crashpad'));
    const r = await runCli(['uninstall', '--purge', '--yes', '--data-dir', link], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /removed data {4}.*data-link: exo-sentinel's files only; kept the directory \(a link\)\n/,
    );
    assert.deepEqual(readdirSync(target), []);
    assert.equal(readFileSync(join(elsewhere, 'precious'), 'utf8'), 'keep');
  });

  it('never purges a directory that is not exo-sentinel’s', async () => {
    const other = join(dir.path, 'projects');
    mkdirSync(other);
    writeFileSync(join(other, 'thesis.tex'), 'years of work');
    const r = await runCli(['uninstall', '--purge', '--yes', '--data-dir', other], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to remove .*projects: it holds none of exo-sentinel's files/);
    assert.ok(existsSync(join(other, 'thesis.tex')));
    assert.match(purgeable('/') ?? '', /the root, the home directory/);
    assert.match(purgeable(process.env['HOME'] ?? '/root') ?? '', /the root, the home directory/);
    assert.equal(purgeable(join(dir.path, 'missing')), null);
  });
});
