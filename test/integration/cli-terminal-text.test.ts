/**
 * What the CLI prints from the data (a panic report's lines, a process name, an event, a log line) reaches a
 * terminal, where an escape sequence is a command (a window title, a cleared screen, a hidden link): none
 * gets through. The hostile report is a captured panic (test/fixtures) wrapped as the .panic file it came in,
 * its panic line rewritten.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cliPath, runCli, sleep, waitForExit } from '../support/cli-runner.js';
import { fixture } from '../support/fixtures.js';
import { freePort } from '../support/free-port.js';
import { wrapAsPanicFile } from '../support/panic-file.js';
import { tempDir } from '../support/temp-dir.js';

const ESCAPES = '\u001b]0;PWNED\u0007\u001b[2J\u009b5m';
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('text from the data, printed by the CLI', () => {
  const dir = tempDir('exo-sentinel-terminal-');
  after(() => dir.cleanup());

  it('panics inspect, scan and list print no control character from a hostile report', async () => {
    const reports = join(dir.path, 'reports');
    mkdirSync(reports);
    const panic = fixture('panics/exo-1348-1.panic.txt').replace(
      'completeMemory() prepare count underflow',
      `completeMemory() ${ESCAPES} underflow`,
    );
    const file = join(reports, 'Kernel-2026-04-23-120000.panic');
    writeFileSync(file, wrapAsPanicFile(panic, { time: Date.UTC(2026, 3, 23, 11) }));
    const data = join(dir.path, 'data');
    for (const args of [
      ['panics', 'inspect', file],
      ['panics', 'scan', '--data-dir', data, '--dir', reports],
      ['panics', 'list', '--data-dir', data],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /completeMemory|Kernel-2026-04-23-120000\.panic/, args.join(' '));
      assert.doesNotMatch(r.stdout, CONTROL, `${args.join(' ')} printed a control character`);
    }
  });

  it('a reader that closes the pipe ends the output quietly, with the exit code the command had', async () => {
    for (const args of [['config', 'schema'], ['completion', 'bash'], ['--help']]) {
      const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // as `| true` does
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      const code = await new Promise<number | null>((r) => child.once('close', r));
      assert.equal(code, 0, `${args.join(' ')}: ${stderr}`);
      assert.equal(stderr, '', args.join(' '));
    }
  });

  it('the daemon keeps watching when its stdout is closed (its start banner hits EPIPE)', async () => {
    const api = await freePort();
    const daemon = spawn(
      process.execPath,
      [
        cliPath,
        'daemon',
        '--data-dir',
        join(dir.path, 'closed-stdout'),
        '--exo-url',
        'http://127.0.0.1:9',
        '--no-guard',
        '--api-listen',
        `127.0.0.1:${api}`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    daemon.stdout.destroy();
    try {
      let level: string | undefined;
      for (let i = 0; i < 60 && level === undefined; i++) {
        await sleep(250);
        try {
          const r = await fetch(`http://127.0.0.1:${api}/api/v1/status`);
          level = ((await r.json()) as { risk?: { level?: string } }).risk?.level;
        } catch {
          // not listening yet
        }
      }
      assert.equal(level, 'ok', 'the API answers');
      assert.equal(daemon.exitCode, null, 'still running');
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
  });
});
