#!/usr/bin/env node
// Bundles the Electron shell: the main process (ESM, electron and every package external) and the sandboxed
// preload (one CommonJS file: a sandboxed preload can only require('electron')).
import { copyFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main/app/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  packages: 'external',
  outfile: 'dist/main/app/main.js',
  sourcemap: true,
  logLevel: 'warning',
});
await build({
  entryPoints: ['src/preload/preload.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  external: ['electron'],
  outfile: 'dist/preload/preload.cjs',
  logLevel: 'warning',
});
// Data files the bundled core reads beside its module at run time (copy-assets put them in dist/main/core).
copyFileSync('dist/main/core/risk/platform-advisory.json', 'dist/main/app/platform-advisory.json');
copyFileSync('dist/main/core/config/config.schema.json', 'dist/main/app/config.schema.json');
