/**
 * The idle daemon (guard and API on, nothing to watch) leaves out the node modules it does not need yet: each
 * costs resident memory for as long as it runs (node:crypto +2.2 MiB, readline +0.4, v8 +0.3, measured on Node 26;
 * bench/probe-budget.bench.ts holds the whole budget). They load when first used: a token-bearing request, a
 * signed cluster read, a report scan, `uninstall`'s question. node:v8 never loads in the daemon: the default
 * MLX server patterns compiled at start get the linear regexp engine from the daemon's Node flags.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

const NOT_WHEN_IDLE = [
  'crypto',
  'internal/crypto/webcrypto',
  'internal/crypto/keys',
  'readline/promises',
  'v8',
];

describe('builtin modules the idle daemon loads', () => {
  const dir = tempDir('exo-sentinel-builtins-');
  after(() => dir.cleanup());

  it(`leaves out ${NOT_WHEN_IDLE.join(', ')} and the other commands, and answers status`, async () => {
    const hook = join(dir.path, 'loaded-builtins.mjs');
    const list = join(dir.path, 'loaded.json');
    writeFileSync(
      hook,
      `import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const commands = [];
registerHooks({
  load(url, context, next) {
    if (url.includes('/headless/commands/')) commands.push(url.slice(url.lastIndexOf('/') + 1));
    return next(url, context);
  },
});
process.on('exit', () =>
  writeFileSync(${JSON.stringify(list)}, JSON.stringify({ builtins: process.moduleLoadList, commands })),
);\n`,
    );
    const daemon = await startDaemon(
      ['--data-dir', join(dir.path, 'data'), '--exo-url', 'http://127.0.0.1:9', '--interval', '1'],
      { NODE_OPTIONS: `--import ${hook}` },
    );
    try {
      await sleep(3500); // a few ticks, the first EXO polls, the API token written
      const status = (await (await fetch(`${daemon.apiUrl()}/api/v1/status`)).json()) as {
        risk?: { level?: string };
      };
      assert.equal(status.risk?.level, 'ok');
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
    }
    const seen = JSON.parse(readFileSync(list, 'utf8')) as { builtins: string[]; commands: string[] };
    const loaded = new Set(
      seen.builtins.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)),
    );
    assert.ok(loaded.has('http') && loaded.has('net'), 'the hook saw the daemon load its server');
    assert.deepEqual(
      NOT_WHEN_IDLE.filter((m) => loaded.has(m)),
      [],
    );
    // The other commands' modules stay out too (0.8 MiB): the daemon's own is the only one, plus what it uses.
    assert.ok(seen.commands.includes('daemon-command.js'), seen.commands.join(' '));
    for (const other of [
      'status-command.js',
      'replay-command.js',
      'uninstall-command.js',
      'doctor-command.js',
    ])
      assert.ok(!seen.commands.includes(other), `${other} loaded: ${seen.commands.join(' ')}`);
  });
});
