import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EXIT_FAULT, isContainable } from '../../../src/main/core/fault-handler.js';
import { repoRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir('exo-sentinel-fault-');
after(dir.cleanup);

/** Runs `body` in a fresh Node process with the handlers installed; the sink prints what it is told. */
function run(body: string): { status: number | null; lines: string[] } {
  const script = join(dir.path, `case-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(
    script,
    `import { installFaultHandlers } from ${JSON.stringify(join(repoRoot, 'src/main/core/fault-handler.ts'))};
installFaultHandlers(
  {
    contain: (where, e) => console.log('contained', where, (e as Error).message),
    fatal: async (where, e) => console.log('fatal', where, (e as Error).message),
  },
  (code) => process.exit(code),
);
${body}
`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, lines: r.stdout.trim().split('\n').filter(Boolean) };
}

describe('process-level fault handlers', () => {
  it('an unhandled rejection and a stream I/O error are contained: the process carries on and exits 0', () => {
    const r = run(`
void Promise.reject(new Error('poll failed'));
setTimeout(() => {
  throw Object.assign(new Error('write ENOSPC'), { code: 'ENOSPC' });
}, 20);
setTimeout(() => console.log('still running'), 100);
`);
    assert.deepEqual(r.lines, [
      'contained unhandled rejection poll failed',
      'contained uncaught I/O error write ENOSPC',
      'still running',
    ]);
    assert.equal(r.status, 0);
  });

  it('any other uncaught exception is recorded, then the process exits 70 for its supervisor to restart it', () => {
    const r = run(`
setTimeout(() => {
  throw new TypeError('cannot read properties of undefined');
}, 20);
setTimeout(() => console.log('never'), 2000);
`);
    assert.deepEqual(r.lines, ['fatal uncaught exception cannot read properties of undefined']);
    assert.equal(r.status, EXIT_FAULT);
    assert.equal(EXIT_FAULT, 70);
  });

  it('containable means an I/O error code on a stream, nothing else', () => {
    for (const code of ['ENOSPC', 'EROFS', 'EPIPE', 'EIO']) assert.equal(isContainable({ code }), true);
    assert.equal(isContainable(new TypeError('x')), false);
    assert.equal(isContainable({ code: 'ERR_INVALID_ARG_TYPE' }), false);
    assert.equal(isContainable(null), false);
  });
});
