import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'plist';
import { logDir, resolveDataDir } from '../../../src/main/core/config/data-dir.js';
import { type CommandResult, countingRunner } from '../../../src/main/core/probes/command-runner.js';
import { launchdDaemonPlist, systemdSystemUnit } from '../../../src/main/headless/agent/agent-files.js';
import { AgentManager } from '../../../src/main/headless/agent/agent-manager.js';
import { installAtBoot } from '../../../src/main/headless/agent/boot-agent.js';
import {
  bootDirs,
  bootInstallDecision,
  lookupBootUser,
  mkdirOwned,
  parseDscl,
  parsePasswd,
} from '../../../src/main/headless/agent/boot-user.js';
import { cliPath } from '../../support/cli-runner.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
const ok = (stdout: string): CommandResult => ({ ok: true, stdout, stderr: '', exitCode: 0 });

function fakeRunner(answers: Record<string, CommandResult> = {}) {
  const calls: string[] = [];
  const runner = countingRunner(async (file, args) => {
    const key = [file, ...args].join(' ');
    calls.push(key);
    return answers[key] ?? ok('');
  });
  return { runner, calls };
}

const boot = {
  node: '/opt/homebrew/bin/node',
  cli: '/opt/exo-sentinel/dist/main/headless/cli.js',
  dataDir: '/Users/ops/Library/Application Support/exo-sentinel',
  logDir: '/Users/ops/Library/Logs/exo-sentinel',
  args: ['--exo-url', 'http://127.0.0.1:52415'],
  user: 'ops',
  group: 'staff',
  gid: 20,
  home: '/Users/ops',
};

const PASSWD = [
  '# /etc/passwd of a test machine',
  'root:x:0:0:root:/root:/bin/bash',
  '',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'ops:x:1001:1002:Cluster Operator,,,:/srv/cluster homes/ops:/bin/zsh',
  'opsx:x:1003:1003::/home/opsx:/bin/sh',
].join('\n');
const GROUP = ['# groups', 'root:x:0:', 'opsteam:x:1002:ops', 'opsx:x:1003:'].join('\n');

// Written for these tests in the shape `dscl . -read` prints.
const DSCL = 'NFSHomeDirectory: /Users/ops\nPrimaryGroupID: 20\nUniqueID: 501\n';
const DSCL_GROUPS = 'admin                    80\nstaff                    20\nwheel                    0\n';

describe('boot-time daemon files', () => {
  it('a LaunchDaemon plist: the agent job plus UserName, GroupName and the user HOME', async () => {
    const p = parse(await launchdDaemonPlist(boot)) as Record<string, unknown>;
    assert.equal(p['Label'], 'io.exo-sentinel.daemon');
    assert.equal(p['UserName'], 'ops');
    assert.equal(p['GroupName'], 'staff');
    assert.deepEqual(p['ProgramArguments'], [
      '/opt/homebrew/bin/node',
      '--max-semi-space-size=1',
      '--no-turbofan',
      '--no-maglev',
      '--enable-experimental-regexp-engine',
      boot.cli,
      'daemon',
      '--data-dir',
      boot.dataDir,
      '--exo-url',
      'http://127.0.0.1:52415',
    ]);
    assert.deepEqual(p['KeepAlive'], { SuccessfulExit: false });
    assert.equal(p['ThrottleInterval'], 10);
    assert.equal(p['StandardOutPath'], '/Users/ops/Library/Logs/exo-sentinel/launchd.out.log');
    assert.equal(p['StandardErrorPath'], '/Users/ops/Library/Logs/exo-sentinel/launchd.err.log');
    assert.deepEqual(p['EnvironmentVariables'], {
      PATH: '/usr/bin:/bin:/usr/sbin:/sbin',
      EXO_SENTINEL_HOME: boot.dataDir,
      HOME: '/Users/ops',
    });
    const noGroup = parse(await launchdDaemonPlist({ ...boot, group: null })) as Record<string, unknown>;
    assert.equal(noGroup['GroupName'], undefined, 'launchd then takes the primary group');
  });

  it('a system unit: User=, Group=, multi-user.target, after the network, quoted paths', () => {
    const u = systemdSystemUnit({ ...boot, dataDir: '/srv/cluster homes/ops/.local/state/exo-sentinel' });
    const lines = u.split('\n');
    assert.ok(lines.includes('User=ops'));
    assert.ok(lines.includes('Group=staff'));
    assert.ok(lines.includes('WantedBy=multi-user.target'));
    assert.ok(lines.includes('After=network-online.target'));
    assert.ok(lines.includes('Environment=HOME=/Users/ops'));
    assert.ok(lines.includes('Restart=on-failure'));
    assert.match(
      u,
      /^ExecStart=\/opt\/homebrew\/bin\/node --max-semi-space-size=1 --no-turbofan --no-maglev --enable-experimental-regexp-engine \/opt\/exo-sentinel\/dist\/main\/headless\/cli\.js daemon --data-dir "\/srv\/cluster homes\/ops\/\.local\/state\/exo-sentinel" --exo-url http:\/\/127\.0\.0\.1:52415$/m,
    );
    assert.ok(
      systemdSystemUnit({ ...boot, group: null })
        .split('\n')
        .includes('Group=20'),
    );
  });
});

describe('the boot user', () => {
  it('/etc/passwd: uid, gid and a home with spaces; comments and look-alike names skipped', () => {
    assert.deepEqual(parsePasswd(PASSWD, 'ops'), {
      ok: true,
      user: { name: 'ops', uid: 1001, gid: 1002, group: null, home: '/srv/cluster homes/ops' },
    });
    assert.deepEqual(parsePasswd(PASSWD, 'nobody'), {
      ok: false,
      error: 'unknown user nobody (not in /etc/passwd)',
    });
    assert.equal(parsePasswd(PASSWD, '# /etc').ok, false);
  });

  it('Linux: looked up in passwd and group files', async () => {
    writeFileSync(join(dir.path, 'passwd'), PASSWD);
    writeFileSync(join(dir.path, 'group'), GROUP);
    const { runner, calls } = fakeRunner();
    const o = {
      platform: 'linux' as const,
      run: runner,
      passwd: join(dir.path, 'passwd'),
      group: join(dir.path, 'group'),
    };
    assert.deepEqual(await lookupBootUser('ops', o), {
      ok: true,
      user: { name: 'ops', uid: 1001, gid: 1002, group: 'opsteam', home: '/srv/cluster homes/ops' },
    });
    const unknown = await lookupBootUser('ghost', o);
    assert.equal(unknown.ok, false);
    assert.match(unknown.ok ? '' : unknown.error, /unknown user ghost/);
    assert.deepEqual(calls, [], 'no command on Linux');
  });

  it('macOS: dscl with argument arrays; an unknown user names it', async () => {
    assert.deepEqual(parseDscl(DSCL, 'ops'), {
      ok: true,
      user: { name: 'ops', uid: 501, gid: 20, group: null, home: '/Users/ops' },
    });
    const wrapped = parseDscl(
      'NFSHomeDirectory:\n /Users/Cluster Ops\nPrimaryGroupID: 20\nUniqueID: 502\n',
      'x',
    );
    assert.equal(wrapped.ok && wrapped.user.home, '/Users/Cluster Ops');
    const { runner, calls } = fakeRunner({
      '/usr/bin/dscl . -read /Users/ops NFSHomeDirectory UniqueID PrimaryGroupID': ok(DSCL),
      '/usr/bin/dscl . -list /Groups PrimaryGroupID': ok(DSCL_GROUPS),
      '/usr/bin/dscl . -read /Users/ghost NFSHomeDirectory UniqueID PrimaryGroupID': {
        ok: false,
        error: 'dscl: DS Error: -14136 (eDSRecordNotFound)',
      },
    });
    const found = await lookupBootUser('ops', { platform: 'darwin', run: runner });
    assert.deepEqual(found, {
      ok: true,
      user: { name: 'ops', uid: 501, gid: 20, group: 'staff', home: '/Users/ops' },
    });
    assert.deepEqual(await lookupBootUser('ghost', { platform: 'darwin', run: runner }), {
      ok: false,
      error: 'unknown user ghost (dscl has no /Users/ghost)',
    });
    assert.equal(calls.length, 3);
    const odd = await lookupBootUser('a b;rm', { platform: 'darwin', run: runner });
    assert.equal(odd.ok, false);
    assert.equal(calls.length, 3, 'a name that is not a user name never reaches dscl');
  });

  it('the data and log directories are the ones exo-sentinel resolves when the user runs it', () => {
    const saved = process.env['HOME'];
    try {
      for (const platform of ['darwin', 'linux'] as const) {
        process.env['HOME'] = '/srv/cluster homes/ops';
        const mine = resolveDataDir(undefined, {}, platform);
        const d = bootDirs('/srv/cluster homes/ops', platform);
        assert.equal(d.dataDir, mine);
        assert.equal(d.logDir, logDir(mine, {}, platform));
      }
    } finally {
      process.env['HOME'] = saved;
    }
    assert.deepEqual(bootDirs('/home/ops', 'linux', '/srv/exo'), {
      dataDir: '/srv/exo',
      logDir: '/srv/exo/logs',
    });
  });
});

describe('who the boot daemon runs as', () => {
  const d = (o: Partial<Parameters<typeof bootInstallDecision>[0]>) =>
    bootInstallDecision({ uid: 0, user: undefined, sudoUser: undefined, verb: 'install', ...o });
  it('refuses without root, with a one-line message saying sudo', () => {
    const r = d({ uid: 501, user: 'ops' });
    assert.equal(r.ok, false);
    const message = r.ok ? '' : r.message;
    assert.match(message, /run it with sudo/);
    assert.ok(!message.includes('\n'));
    assert.equal(d({ uid: 501, verb: 'uninstall' }).ok, false);
  });
  it('refuses root, and no user at all naming --user; takes SUDO_USER', () => {
    const root = d({ user: 'root' });
    assert.match(root.ok ? '' : root.message, /refusing to run the daemon as root/);
    const viaSudo = d({ sudoUser: 'root' });
    assert.equal(viaSudo.ok, false);
    const none = d({});
    assert.match(none.ok ? '' : none.message, /--at-boot needs --user NAME/);
    assert.deepEqual(d({ sudoUser: 'ops' }), { ok: true, user: 'ops' });
    assert.deepEqual(d({ user: 'eve', sudoUser: 'ops' }), { ok: true, user: 'eve' });
  });
});

describe('the manager in the system scope (fake launchctl/systemctl, files under a temp root)', () => {
  const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  // Root (as in CI) gives the directories to another uid; anyone else can only give them to itself.
  const owner = me.uid === 0 ? { uid: 4242, gid: 4343 } : me;

  it('launchd: bootstrap system, print system/label, bootout system/label; 0644; directories owned by the user', async () => {
    const root = join(dir.path, 'macroot');
    const home = join(dir.path, 'Users', 'ops');
    mkdirSync(home, { recursive: true });
    const { runner, calls } = fakeRunner({
      '/bin/launchctl print system/io.exo-sentinel.daemon': ok(
        'system/io.exo-sentinel.daemon = {\n\tstate = running\n\tpid = 99\n}',
      ),
    });
    const m = new AgentManager(runner, 'darwin', '/nowhere', 0, { root });
    const dirs = bootDirs(home, 'darwin');
    const spec = { ...boot, ...dirs, home };
    const r = await m.installBoot(spec, owner);
    assert.equal(r.ok, true, r.message);
    assert.equal(m.path, join(root, 'Library', 'LaunchDaemons', 'io.exo-sentinel.daemon.plist'));
    assert.equal(statSync(m.path).mode & 0o777, 0o644);
    assert.equal((parse(readFileSync(m.path, 'utf8')) as Record<string, unknown>)['UserName'], 'ops');
    assert.deepEqual(calls, [
      '/bin/launchctl bootout system/io.exo-sentinel.daemon',
      '/bin/launchctl print system/io.exo-sentinel.daemon',
      `/bin/launchctl bootstrap system ${m.path}`,
      '/bin/launchctl enable system/io.exo-sentinel.daemon',
    ]);
    for (const p of [dirs.dataDir, dirs.logDir, join(home, 'Library'), join(home, 'Library', 'Logs')])
      assert.deepEqual([statSync(p).uid, statSync(p).gid], [owner.uid, owner.gid], p);
    const s = await m.status();
    assert.deepEqual([s.installed, s.running, s.pid], [true, true, 99]);
    calls.length = 0;
    const gone = await m.uninstall();
    assert.equal(gone.message, `removed ${m.path}`);
    assert.deepEqual(calls, ['/bin/launchctl bootout system/io.exo-sentinel.daemon']);
    assert.ok(!existsSync(m.path));
  });

  it('systemd: /etc/systemd/system, systemctl without --user', async () => {
    const root = join(dir.path, 'linuxroot');
    const home = join(dir.path, 'home', 'ops');
    const { runner, calls } = fakeRunner({
      'systemctl is-active exo-sentinel.service': ok('active\n'),
      'systemctl show -p MainPID --value exo-sentinel.service': ok('321\n'),
    });
    const m = new AgentManager(runner, 'linux', '/nowhere', 0, { root });
    const r = await m.installBoot({ ...boot, ...bootDirs(home, 'linux'), home }, owner);
    assert.equal(r.ok, true, r.message);
    assert.equal(m.path, join(root, 'etc', 'systemd', 'system', 'exo-sentinel.service'));
    assert.ok(readFileSync(m.path, 'utf8').includes('\nUser=ops\n'));
    assert.deepEqual(calls, ['systemctl daemon-reload', 'systemctl enable --now exo-sentinel.service']);
    assert.equal(statSync(join(home, '.local', 'state', 'exo-sentinel', 'log')).uid, owner.uid);
    assert.deepEqual(await m.status().then((s) => [s.running, s.pid]), [true, 321]);
    assert.deepEqual(calls.slice(2), [
      'systemctl is-active exo-sentinel.service',
      'systemctl show -p MainPID --value exo-sentinel.service',
    ]);
    calls.length = 0;
    await m.uninstall();
    assert.deepEqual(calls, ['systemctl disable --now exo-sentinel.service', 'systemctl daemon-reload']);
  });

  it('install --at-boot says when the user also has a login agent, and refuses a uid-0 account', async () => {
    const home = join(dir.path, 'both', 'ops');
    mkdirSync(join(home, '.config', 'systemd', 'user'), { recursive: true });
    writeFileSync(join(home, '.config', 'systemd', 'user', 'exo-sentinel.service'), '');
    const passwd = join(dir.path, 'passwd-both');
    writeFileSync(passwd, `ops:x:${owner.uid}:${owner.gid}::${home}:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n`);
    const { runner } = fakeRunner();
    const c = {
      run: runner,
      platform: 'linux' as const,
      uid: 0,
      sudoUser: 'ops',
      scope: { root: join(dir.path, 'bothroot') },
      passwd,
    };
    const r = await installAtBoot(c, { node: '/usr/bin/node', cli: '/opt/cli.js', args: [] });
    assert.equal(r.ok, true, r.error);
    assert.match(r.out.join('\n'), /note: ops also has a login agent \(.*exo-sentinel\.service\)/);
    const toor = await installAtBoot(c, {
      user: 'toor',
      node: '/usr/bin/node',
      cli: '/opt/cli.js',
      args: [],
    });
    assert.equal(toor.ok, false);
    assert.match(toor.error ?? '', /refusing to run the daemon as toor \(uid 0\)/);
    const notRoot = await installAtBoot({ ...c, uid: 1000 }, { node: '/n', cli: '/c', args: [] });
    assert.match(notRoot.error ?? '', /run it with sudo/);
  });
});

describe('directories made as root for the user, never through a link', {
  skip: process.getuid?.() !== 0 ? 'needs root to chown' : false,
}, () => {
  const owner = { uid: 54321, gid: 54321 };

  it('creates the missing directories owned by the user, and hands over one root left behind', () => {
    const home = join(dir.path, 'owned-home');
    mkdirSync(home);
    const data = join(home, '.local', 'state', 'exo-sentinel');
    mkdirOwned(data, owner, home);
    for (const d of [join(home, '.local'), join(home, '.local', 'state'), data])
      assert.equal(statSync(d).uid, owner.uid, d);
    assert.equal(statSync(home).uid, 0, 'what was there is left alone');
    const logs = join(home, 'logs-by-root');
    mkdirSync(logs);
    mkdirOwned(logs, owner, home);
    assert.equal(statSync(logs).uid, owner.uid);
  });

  it("refuses a link below the user's home: root never creates or hands over where it points", () => {
    const home = join(dir.path, 'linked-home');
    const etc = join(dir.path, 'system-dir');
    mkdirSync(join(home, '.local', 'state'), { recursive: true });
    mkdirSync(etc);
    symlinkSync(etc, join(home, '.local', 'state', 'exo-sentinel'));
    assert.throws(
      () => mkdirOwned(join(home, '.local', 'state', 'exo-sentinel'), owner, home),
      /exo-sentinel is a symbolic link: refusing/,
    );
    assert.equal(statSync(etc).uid, 0, 'the target was not handed to the user');
    const home2 = join(dir.path, 'linked-home-2');
    mkdirSync(home2);
    symlinkSync(etc, join(home2, '.local'));
    assert.throws(
      () => mkdirOwned(join(home2, '.local', 'state', 'exo-sentinel'), owner, home2),
      /\.local is a symbolic link/,
    );
    assert.ok(!existsSync(join(etc, 'state')), 'nothing created through the link');
  });
});

describe('the built CLI refuses', () => {
  const root = process.getuid?.() === 0;
  it('without root: exit 1 and the sudo message (run as nobody)', {
    skip:
      !root || !existsSync(cliPath) ? 'needs root to start a child as another uid, and npm run build' : false,
  }, () => {
    const r = spawnSync(process.execPath, [cliPath, 'agent', 'install', '--at-boot', '--user', 'ops'], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^exo-sentinel: .*run it with sudo.*\n$/);
  });
  it('--user root: exit 1', { skip: !existsSync(cliPath) ? 'npm run build' : false }, () => {
    const r = spawnSync(process.execPath, [cliPath, 'agent', 'install', '--at-boot', '--user', 'root'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, root ? /refusing to run the daemon as root/ : /run it with sudo/);
  });
});
