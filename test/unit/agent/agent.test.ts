import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'plist';
import { type CommandResult, countingRunner } from '../../../src/main/core/probes/command-runner.js';
import { launchdPlist, systemdUnit } from '../../../src/main/headless/agent/agent-files.js';
import { AgentManager } from '../../../src/main/headless/agent/agent-manager.js';
import { DAEMON_NODE_FLAGS } from '../../../src/main/headless/node-flags.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
const spec = {
  node: '/opt/homebrew/bin/node',
  cli: '/opt/exo-sentinel/dist/main/headless/cli.js',
  dataDir: '/Users/ops/Library/Application Support/exo-sentinel',
  args: ['--exo-url', 'http://127.0.0.1:52415'],
};

function fakeRunner(answers: Record<string, CommandResult> = {}) {
  const calls: string[] = [];
  const runner = countingRunner(async (file, args) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    return answers[key] ?? { ok: true, stdout: '', stderr: '', exitCode: 0 };
  });
  return { runner, calls };
}

describe('agent files', () => {
  it('a launchd plist with the absolute node path, KeepAlive unless it exited 0, ThrottleInterval and logs in the data directory', async () => {
    const p = parse(await launchdPlist(spec)) as Record<string, unknown>;
    assert.equal(p['Label'], 'io.exo-sentinel.daemon');
    assert.deepEqual(p['ProgramArguments'], [
      '/opt/homebrew/bin/node',
      '--max-semi-space-size=1',
      '--no-turbofan',
      '--no-maglev',
      '--enable-experimental-regexp-engine',
      spec.cli,
      'daemon',
      '--data-dir',
      spec.dataDir,
      '--exo-url',
      'http://127.0.0.1:52415',
    ]);
    assert.deepEqual(p['KeepAlive'], { SuccessfulExit: false });
    assert.equal(p['RunAtLoad'], true);
    assert.equal(p['ThrottleInterval'], 10);
    assert.equal(p['StandardOutPath'], `${spec.dataDir}/logs/launchd.out.log`);
    assert.equal(p['StandardErrorPath'], `${spec.dataDir}/logs/launchd.err.log`);
    assert.deepEqual(p['EnvironmentVariables'], {
      PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
      EXO_SENTINEL_HOME: spec.dataDir,
    });
  });

  it('launchd writes stdout/stderr to the log directory when one is given (~/Library/Logs/exo-sentinel)', async () => {
    const p = parse(
      await launchdPlist({ ...spec, logDir: '/Users/ops/Library/Logs/exo-sentinel' }),
    ) as Record<string, unknown>;
    assert.equal(p['StandardOutPath'], '/Users/ops/Library/Logs/exo-sentinel/launchd.out.log');
    assert.equal(p['StandardErrorPath'], '/Users/ops/Library/Logs/exo-sentinel/launchd.err.log');
  });

  it('a systemd user unit that restarts on failure and quotes paths with spaces', () => {
    const u = systemdUnit(spec);
    assert.match(
      u,
      /^ExecStart=\/opt\/homebrew\/bin\/node --max-semi-space-size=1 --no-turbofan --no-maglev --enable-experimental-regexp-engine \/opt\/exo-sentinel\/dist\/main\/headless\/cli\.js daemon --data-dir "\/Users\/ops\/Library\/Application Support\/exo-sentinel" --exo-url http:\/\/127\.0\.0\.1:52415$/m,
    );
    assert.match(u, /^Restart=on-failure$/m);
    assert.match(u, /^RestartSec=10$/m);
    assert.match(u, /^WantedBy=default\.target$/m);
  });

  it('a systemd unit writes %, $, quotes and backslashes as systemd reads them, and refuses a line break', () => {
    const dataDir = '/home/u/100%h/da ta $HOME "q" back\\slash';
    const u = systemdUnit({ ...spec, dataDir });
    assert.ok(
      u.includes(' --data-dir "/home/u/100%%h/da ta $$HOME \\"q\\" back\\\\slash" '),
      u.split('\n').find((l) => l.startsWith('ExecStart=')),
    );
    assert.match(
      u,
      /^Environment="EXO_SENTINEL_HOME=\/home\/u\/100%%h\/da ta \$HOME \\"q\\" back\\\\slash"$/m,
    );
    assert.throws(
      () => systemdUnit({ ...spec, dataDir: '/home/u/a\nExecStartPre=/bin/sh -c id' }),
      /cannot hold a line break/,
    );
  });

  it('systemd itself reads back the data directory as given (systemd-analyze, when installed)', (t) => {
    const analyze = '/usr/bin/systemd-analyze';
    if (!existsSync(analyze)) return t.skip('systemd-analyze is not installed');
    const dataDir = '/home/u/100%h/da ta $HOME "q" back\\slash';
    const unitDir = join(dir.path, 'units');
    mkdirSync(unitDir, { recursive: true });
    const file = join(unitDir, 'exo-sentinel.service');
    writeFileSync(file, systemdUnit({ ...spec, node: process.execPath, cli: process.execPath, dataDir }));
    const r = spawnSync(analyze, ['verify', '--man=no', file], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_LOG_LEVEL: 'debug' },
    });
    assert.equal(r.status, 0, r.stderr);
    // The unit's dump (stdout) shows the value systemd parsed; its complaints go to stderr.
    assert.ok(r.stdout.includes(`Environment: EXO_SENTINEL_HOME=${dataDir}\n`), r.stdout.slice(-3000));
    assert.doesNotMatch(
      r.stderr,
      /Unbalanced quoting|Failed to resolve specifiers|exo-sentinel\.service:.*[Ii]nvalid/,
    );
  });
});

describe('agent install, status and uninstall (fake launchctl/systemctl, real files)', () => {
  it('launchd: installs, is idempotent, reports status, and uninstalls everything', async () => {
    const home = `${dir.path}/mac`;
    const printed =
      'gui/501/io.exo-sentinel.daemon = {\n\tactive count = 1\n\tstate = running\n\tpid = 4242\n\tlast exit code = (never exited)\n}';
    const { runner, calls } = fakeRunner({
      '/bin/launchctl print gui/501/io.exo-sentinel.daemon': {
        ok: true,
        stdout: printed,
        stderr: '',
        exitCode: 0,
      },
    });
    const m = new AgentManager(runner, 'darwin', home, 501);
    const dataDir = `${dir.path}/mac-data`;
    const first = await m.install({ ...spec, dataDir });
    assert.equal(first.ok, true);
    assert.equal(first.changed, true);
    assert.equal(m.path, `${home}/Library/LaunchAgents/io.exo-sentinel.daemon.plist`);
    assert.ok(existsSync(m.path));
    assert.ok(calls.includes(`/bin/launchctl bootstrap gui/501 ${m.path}`));
    const again = await m.install({ ...spec, dataDir });
    assert.deepEqual(
      [again.ok, again.changed, again.message],
      [true, false, `already installed and running (${m.path})`],
    );
    const s = await m.status();
    assert.deepEqual(
      [s.installed, s.running, s.pid, s.detail],
      [true, true, 4242, 'state running, last exit (never exited)'],
    );
    const gone = await m.uninstall();
    assert.equal(gone.message, `removed ${m.path}`);
    assert.ok(!existsSync(m.path));
    assert.ok(calls.filter((c) => c.startsWith('/bin/launchctl bootout')).length >= 2);
  });

  it('systemd: writes the unit, enables it, and says plainly when the user manager is missing', async () => {
    const home = `${dir.path}/linux`;
    const { runner, calls } = fakeRunner({
      'systemctl --user is-active exo-sentinel.service': {
        ok: true,
        stdout: 'active\n',
        stderr: '',
        exitCode: 0,
      },
      'systemctl --user show -p MainPID --value exo-sentinel.service': {
        ok: true,
        stdout: '777\n',
        stderr: '',
        exitCode: 0,
      },
    });
    const m = new AgentManager(runner, 'linux', home, 1000);
    const r = await m.install({ ...spec, dataDir: `${dir.path}/linux-data` });
    assert.equal(r.ok, true);
    assert.equal(readFileSync(m.path, 'utf8'), systemdUnit({ ...spec, dataDir: `${dir.path}/linux-data` }));
    assert.deepEqual(calls, [
      'systemctl --user daemon-reload',
      'systemctl --user enable --now exo-sentinel.service',
    ]);
    assert.deepEqual(await m.status().then((s) => [s.running, s.pid]), [true, 777]);
    const broken = fakeRunner({
      'systemctl --user daemon-reload': {
        ok: false,
        error: 'systemctl --user daemon-reload: Failed to connect to bus: No medium found',
      },
    });
    const m2 = new AgentManager(broken.runner, 'linux', `${dir.path}/linux2`, 1000);
    const r2 = await m2.install({ ...spec, dataDir: `${dir.path}/linux2-data` });
    assert.equal(r2.ok, false);
    assert.match(r2.message, /systemd user manager is not available \(.*Failed to connect to bus/);
    assert.ok(existsSync(m2.path), 'the unit file is there to start by hand');
    await m2.uninstall();
    assert.ok(!existsSync(m2.path));
  });
});

describe('the daemon runs with the same Node flags everywhere', () => {
  it('npm start, the CLI shebang and the agent files carry DAEMON_NODE_FLAGS', () => {
    const root = join(import.meta.dirname, '..', '..', '..');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const flags = DAEMON_NODE_FLAGS.join(' ');
    assert.equal(pkg.scripts['start'], `node ${flags} dist/main/headless/cli.js daemon`);
    const shebang = readFileSync(join(root, 'src', 'main', 'headless', 'cli.ts'), 'utf8').split('\n')[0];
    assert.equal(shebang, `#!/usr/bin/env -S node ${flags}`);
    assert.match(systemdUnit(spec), new RegExp(`^ExecStart=\\S+ ${flags} `, 'm'));
  });
});
