#!/usr/bin/env node
// Bundles the dashboard (src/renderer) into dist/renderer: one script, its styles and uPlot's, no CDN.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('dist/renderer', { recursive: true });
await build({
  entryPoints: ['src/renderer/main.ts'],
  bundle: true,
  format: 'iife',
  target: 'es2022',
  outfile: 'dist/renderer/app.js',
  sourcemap: true,
  minify: true,
  logLevel: 'warning',
});
copyFileSync('src/renderer/index.html', 'dist/renderer/index.html');
copyFileSync('src/renderer/styles.css', 'dist/renderer/styles.css');
copyFileSync('node_modules/uplot/dist/uPlot.min.css', 'dist/renderer/uPlot.min.css');
