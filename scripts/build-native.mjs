#!/usr/bin/env node
// Builds the native sampling addon (src/native) with node-gyp against the headers of the Node running this
// script (the project's own Node carries them: no download). Never fails an install: without a compiler the
// probes fall back to commands (macOS) and procfs (Linux), and the daemon says so. `--strict` (CI, and
// `npm run build:native`) fails on a build error instead. EXO_SENTINEL_SKIP_NATIVE_BUILD=1 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const say = (line) => process.stderr.write(`exo-sentinel native addon: ${line}\n`);

if (process.env.EXO_SENTINEL_SKIP_NATIVE_BUILD === '1') {
  say('skipped (EXO_SENTINEL_SKIP_NATIVE_BUILD=1); the probes will use their fallback readers');
  process.exit(0);
}
let gyp;
try {
  gyp = createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
} catch {
  say('node-gyp is not installed (npm ci installs it); not built');
  process.exit(strict ? 1 : 0);
}
// <prefix>/bin/node → <prefix>/include/node: where the Node packages and installers put the headers.
const prefix = dirname(dirname(realpathSync(process.execPath)));
const args = [gyp, 'rebuild', '--directory', join(root, 'src', 'native')];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const started = Date.now();
const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
if (r.status === 0) {
  say(`built for ${process.platform}-${process.arch} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(0);
}
const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
say(`not built (${r.error?.message ?? `node-gyp exited ${r.status}`}); the probes will use their fallback readers`);
if (tail) process.stderr.write(`${tail}\n`);
process.exit(strict ? 1 : 0);
