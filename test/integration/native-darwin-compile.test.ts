/**
 * No Mac builds here, so the addon's darwin sources are compiled for aarch64-macos with Zig's bundled macOS
 * libc headers (the frameworks' few calls are declared in darwin.c when their headers are absent) with every
 * warning an error: a darwin-only mistake fails CI here, not first on a user's Mac. The static asserts check the
 * mirrored structures against the kernel's. `bootstrap.sh --test` fetches Zig into .cache/zig; without it the
 * test is skipped, saying so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

const zig = process.env['ZIG'] ?? join(repoRoot, '.cache', 'zig', 'ziglang', 'zig');
const headers = join(dirname(dirname(realpathSync(process.execPath))), 'include', 'node');
const sources = ['addon.c', 'common.c', 'marshal.c', 'pressure.c', 'darwin.c'];

describe('the native addon for macOS', {
  skip: existsSync(zig) ? false : `no Zig at ${zig} (./scripts/bootstrap.sh --test fetches it)`,
}, () => {
  for (const source of sources)
    it(`compiles ${source} for aarch64-macos without a warning`, () => {
      const dir = tempDir();
      try {
        const r = spawnSync(
          zig,
          [
            'cc',
            '-target',
            'aarch64-macos',
            '-std=c11',
            '-Wall',
            '-Wextra',
            '-Werror',
            '-O2',
            '-DNAPI_VERSION=9',
            '-DNODE_GYP_MODULE_NAME=exo_sentinel_native',
            `-I${headers}`,
            '-c',
            join(repoRoot, 'src', 'native', 'src', source),
            '-o',
            join(dir.path, `${source}.o`),
          ],
          {
            encoding: 'utf8',
            env: {
              ...process.env,
              ZIG_GLOBAL_CACHE_DIR: join(dir.path, 'zig-cache'),
              ZIG_LOCAL_CACHE_DIR: join(dir.path, 'zig-cache'),
            },
          },
        );
        assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
        assert.ok(existsSync(join(dir.path, `${source}.o`)));
      } finally {
        dir.cleanup();
      }
    });

  it('a darwin-only mistake fails the check (the compiler really runs on the darwin branch)', () => {
    const dir = tempDir();
    try {
      const r = spawnSync(
        zig,
        ['cc', '-target', 'aarch64-macos', '-Werror', '-x', 'c', '-c', '-', '-o', join(dir.path, 'x.o')],
        {
          input: '#include <libproc.h>\nint f(void) { struct proc_bsdinfo b; return b.no_such_field; }\n',
          encoding: 'utf8',
          env: {
            ...process.env,
            ZIG_GLOBAL_CACHE_DIR: join(dir.path, 'zc'),
            ZIG_LOCAL_CACHE_DIR: join(dir.path, 'zc'),
          },
        },
      );
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /no member named 'no_such_field'/);
    } finally {
      dir.cleanup();
    }
  });
});
