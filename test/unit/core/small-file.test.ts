import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readExoPidfile } from '../../../src/main/core/exo/exo-pidfile.js';
import { readExoVersion } from '../../../src/main/core/exo/exo-version.js';
import { readSmallFile } from '../../../src/main/core/util/small-file.js';
import { tempDir } from '../../support/temp-dir.js';

describe('readSmallFile: what a local file can put in the daemon’s way', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  const at = (name: string): string => join(dir.path, name);

  it('reads a regular file, and one through a link', () => {
    writeFileSync(at('a.json'), '{"x": 1}');
    symlinkSync(at('a.json'), at('link.json'));
    assert.deepEqual(readSmallFile(at('a.json'), 64), { ok: true, text: '{"x": 1}' });
    assert.deepEqual(readSmallFile(at('link.json'), 64), { ok: true, text: '{"x": 1}' });
  });

  it('says ENOENT for a missing file', () => {
    const r = readSmallFile(at('missing'), 64);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'ENOENT');
  });

  it('refuses a FIFO at once instead of waiting for a writer', () => {
    execFileSync('mkfifo', [at('fifo')]);
    const t = performance.now();
    const r = readSmallFile(at('fifo'), 64);
    assert.ok(performance.now() - t < 500);
    assert.equal(!r.ok && r.code, 'ENOTREG');
  });

  it('refuses /dev/zero and a directory', () => {
    symlinkSync('/dev/zero', at('zero'));
    assert.equal(readSmallFile(at('zero'), 64).ok, false);
    assert.equal(readSmallFile(dir.path, 64).ok, false);
  });

  it('refuses a file over the limit without reading it', () => {
    writeFileSync(at('big'), 'x'.repeat(65));
    writeFileSync(at('edge'), 'x'.repeat(64));
    const r = readSmallFile(at('big'), 64);
    assert.equal(!r.ok && r.code, 'EFBIG');
    assert.equal(readSmallFile(at('edge'), 64).ok, true);
  });

  it("EXO's pidfile as a FIFO, /dev/zero or a huge file is no pid, and never blocks", () => {
    execFileSync('mkfifo', [at('exo.pid')]);
    const t = performance.now();
    assert.equal(readExoPidfile(at('exo.pid')), null);
    assert.equal(readExoPidfile(at('zero')), null);
    writeFileSync(at('huge.pid'), `123${' '.repeat(4096)}`);
    assert.equal(readExoPidfile(at('huge.pid')), null);
    writeFileSync(at('ok.pid'), '4242\n');
    assert.equal(readExoPidfile(at('ok.pid')), 4242);
    assert.ok(performance.now() - t < 500);
  });
});

describe("EXO's version from a source checkout named by a process's argv", () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('a FIFO or /dev/zero as pyproject.toml or git HEAD gives no version, at once', () => {
    mkdirSync(join(dir.path, '.git'), { recursive: true });
    execFileSync('mkfifo', [join(dir.path, 'pyproject.toml')]);
    symlinkSync('/dev/zero', join(dir.path, '.git', 'HEAD'));
    const argv = ['/usr/bin/python3', join(dir.path, '.venv', 'bin', 'exo')];
    const t = performance.now();
    const v = readExoVersion({ appPlist: join(dir.path, 'none.plist'), exoArgv: argv });
    assert.equal(v.source, 'unknown');
    rmSync(join(dir.path, 'pyproject.toml'));
    writeFileSync(join(dir.path, 'pyproject.toml'), '[project]\nversion = "1.0.71"\n');
    const w = readExoVersion({ appPlist: join(dir.path, 'none.plist'), exoArgv: argv });
    assert.equal(w.version, '1.0.71');
    assert.ok(performance.now() - t < 500);
  });
});
