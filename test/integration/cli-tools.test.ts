import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliPath, runCli, sleep, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';
import { noTerminal, onTerminal as runOnTerminal } from '../support/terminal.js';

const dir = tempDir();
after(dir.cleanup);
const has = (program: string): boolean =>
  spawnSync(program, ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs the CLI on a pseudo-terminal (`script`), as in a person's shell; stdout and stderr together. */
const onTerminal = async (args: string[], env: NodeJS.ProcessEnv): Promise<string> =>
  (await runOnTerminal([process.execPath, cliPath, ...args], env)).output;

describe('shell completion, generated from the command tree', () => {
  const script = async (shell: string): Promise<string> => {
    const r = await runCli(['completion', shell]);
    assert.equal(r.code, 0, r.stderr);
    const file = join(dir.path, `completion.${shell}`);
    writeFileSync(file, r.stdout);
    return file;
  };

  it('bash completes commands, subcommands, options, config keys and file names after a valued option', async () => {
    const file = await script('bash');
    const complete = (...words: string[]): string[] => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _exo_sentinel; printf '%s\\n' "\${COMPREPLY[@]}"`,
          'bash',
          ...words,
        ],
        { encoding: 'utf8', cwd: dir.path },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(complete('exo-sentinel', 'st'), ['status']);
    assert.deepEqual(complete('exo-sentinel', 'config', 's'), ['set', 'schema']);
    assert.deepEqual(complete('exo-sentinel', 'agent', 'st'), ['status']);
    assert.deepEqual(complete('exo-sentinel', '--data-dir', '/srv/x', 'lo'), ['logs']);
    assert.deepEqual(complete('exo-sentinel', 'config', 'get', 'guard.qu'), [
      'guard.queue',
      'guard.queue.max',
      'guard.queue.timeoutSeconds',
    ]);
    assert.deepEqual(complete('exo-sentinel', 'completion', 'f'), ['fish']);
    assert.deepEqual(complete('exo-sentinel', 'guard', 's'), ['serialise']);
    assert.deepEqual(complete('exo-sentinel', 'guard', 'profile', 'b'), ['balanced']);
    assert.deepEqual(complete('exo-sentinel', 'logs', '--f'), ['--follow']);
    assert.ok(complete('exo-sentinel', 'status', '--').includes('--data-dir'), 'global options everywhere');
    assert.ok(!complete('exo-sentinel', 'status', '--').includes('--version'), '--version only at the top');
    writeFileSync(join(dir.path, 'mine.json'), '{}');
    assert.deepEqual(complete('exo-sentinel', 'daemon', '--config', 'min'), ['mine.json']);
  });

  it('zsh: the same tree through _describe', { skip: !has('zsh') && 'zsh is not installed' }, async () => {
    const file = await script('zsh');
    assert.equal(spawnSync('zsh', ['-n', file]).status, 0, 'the script parses');
    const items = (...words: string[]): string[] => {
      const r = spawnSync(
        'zsh',
        [
          '-c',
          `compdef(){}; _describe(){ print -l -- "\${(@P)4}"; }; _files(){ print FILES; }; source ${file}; words=("$@"); CURRENT=\${#words}; _exo_sentinel`,
          'zsh',
          ...words,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    const top = items('exo-sentinel', '');
    assert.ok(top.some((i) => /^config:the configuration file/.test(i)));
    assert.ok(top.includes('--version:print the version') || top.some((i) => i.startsWith('--version')));
    assert.deepEqual(
      items('exo-sentinel', 'config', '')
        .filter((i) => !i.startsWith('-'))
        .map((i) => i.split(':')[0]),
      ['path', 'get', 'set', 'unset', 'validate', 'schema'],
    );
    assert.deepEqual(items('exo-sentinel', '--data-dir', ''), ['FILES']);
  });

  it('fish: complete -C answers from the script', {
    skip: !has('fish') && 'fish is not installed',
  }, async () => {
    const file = await script('fish');
    const complete = (line: string): string[] => {
      const r = spawnSync('fish', ['-c', `source ${file}; complete -C"${line}"`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!);
    };
    assert.deepEqual(complete('exo-sentinel config s'), ['schema', 'set']);
    assert.deepEqual(complete('exo-sentinel agent st'), ['status']);
    assert.deepEqual(complete('exo-sentinel config get guard.qu'), [
      'guard.queue',
      'guard.queue.max',
      'guard.queue.timeoutSeconds',
    ]);
    assert.ok(complete('exo-sentinel logs -').includes('--follow'));
  });

  it('refuses a shell it does not know, in one line', async () => {
    const r = await runCli(['completion', 'tcsh']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^exo-sentinel completion: .*tcsh.*\n$/);
  });
});

describe('exo-sentinel logs', () => {
  const home = join(dir.path, 'logs-home');
  const file = join(home, 'logs', 'exo-sentinel.log');
  const env = { EXO_SENTINEL_HOME: home };
  const line = (msg: string, level = 30): string =>
    `${JSON.stringify({ level, time: Date.UTC(2026, 10, 28), msg })}\n`;

  it('prints the last lines readable, or as JSON; says so when there is no log', async () => {
    const none = await runCli(['logs'], env);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /^exo-sentinel: no log at .*logs-home\/logs\/exo-sentinel\.log \(the daemon has not run/,
    );
    mkdirSync(join(home, 'logs'), { recursive: true });
    writeFileSync(file, line('one') + line('two', 40) + line('three', 50) + 'not json\n');
    const two = await runCli(['logs', '-n', '2'], env);
    assert.equal(two.stdout, '2026-11-28T00:00:00.000Z ERROR three\nnot json\n');
    const json = await runCli(['logs', '--lines', '1', '--json'], env);
    assert.equal(json.stdout, 'not json\n');
    const all = await runCli(['logs'], env);
    assert.equal(all.stdout.split('\n').length - 1, 4);
    assert.match(all.stdout, /^2026-11-28T00:00:00\.000Z WARN {2}two$/m);
  });

  it('-f follows appended lines and the new file after a rotation', async () => {
    writeFileSync(file, line('before'));
    const child = spawn(process.execPath, [cliPath, 'logs', '-f', '-n', '1'], {
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const waitFor = async (re: RegExp): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!re.test(out)) {
        if (Date.now() > deadline) assert.fail(`${re} not in: ${out}`);
        await sleep(50);
      }
    };
    try {
      await waitFor(/INFO {2}before\n/);
      appendFileSync(file, line('appended'));
      await waitFor(/appended\n/);
      // The rotator's way: the current file becomes .1, a new one starts under the same name.
      appendFileSync(file, line('last of the old file'));
      renameSync(file, join(home, 'logs', 'exo-sentinel.1.log'));
      writeFileSync(file, line('first of the new file'));
      await waitFor(/first of the new file\n/);
      appendFileSync(file, line('and more'));
      await waitFor(/and more\n/);
      assert.deepEqual(
        out
          .split('\n')
          .filter(Boolean)
          .map((l) => l.slice(31)),
        ['before', 'appended', 'last of the old file', 'first of the new file', 'and more'],
      );
    } finally {
      child.kill('SIGINT');
    }
    const end = await waitForExit(child);
    assert.equal(end.code, 0);
  });
});

describe('progress on a terminal for slow commands', { skip: noTerminal }, () => {
  const env = { EXO_SENTINEL_HOME: join(dir.path, 'progress'), NO_COLOR: undefined, TERM: 'xterm' };
  const reports = join(dir.path, 'reports');
  mkdirSync(reports, { recursive: true });

  it('doctor and panics scan show a spinner line, cleared before the answer', async () => {
    const doctor = await onTerminal(['doctor', '--exo-url', 'http://127.0.0.1:9'], env);
    assert.match(doctor, /\r\u001b\[K⠋ doctor: reading this machine, its GPU and EXO…/);
    const answer = doctor.slice(doctor.lastIndexOf('\r\u001b[K') + 4);
    assert.ok(!/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] doctor:/.test(answer), 'the spinner is gone before the report');
    assert.ok(answer.length > 100, answer);
    const scan = await onTerminal(['panics', 'scan', '--dir', reports], env);
    // The first frame, as many more as the scan takes on this machine, then the line cleared for the answer.
    assert.match(
      scan,
      /⠋ panics scan: .*reports \(1\/1\)…(\r\u001b\[K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] [^\r]*)*\r\u001b\[K[^\r]*reports: 0 files/,
    );
    const after = scan.slice(scan.lastIndexOf('\r\u001b[K') + 4);
    assert.ok(!/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] panics scan:/.test(after), 'the spinner is gone before the answer');
  });

  it('NO_COLOR (or --no-color) gives plain lines without escape sequences', async () => {
    const scan = await onTerminal(['panics', 'scan', '--dir', reports, '--no-color'], env);
    assert.match(scan, /^panics scan: .*reports \(1\/1\)…\r?\n/);
    assert.ok(!scan.includes('\u001b'), JSON.stringify(scan));
    const doctor = await onTerminal(['doctor', '--exo-url', 'http://127.0.0.1:9'], { ...env, NO_COLOR: '1' });
    assert.match(doctor, /^doctor: reading this machine, its GPU and EXO…\r?\n/);
  });

  it('nothing when stderr is not a terminal', async () => {
    const r = await runCli(['panics', 'scan', '--dir', reports], env);
    assert.equal(r.stderr, '');
    const d = await runCli(['doctor', '--exo-url', 'http://127.0.0.1:9'], env);
    assert.ok(!d.stderr.includes('doctor:'), d.stderr);
  });
});
