import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LEVEL_EXIT_CODES } from '../../src/main/headless/exit-status.js';
import { cliPath, runCli } from '../support/cli-runner.js';
import { fixture } from '../support/fixtures.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';
import { interruptAfter, noTerminal, onTerminal as runOnTerminal } from '../support/terminal.js';

const ESC = '\u001b[';
const linux = process.platform === 'linux';

/** Runs the CLI on a pseudo-terminal: stdout and stderr are a TTY, as in a person's shell. */
const onTerminal = (
  args: string[],
  env: NodeJS.ProcessEnv,
  prefix: string[] = [],
): Promise<{ code: number | null; output: string }> =>
  runOnTerminal([...prefix, process.execPath, cliPath, ...args], env);

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

describe('CLI conventions', () => {
  const dir = tempDir();
  const panicked = `${dir.path}/panicked`;
  after(dir.cleanup);

  before(async () => {
    // A data directory whose ledger holds an IOGPU panic from a minute ago: the level is elevated.
    const reports = `${dir.path}/reports`;
    mkdirSync(reports, { recursive: true });
    writeFileSync(
      `${reports}/panic-full-2026-04-23-100035.0002.panic`,
      wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time: Date.now() - 60_000 }),
    );
    const scan = await runCli(['panics', 'scan', '--dir', reports, '--data-dir', panicked]);
    assert.equal(scan.code, 0, scan.stderr);
  });

  it('flags a script gets wrong are usage errors naming the flag: an empty --data-dir, half a line, --exit-status=', async () => {
    const [empty, half, eq] = await Promise.all([
      runCli(['--data-dir', '', 'status']),
      runCli(['logs', '-n', '0.5', '--data-dir', panicked]),
      runCli(['status', '--exit-status=1', '--data-dir', panicked]),
    ]);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--data-dir <dir>' argument '' is invalid/);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /expected a whole number from 0 to 100000, got "0\.5"/);
    assert.equal(eq.code, 4, 'status --exit-status promises 4 for anything that is not a level');
  });

  it('panics scan --dir naming a directory that is not there fails, text or JSON (a script sees it)', async () => {
    for (const json of [[], ['--json']]) {
      const r = await runCli([
        'panics',
        'scan',
        '--dir',
        `${dir.path}/no-such-dir`,
        '--data-dir',
        panicked,
        ...json,
      ]);
      assert.equal(r.code, 1, `${json.join('')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /no-such-dir does not exist/);
    }
  });

  describe('colour on a pseudo-terminal', { skip: noTerminal }, () => {
    const once = (name: string, extra: string[] = []): string[] => [
      'daemon',
      '--once',
      '--data-dir',
      `${dir.path}/${name}`,
      ...extra,
    ];

    it('the log lines are coloured on a terminal, and not with NO_COLOR or --no-color', async () => {
      // An INFO line every run logs: Linux has no Apple GPU; on a Mac, EXO's log is absent from an empty HOME.
      const home = `${dir.path}/home`;
      mkdirSync(home, { recursive: true });
      const info = linux ? /INFO.*gpu unavailable: no Apple GPU on Linux/ : /INFO.*exo\.log unavailable: /;
      const [plain, noColor, flag, empty] = await Promise.all([
        onTerminal(once('tty-plain'), { NO_COLOR: '', HOME: home }),
        onTerminal(once('tty-no-color'), { NO_COLOR: '1', HOME: home }),
        onTerminal(once('tty-flag', ['--no-color']), { NO_COLOR: '', HOME: home }),
        onTerminal(once('tty-empty'), { NO_COLOR: '', HOME: home }),
      ]);
      for (const r of [plain, noColor, flag, empty]) {
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, info, 'the pretty log reached the terminal');
      }
      assert.ok(plain.output.includes(`${ESC}32mINFO`), 'a terminal gets a green INFO (it is one)');
      assert.ok(!noColor.output.includes(ESC), `NO_COLOR=1: no escape sequence at all\n${noColor.output}`);
      assert.ok(!flag.output.includes(ESC), `--no-color: no escape sequence at all\n${flag.output}`);
      assert.ok(empty.output.includes(ESC), 'NO_COLOR="" counts as unset (no-color.org)');
    });
  });

  describe('status --exit-status', () => {
    it('exits with the level it shows: elevated after an IOGPU panic is 1, and plain status still exits 0', async () => {
      const [code, text, plain] = await Promise.all([
        runCli(['status', '--exit-status', '--json', '--data-dir', panicked]),
        runCli(['status', '--exit-status', '--data-dir', panicked]),
        runCli(['status', '--data-dir', panicked]),
      ]);
      assert.equal(JSON.parse(code.stdout).risk.now.level, 'elevated');
      assert.equal(code.code, 1, code.stderr);
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /^level {9}ELEVATED/m);
      assert.equal(plain.code, 0, plain.stderr);
    });

    it("on a fresh data directory exits with this reading's level", async () => {
      const r = await runCli(['status', '--exit-status', '--json', '--data-dir', `${dir.path}/fresh`]);
      const level = JSON.parse(r.stdout).risk.now.level as keyof typeof LEVEL_EXIT_CODES;
      assert.equal(r.code, LEVEL_EXIT_CODES[level], `level ${level}`);
    });

    it('is 4 (unknown) for a bad configuration or command line, where plain status says 2', async () => {
      const bad = `${dir.path}/bad-config`;
      mkdirSync(bad, { recursive: true });
      writeFileSync(`${bad}/config.json`, '{"logLevel": 3}');
      const [config, usage, plainUsage] = await Promise.all([
        runCli(['status', '--exit-status', '--data-dir', bad]),
        runCli(['status', '--exit-status', '--jsn', '--data-dir', panicked]),
        runCli(['status', '--jsn', '--data-dir', panicked]),
      ]);
      assert.equal(config.code, 4);
      assert.match(config.stderr, /config\.json: "logLevel" is 3/);
      assert.equal(usage.code, 4);
      assert.equal(plainUsage.code, 2);
    });

    it('is 4 when the timeline cannot be read (corrupt or empty): a level without the panic history is no level', async () => {
      for (const [name, bytes] of [
        ['corrupt', Buffer.from('this is not a SQLite database, just some bytes'.repeat(200))],
        ['empty', Buffer.alloc(0)],
      ] as const) {
        const d = `${dir.path}/db-${name}`;
        mkdirSync(d, { recursive: true });
        writeFileSync(`${d}/timeline.db`, bytes);
        const r = await runCli(['status', '--exit-status', '--json', '--data-dir', d]);
        assert.equal(r.code, 4, `${name}: ${r.stderr}`);
        assert.match(r.stderr, /timeline\.db/, name);
      }
    });
  });

  describe('status --watch', () => {
    it('piped: one JSON object per line every --interval, until SIGINT, exit 0', async () => {
      const child = spawn(
        process.execPath,
        [cliPath, 'status', '--watch', '--interval', '0.5', '--data-dir', panicked],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      const deadline = Date.now() + 15_000;
      while (lines(out).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGINT');
      assert.equal(await exited, 0, err);
      const rows = lines(out).map((l) => JSON.parse(l) as { time: number; level: string; memory: object });
      assert.ok(rows.length >= 3, out);
      for (const r of rows) {
        assert.equal(r.level, 'elevated');
        assert.ok(r.memory);
      }
      const gaps = rows.slice(1).map((r, i) => r.time - rows[i]!.time);
      assert.ok(
        gaps.every((g) => g > 0),
        `readings in order: ${gaps}`,
      );
      assert.ok(gaps.at(-1)! >= 400 && gaps.at(-1)! < 2000, `about --interval apart: ${gaps}`);
      assert.equal(err, '');
    });

    it('on a terminal: redrawn in place on the alternate screen, left on SIGINT', {
      skip: noTerminal,
    }, async () => {
      const r = await onTerminal(
        ['status', '--watch', '--interval', '0.5', '--data-dir', panicked],
        // The SIGINT a person's Ctrl-C would send.
        {},
        interruptAfter(2.5),
      );
      assert.ok(r.output.startsWith(`${ESC}?1049h`), 'enters the alternate screen');
      const redraws = r.output.split(`${ESC}H${ESC}2J`).length - 1;
      assert.ok(redraws >= 2, `redrawn ${redraws} times`);
      assert.match(r.output, /exo-sentinel status — every 0\.5 s/);
      assert.match(r.output, /level {9}ELEVATED/);
      assert.ok(r.output.trimEnd().endsWith(`${ESC}?1049l`), 'leaves the alternate screen');
      assert.ok(!r.output.includes('{"time"'), 'no JSON on a terminal');
    });

    it('does not go with --exit-status', async () => {
      const r = await runCli(['status', '--watch', '--exit-status', '--data-dir', panicked]);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /'--exit-status' cannot be used with option '--watch'/);
    });
  });

  describe('errors on stderr', () => {
    it('a usage error is one line naming the command, the flag and where the help is; exit 2', async () => {
      const [option, command, value] = await Promise.all([
        runCli(['status', '--jsn']),
        runCli(['frobnicate']),
        runCli(['daemon', '--interval', 'fast']),
      ]);
      assert.deepEqual(
        [option.code, command.code, value.code],
        [2, 2, 2],
        option.stderr + command.stderr + value.stderr,
      );
      assert.deepEqual(lines(option.stderr), [
        "exo-sentinel status: unknown option '--jsn' (did you mean --json?); see exo-sentinel status --help",
      ]);
      assert.deepEqual(lines(command.stderr), [
        "exo-sentinel: unknown command 'frobnicate'; see exo-sentinel --help",
      ]);
      assert.equal(lines(value.stderr).length, 1, value.stderr);
      assert.match(
        value.stderr,
        /^exo-sentinel daemon: option '--interval <seconds>' argument 'fast' is invalid/,
      );
      for (const r of [option, command, value]) assert.equal(r.stdout, '', 'nothing on stdout');
    });

    it('report --out into a missing directory: one line naming the file and why, exit 1', async () => {
      const out = `${dir.path}/no-such-dir/report.md`;
      const r = await runCli(['report', '--latest', '--out', out, '--data-dir', panicked]);
      assert.equal(r.code, 1);
      assert.deepEqual(lines(r.stderr), [
        `exo-sentinel report: cannot write ${out}: its directory does not exist`,
      ]);
      assert.equal(r.stdout, '');
      const isDir = await runCli(['report', '--latest', '--out', dir.path, '--data-dir', panicked]);
      assert.equal(isDir.code, 1);
      assert.deepEqual(lines(isDir.stderr), [`exo-sentinel report: cannot write ${dir.path}: EISDIR`]);
    });

    it('a timeline.db with no timeline in it (a daemon stopped before its first write) or an older schema: every reader says which and what to do, exit 1', async () => {
      const empty = `${dir.path}/db-zero`;
      mkdirSync(empty, { recursive: true });
      writeFileSync(`${empty}/timeline.db`, Buffer.alloc(0));
      const said = `exo-sentinel: ${empty}/timeline.db holds no timeline yet (no daemon has written to it); start it with: exo-sentinel daemon`;
      for (const args of [['timeline'], ['panics', 'list'], ['report', '--latest'], ['replay'], ['status']]) {
        const r = await runCli([...args, '--data-dir', empty]);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.deepEqual(lines(r.stderr), [said], args.join(' '));
      }
      const older = `${dir.path}/db-older`;
      mkdirSync(older, { recursive: true });
      const db = new Database(`${older}/timeline.db`);
      db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      db.pragma('user_version = 1');
      db.close();
      const r = await runCli(['timeline', '--data-dir', older]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /^exo-sentinel: .*db-older\/timeline\.db was written by an older exo-sentinel \(schema version 1, this one reads \d+\); restart the daemon, which brings it up to date, and try again\n$/,
      );
    });
  });

  it('daemon --once takes its one sample after the report directories are scanned, a panic behind junk included', async () => {
    const reports = `${dir.path}/once-reports`;
    mkdirSync(reports, { recursive: true });
    // Junk first in every order the scan may take, the panic under a name that gets no priority.
    for (let i = 0; i < 4000; i++) writeFileSync(`${reports}/a-${String(i).padStart(5, '0')}.ips`, '{}');
    writeFileSync(
      `${reports}/zz-copied.panic`,
      wrapAsPanicFile(fixture('panics/exo-1348-1.panic.txt'), { time: Date.now() - 60_000 }),
    );
    const home = `${dir.path}/once-home`;
    const once = await runCli(['daemon', '--once', '--reports-dir', reports, '--data-dir', home]);
    assert.equal(once.code, 0, once.stderr);
    const list = await runCli(['panics', 'list', '--json', '--data-dir', home]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /zz-copied\.panic/);
  });

  it('a guard that cannot be set up stops the start with the guard named, not the timeline', async () => {
    const home = `${dir.path}/bad-ca`;
    mkdirSync(home, { recursive: true });
    writeFileSync(
      `${home}/config.json`,
      JSON.stringify({ exo: { url: 'https://127.0.0.1:9' }, guard: { upstreamCaFile: '/dev/zero' } }),
    );
    const r = await runCli([
      'daemon',
      '--data-dir',
      home,
      '--guard-listen',
      '127.0.0.1:0',
      '--api-listen',
      '127.0.0.1:0',
    ]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim().split('\n').at(-1),
      'exo-sentinel: the guard cannot start: guard.upstreamCaFile "/dev/zero": not a regular file (fix it, or --no-guard)',
    );
  });

  it("every command's help shows the global options", async () => {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0);
    const names = (help: string): string[] =>
      [...(help.split(/^Commands:$/m)[1] ?? '').matchAll(/^ {2}([a-z][\w-]*)/gm)]
        .map((m) => m[1]!)
        .filter((n) => n !== 'help');
    const commands = names(top.stdout);
    for (const must of ['daemon', 'status', 'timeline', 'panics', 'report', 'doctor', 'agent'])
      assert.ok(commands.includes(must), `${must} is listed`);
    const helps = await Promise.all(commands.map(async (c) => ({ c, r: await runCli([c, '--help']) })));
    const nested = await Promise.all(
      helps.flatMap(({ c, r }) =>
        names(r.stdout).map(async (sub) => ({ c: `${c} ${sub}`, r: await runCli([c, sub, '--help']) })),
      ),
    );
    assert.ok(
      nested.some((h) => h.c === 'panics scan'),
      'subcommands are checked too',
    );
    for (const { c, r } of [...helps, ...nested]) {
      assert.equal(r.code, 0, `${c} --help`);
      assert.match(r.stdout, /^Global Options:$/m, `${c} --help shows the global options`);
      for (const flag of ['--data-dir <dir>', '--no-color', '--debug'])
        assert.ok(r.stdout.includes(flag), `${c} --help shows ${flag}`);
    }
  });
});
