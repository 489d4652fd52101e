#!/usr/bin/env node
// Copies into dist/ what the code reads at run time beside the built modules: the data files (src/**/*.json)
// and the native sampling addon for this platform (a local build, else a prebuild made on a Mac), which the
// loader looks for in dist/native/<platform>-<arch>/.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (p === join('src', 'native')) return [];
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.json') && name !== 'tsconfig.json' ? [p] : [];
  });
for (const file of walk('src')) {
  const target = join('dist', relative('src', file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
}

const NATIVE = 'exo_sentinel_native.node';
rmSync(join('dist', 'native'), { recursive: true, force: true });
const copyNative = (from, tag) => {
  mkdirSync(join('dist', 'native', tag), { recursive: true });
  copyFileSync(from, join('dist', 'native', tag, NATIVE));
};
const local = join('src', 'native', 'build', 'Release', NATIVE);
if (existsSync(local)) copyNative(local, `${process.platform}-${process.arch}`);
const prebuilds = join('src', 'native', 'prebuilds');
if (existsSync(prebuilds))
  for (const tag of readdirSync(prebuilds)) {
    const dir = join(prebuilds, tag);
    if (!statSync(dir).isDirectory() || existsSync(join('dist', 'native', tag, NATIVE))) continue;
    const built = readdirSync(dir).find((f) => f.endsWith('.node'));
    if (built) copyNative(join(dir, built), tag);
  }
