import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../../support/fixtures.js';
import { tempDir } from '../../support/temp-dir.js';

// `brew` (and Ruby) are not on the build machines: the formula and cask are checked for their structure here,
// and `brew audit --strict` / `brew install --build-from-source` / `brew test` are for a Mac.
const dir = join(repoRoot, 'packaging', 'homebrew');
const formula = readFileSync(join(dir, 'exo-sentinel.rb'), 'utf8');
const cask = readFileSync(join(dir, 'exo-sentinel-app.rb'), 'utf8');
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Ruby's block openers (`do`, `def`, `class`, `cask … do`) against `end`, ignoring comments and strings. */
function balanced(rb: string): boolean {
  let depth = 0;
  for (const raw of rb.split('\n')) {
    const line = raw
      .replace(/#(?![{]).*$/, '')
      .replace(/"(?:[^"\\]|\\.)*"/g, '""')
      .trim();
    if (/^(class|def|module)\b/.test(line) || /\bdo(\s*\|[^|]*\|)?$/.test(line)) depth++;
    if (/^end\b/.test(line)) depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

/** The body of `name do … end` at the indentation it starts with. */
function block(rb: string, opener: RegExp): string {
  const lines = rb.split('\n');
  const start = lines.findIndex((l) => opener.test(l));
  assert.ok(start >= 0, `no ${opener}`);
  const indent = /^\s*/.exec(lines[start]!)![0];
  const end = lines.findIndex((l, i) => i > start && l === `${indent}end`);
  assert.ok(end > start, `${opener} is not closed`);
  return lines.slice(start + 1, end).join('\n');
}

describe('Homebrew formula (headless daemon and CLI)', () => {
  it('has the required stanzas, depends on node, and its version is package.json’s', () => {
    assert.match(formula, /^class ExoSentinel < Formula$/m);
    assert.match(formula, /^ {2}desc "[A-Z][^"]{10,79}[^.]"$/m, 'desc: capitalised, under 80, no final dot');
    assert.match(formula, /^ {2}homepage "https:\/\/[^"]+"$/m);
    const url = /^ {2}url "([^"]+)"$/m.exec(formula)?.[1];
    assert.equal(url, `https://github.com/exo-sentinel/exo-sentinel/archive/refs/tags/v${version}.tar.gz`);
    assert.match(formula, /^ {2}sha256 "[0-9a-f]{64}"$/m);
    assert.match(formula, /^ {2}license "MIT"$/m);
    assert.match(formula, /^ {2}depends_on "node"$/m);
    assert.ok(balanced(formula), 'every do/def/class has its end');
  });

  it('installs the built CLI as bin/exo-sentinel on Homebrew’s node, without Electron', () => {
    const install = block(formula, /^ {2}def install$/);
    assert.match(install, /ENV\["ELECTRON_SKIP_BINARY_DOWNLOAD"\] = "1"/);
    assert.match(install, /system "npm", "ci"/);
    assert.match(install, /"tsconfig\.build\.json"/);
    assert.match(install, /system "npm", "prune", "--omit=dev"/);
    assert.match(install, /write_env_script libexec\/"dist\/main\/headless\/cli\.js"/);
    assert.match(install, /Formula\["node"\]\.opt_bin/);
  });

  it('a service block runs the daemon, restarted unless it exited 0 (as the login agent)', () => {
    const service = block(formula, /^ {2}service do$/);
    assert.match(service, /^ {4}run \[opt_bin\/"exo-sentinel", "daemon"\]$/m);
    assert.match(service, /^ {4}keep_alive successful_exit: false$/m);
    assert.doesNotMatch(service, /log_path/, 'the daemon logs itself; launchd output is not kept');
  });

  it('the test block runs exo-sentinel --version and expects the formula version', () => {
    const test = block(formula, /^ {2}test do$/);
    assert.match(test, /assert_match version\.to_s, shell_output\("#\{bin\}\/exo-sentinel --version"\)/);
  });
});

describe('Homebrew cask (menu-bar app)', () => {
  it('has the required stanzas, the package version and the dmg electron-builder names', () => {
    assert.match(cask, /^cask "exo-sentinel-app" do$/m);
    assert.equal(/^ {2}version "([^"]+)"$/m.exec(cask)?.[1], version);
    assert.match(cask, /^ {2}sha256 "[0-9a-f]{64}"$/m);
    const url = /^ {2}url "([^"]+)"$/m.exec(cask)?.[1] ?? '';
    // electron-builder's default artifact name: ${productName}-${version}-${arch}.dmg
    assert.match(url, /\/releases\/download\/v#\{version\}\/exo-sentinel-#\{version\}-arm64\.dmg$/);
    const productName = /^productName: (\S+)$/m.exec(
      readFileSync(join(repoRoot, 'electron-builder.yml'), 'utf8'),
    )?.[1];
    assert.match(cask, new RegExp(`^ {2}app "${productName}\\.app"$`, 'm'));
    assert.match(cask, /^ {2}name "exo-sentinel"$/m);
    assert.match(cask, /^ {2}desc "[A-Z][^"]+[^.]"$/m);
    assert.match(cask, /^ {2}homepage "https:\/\/[^"]+"$/m);
    assert.match(cask, /^ {2}depends_on macos: ">= :ventura"$/m, 'minimumSystemVersion 13.0');
    assert.match(cask, /^ {2}auto_updates true$/m);
    assert.ok(balanced(cask));
  });

  it('quits the app by its bundle id and zaps its data, logs, caches and preferences', () => {
    const appId = /^appId: (\S+)$/m.exec(readFileSync(join(repoRoot, 'electron-builder.yml'), 'utf8'))?.[1];
    assert.match(cask, new RegExp(`^ {2}uninstall quit: "${appId!.replace(/\./g, '\\.')}"$`, 'm'));
    for (const p of [
      '~/Library/Application Support/exo-sentinel',
      '~/Library/Logs/exo-sentinel',
      `~/Library/Preferences/${appId}.plist`,
    ])
      assert.ok(cask.includes(`"${p}"`), p);
  });
});

describe('scripts/homebrew-bump.mjs', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('sets the version and the sha256 of real files in both', () => {
    const out = join(tmp.path, 'homebrew');
    mkdirSync(out);
    copyFileSync(join(dir, 'exo-sentinel.rb'), join(out, 'exo-sentinel.rb'));
    copyFileSync(join(dir, 'exo-sentinel-app.rb'), join(out, 'exo-sentinel-app.rb'));
    writeFileSync(join(tmp.path, 'src.tar.gz'), 'source archive bytes');
    writeFileSync(join(tmp.path, 'app.dmg'), 'disk image bytes');
    const r = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'scripts', 'homebrew-bump.mjs'),
        '--dir',
        out,
        '--version',
        '9.8.7',
        '--formula-archive',
        join(tmp.path, 'src.tar.gz'),
        '--cask-dmg',
        join(tmp.path, 'app.dmg'),
      ],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    const f = readFileSync(join(out, 'exo-sentinel.rb'), 'utf8');
    const c = readFileSync(join(out, 'exo-sentinel-app.rb'), 'utf8');
    assert.match(f, /archive\/refs\/tags\/v9\.8\.7\.tar\.gz"/);
    assert.ok(f.includes(`sha256 "${sha('source archive bytes')}"`));
    assert.match(c, /^ {2}version "9\.8\.7"$/m);
    assert.ok(c.includes(`sha256 "${sha('disk image bytes')}"`));
    const bad = spawnSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'homebrew-bump.mjs'), '--dir', out, '--version', '1.0; rm -rf /'],
      { cwd: repoRoot, encoding: 'utf8' },
    );
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, 'homebrew-bump: "1.0; rm -rf /" is not a version like 1.2.3\n');
  });
});
