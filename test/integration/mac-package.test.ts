import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parsePlist } from 'plist';
import { TRAY_ICONS } from '../../src/main/app/tray-view.js';
import { writeStubElectronDist } from '../support/stub-electron-dist.js';
import { tempDir } from '../support/temp-dir.js';

// The packaging config is checked for real: electron-builder's own schema validation, then a `--dir` build of
// the macOS arm64 app around a stub Electron.app (the real one cannot be downloaded here), unsigned as the
// README's `identity: null` path builds it. The stub's Electron Framework carries a fuse wire, so the fuses
// are flipped for real, and a `codesign` stand-in on PATH records the ad-hoc re-signing that must follow.
// Real signing, notarization and dmg/zip need a Mac.
const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
// Internal module paths: electron-builder is pinned exactly in package.json for this reason.
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(
    projectDir: string,
    configPath: string | null,
    fromOptions: unknown,
  ): Promise<Record<string, unknown>>;
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
const asar = require('@electron/asar') as {
  listPackage(path: string, options: { isPack: boolean }): string[];
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

// @electron/fuses' marker: the fuse wire follows it (version 1, its length, one byte per fuse).
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const FUSES = 8;

/** An Electron Framework binary with every fuse at Electron's defaults ('1' on, '0' off). */
function writeStubFramework(electronApp: string): void {
  const dir = join(electronApp, 'Contents', 'Frameworks', 'Electron Framework.framework');
  mkdirSync(dir, { recursive: true });
  const wire = Buffer.from('10111100'); // RunAsNode, CookieEncryption, NodeOptions, Inspect, AsarIntegrity, OnlyAsar, V8Snapshot, FileProtocol
  writeFileSync(
    join(dir, 'Electron Framework'),
    Buffer.concat([
      Buffer.alloc(64, 0xcc),
      Buffer.from(FUSE_SENTINEL),
      Buffer.from([1, FUSES]),
      wire,
      Buffer.alloc(64, 0xcc),
    ]),
  );
}

/** The fuse wire as flipped in the packaged app's framework. */
function fuseWire(appDir: string): string {
  const bin = readFileSync(
    join(appDir, 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework'),
  );
  const at = bin.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
  return bin.subarray(at + 2, at + 2 + (bin[at + 1] as number)).toString('latin1');
}

/** Packages the bundled main process loads: static and dynamic imports and createRequire calls. */
function requiredPackages(bundle: string): Set<string> {
  const names = new Set<string>();
  const patterns = [
    /\bfrom "([^"]+)"/g,
    /\bimport\("([^"]+)"\)/g,
    /createRequire\d*\(import\.meta\.url\)\("([^"]+)"\)/g,
  ];
  for (const re of patterns) for (const m of bundle.matchAll(re)) names.add(m[1] as string);
  // A subpath (`zod/v3`, `@scope/pkg/sub`) is loaded from its package.
  const packageOf = (spec: string): string =>
    spec
      .split('/')
      .slice(0, spec.startsWith('@') ? 2 : 1)
      .join('/');
  return new Set(
    [...names].filter((n) => !n.startsWith('node:') && !n.startsWith('.') && n !== 'electron').map(packageOf),
  );
}

describe('macOS app packaging (electron-builder.yml)', { timeout: 120_000 }, () => {
  let config: Record<string, unknown>;
  let appDir: string;
  let files: Set<string>;
  let unpacked: string[];
  let work: { path: string; cleanup: () => void };
  let codesignCalls: string[][];

  after(() => work?.cleanup());

  before(async () => {
    assert.ok(existsSync(join(root, pkg.main)), `${pkg.main} is missing: run \`npm run build\` first`);
    config = await getConfig(root, null, null);
    work = tempDir('exo-sentinel-package-');
    const configPath = join(work.path, 'electron-builder.json');
    const electronDist = writeStubElectronDist(join(work.path, 'electron-dist'), '45.5.0');
    writeStubFramework(join(electronDist, 'Electron.app'));
    // `codesign` exists only on a Mac: a stand-in records each call (one JSON array of arguments per line).
    const bin = join(work.path, 'bin');
    mkdirSync(bin);
    const calls = join(work.path, 'codesign-calls.jsonl');
    writeFileSync(
      join(bin, 'codesign'),
      `#!${process.execPath}\nrequire('node:fs').appendFileSync(${JSON.stringify(calls)}, JSON.stringify(process.argv.slice(2)) + '\\n');\n`,
    );
    chmodSync(join(bin, 'codesign'), 0o755);
    // Same config, unsigned and not notarized (the README's path without a certificate).
    writeFileSync(
      configPath,
      JSON.stringify({
        ...config,
        electronDist,
        directories: { ...(config['directories'] as object), output: join(work.path, 'out') },
        mac: { ...(config['mac'] as object), notarize: false, identity: null },
      }),
    );
    const { build, Platform, Arch } = require('electron-builder') as typeof import('electron-builder');
    process.env['CSC_IDENTITY_AUTO_DISCOVERY'] = 'false';
    const path = process.env['PATH'];
    process.env['PATH'] = `${bin}:${path}`;
    try {
      await build({
        projectDir: root,
        config: configPath,
        targets: Platform.MAC.createTarget('dir', Arch.arm64),
        publish: 'never',
      });
    } finally {
      process.env['PATH'] = path;
    }
    codesignCalls = existsSync(calls)
      ? readFileSync(calls, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as string[])
      : [];
    appDir = join(work.path, 'out', 'mac-arm64', 'exo-sentinel.app');
    const resources = join(appDir, 'Contents', 'Resources');
    files = new Set(
      asar
        .listPackage(join(resources, 'app.asar'), { isPack: false })
        .map((f) => f.split(sep).join('/').slice(1)),
    );
    unpacked = listFiles(join(resources, 'app.asar.unpacked')).map((f) =>
      relative(join(resources, 'app.asar.unpacked'), f),
    );
  });

  it('passes electron-builder schema validation', async () => {
    await validateConfiguration(config, new DebugLogger(false));
  });

  it('an unsigned build flips the fuses and then re-signs the whole bundle ad hoc (Apple Silicon runs nothing unsigned)', () => {
    const fuses = config['electronFuses'] as Record<string, unknown>;
    assert.equal(fuses['resetAdHocDarwinSignature'], true);
    // RunAsNode off, cookie encryption on, NODE_OPTIONS off, --inspect off, asar integrity on, only app.asar on;
    // the two fuses the config leaves alone keep Electron's defaults.
    assert.equal(fuseWire(appDir), '01001100');
    assert.deepEqual(codesignCalls, [
      [
        '--sign',
        '-',
        '--force',
        '--preserve-metadata=entitlements,requirements,flags,runtime',
        '--deep',
        appDir,
      ],
    ]);
  });

  it('builds a menu-bar agent: LSUIElement, bundle id, category, minimum macOS, version', () => {
    const info = parsePlist(readFileSync(join(appDir, 'Contents', 'Info.plist'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(info['LSUIElement'], true);
    assert.equal(info['CFBundleIdentifier'], 'dev.exo-sentinel.menubar');
    assert.equal(info['CFBundleExecutable'], 'exo-sentinel');
    assert.equal(info['LSApplicationCategoryType'], 'public.app-category.utilities');
    assert.equal(info['LSMinimumSystemVersion'], '13.0');
    assert.equal(info['CFBundleShortVersionString'], pkg.version);
    assert.match(String(info['NSLocalNetworkUsageDescription']), /EXO API of the other Macs in your cluster/);
    assert.equal(info['CFBundleIconFile'], 'icon.icns');
    const icns = readFileSync(join(appDir, 'Contents', 'Resources', 'icon.icns'));
    assert.equal(icns.subarray(0, 4).toString('latin1'), 'icns');
  });

  it('asks for no entitlement beyond V8 JIT under the hardened runtime', () => {
    const mac = config['mac'] as Record<string, unknown>;
    assert.equal(mac['hardenedRuntime'], true);
    const entitlements = parsePlist(readFileSync(join(root, String(mac['entitlements'])), 'utf8'));
    assert.deepEqual(entitlements, { 'com.apple.security.cs.allow-jit': true });
  });

  it('packs the entry, preload, dashboard, tray icons and data files the main process reads', () => {
    for (const f of [
      'package.json',
      pkg.main,
      'dist/main/app/platform-advisory.json',
      'dist/main/app/config.schema.json',
      'dist/preload/preload.cjs',
      'dist/renderer/index.html',
      ...Object.values(TRAY_ICONS).flatMap((icon) => [
        `assets/${icon}`,
        `assets/${icon.replace('.png', '@2x.png')}`,
      ]),
    ]) {
      assert.ok(files.has(f), `${f} is in app.asar`);
    }
    for (const [from, to] of [
      ['src/main/core/risk/platform-advisory.json', 'dist/main/app/platform-advisory.json'],
      ['src/main/core/config/config.schema.json', 'dist/main/app/config.schema.json'],
    ] as const)
      assert.equal(readFileSync(join(root, to), 'utf8'), readFileSync(join(root, from), 'utf8'), to);
  });

  it('every package the bundled main process loads is packed, with its dependencies', () => {
    const bundle = readFileSync(join(root, pkg.main), 'utf8');
    const needed = requiredPackages(bundle);
    assert.ok(
      needed.has('better-sqlite3') && needed.has('pino') && needed.has('zod'),
      [...needed].join(', '),
    );
    const seen = new Set<string>();
    // Node's resolution in the project: nested under the dependent first, then each enclosing node_modules.
    // The packer may flatten a nested package, so in app.asar it is either where it is here or hoisted.
    const locate = (name: string, fromDir: string): string | null => {
      for (let dir = fromDir; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
        const candidate = `${dir}/node_modules/${name}`.replace(/^\//, '');
        if (existsSync(join(root, candidate, 'package.json'))) return candidate;
        if (!dir.includes('/node_modules/')) return null;
      }
    };
    const visit = (name: string, fromDir: string, from: string): void => {
      const dir = locate(name, fromDir);
      assert.ok(dir, `${name} (needed by ${from}) is installed`);
      assert.ok(
        files.has(`${dir}/package.json`) || files.has(`node_modules/${name}/package.json`),
        `${name} (needed by ${from}) is in app.asar`,
      );
      if (seen.has(dir)) return;
      seen.add(dir);
      const deps = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      for (const dep of Object.keys(deps.dependencies ?? {})) visit(dep, `/${dir}`, name);
    };
    for (const name of needed) visit(name, '', 'main.js');
    assert.ok(seen.size >= needed.size);
  });

  it("ships no dev tooling, no source maps, no sqlite sources and not the project's own Node", () => {
    for (const dev of Object.keys(pkg.devDependencies)) {
      assert.ok(!files.has(`node_modules/${dev}/package.json`), `dev dependency ${dev} is not packed`);
    }
    assert.deepEqual(
      [...files].filter((f) => f.endsWith('.map')),
      [],
    );
    assert.deepEqual(
      [...files].filter((f) => /^node_modules\/better-sqlite3\/(src|deps|docs)\//.test(f)),
      [],
    );
    assert.deepEqual(
      [...files].filter((f) => /^node_modules\/node-(bin-)?(darwin|linux)-/.test(f)),
      [],
    );
    assert.deepEqual(
      [...files].filter((f) => f.startsWith('src/') || f.startsWith('test/')),
      [],
    );
  });

  it('unpacks exactly one native module: the darwin-arm64 Node-API build of better-sqlite3', () => {
    const natives = [...files].filter((f) => f.endsWith('.node'));
    assert.deepEqual(natives, ['node_modules/better-sqlite3/prebuilds/darwin-arm64.node']);
    assert.deepEqual(
      unpacked,
      ['node_modules/better-sqlite3/prebuilds/darwin-arm64.node'],
      'only the native module is outside app.asar: no JavaScript escapes the integrity check',
    );
  });
});

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}
