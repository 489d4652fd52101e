#!/usr/bin/env node
// Copies the data files the code reads at run time (src/**/*.json) into dist/, beside the built modules.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.json') && name !== 'tsconfig.json' ? [p] : [];
  });
for (const file of walk('src')) {
  const target = join('dist', relative('src', file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
}
