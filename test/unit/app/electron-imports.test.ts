import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../support/fixtures.js';

/** Every file under src, with its path relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.ts$/.test(n) ? [p] : [];
  });
}

/** `import … from 'electron'` that is not `import type`, and any require('electron'). */
const RUNTIME_ELECTRON =
  /^\s*import\s+(?!type\b)[^;]*from\s+['"]electron['"]|require\(\s*['"]electron['"]\s*\)/m;

describe('the Electron binary never loads outside the shell', () => {
  it('only src/main/app and src/preload import electron at run time', () => {
    const offenders = sources(join(repoRoot, 'src'))
      .map((p) => relative(repoRoot, p))
      .filter((p) => !p.startsWith('src/main/app/') && !p.startsWith('src/preload/'))
      .filter((p) => RUNTIME_ELECTRON.test(readFileSync(join(repoRoot, p), 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('inside the shell, only the entry points load it (the rest takes types only)', () => {
    const runtime = sources(join(repoRoot, 'src'))
      .map((p) => relative(repoRoot, p))
      .filter((p) => RUNTIME_ELECTRON.test(readFileSync(join(repoRoot, p), 'utf8')));
    assert.deepEqual(runtime.sort(), ['src/main/app/main.ts', 'src/preload/preload.ts']);
    // The check itself catches a runtime import.
    assert.ok(RUNTIME_ELECTRON.test("import { app } from 'electron';"));
    assert.ok(!RUNTIME_ELECTRON.test("import type { Tray } from 'electron';"));
  });
});
