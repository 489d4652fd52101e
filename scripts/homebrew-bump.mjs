#!/usr/bin/env node
// Sets the version and the sha256 of the Homebrew formula and cask for a release:
//   node scripts/homebrew-bump.mjs --formula-archive v0.2.0.tar.gz --cask-dmg exo-sentinel-0.2.0-arm64.dmg
// The version is package.json's; the archive is the tag's source tarball (GitHub's archive/refs/tags/v….tar.gz),
// the dmg the one electron-builder made. --dir chooses where the .rb files are (default packaging/homebrew).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'formula-archive': { type: 'string' },
    'cask-dmg': { type: 'string' },
    dir: { type: 'string', default: 'packaging/homebrew' },
    version: { type: 'string' },
  },
});
const version = values.version ?? JSON.parse(readFileSync('package.json', 'utf8')).version;
if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) {
  process.stderr.write(`homebrew-bump: "${version}" is not a version like 1.2.3\n`);
  process.exit(2);
}
const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

function update(file, edits) {
  let text = readFileSync(file, 'utf8');
  for (const [pattern, replacement] of edits) {
    if (!pattern.test(text)) {
      process.stderr.write(`homebrew-bump: ${file} has no line matching ${pattern}\n`);
      process.exit(1);
    }
    text = text.replace(pattern, replacement);
  }
  writeFileSync(file, text);
  process.stdout.write(`updated ${file}\n`);
}

const formula = join(values.dir, 'exo-sentinel.rb');
const cask = join(values.dir, 'exo-sentinel-app.rb');
update(formula, [
  [/(url "[^"]*\/archive\/refs\/tags\/v)[^"]+(\.tar\.gz")/, `$1${version}$2`],
  ...(values['formula-archive']
    ? [[/sha256 "[0-9a-f]{64}"/, `sha256 "${sha(values['formula-archive'])}"`]]
    : []),
]);
update(cask, [
  [/version "[^"]+"/, `version "${version}"`],
  ...(values['cask-dmg'] ? [[/sha256 "[0-9a-f]{64}"/, `sha256 "${sha(values['cask-dmg'])}"`]] : []),
]);
