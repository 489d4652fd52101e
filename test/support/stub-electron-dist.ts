import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build as buildPlist } from 'plist';

/**
 * A stand-in for the unpacked Electron.app that electron-builder copies and renames (the real one is
 * downloaded from GitHub, which this machine cannot reach): the bundle layout and Info.plist keys the
 * packager reads, with shell scripts in place of the binaries. Enough to package `--dir`; nothing runs.
 */
export function writeStubElectronDist(dir: string, version: string): string {
  const bundle = (root: string, name: string, id: string): void => {
    mkdirSync(join(root, 'Contents', 'MacOS'), { recursive: true });
    mkdirSync(join(root, 'Contents', 'Resources'), { recursive: true });
    const exe = join(root, 'Contents', 'MacOS', name);
    writeFileSync(exe, '#!/bin/sh\nexit 0\n');
    chmodSync(exe, 0o755);
    writeFileSync(
      join(root, 'Contents', 'Info.plist'),
      buildPlist({
        CFBundleExecutable: name,
        CFBundleIdentifier: id,
        CFBundleName: name,
        CFBundleDisplayName: name,
        CFBundlePackageType: 'APPL',
        CFBundleVersion: version,
        CFBundleShortVersionString: version,
      }),
    );
  };
  const app = join(dir, 'Electron.app');
  bundle(app, 'Electron', 'com.github.Electron');
  for (const suffix of ['', ' (GPU)', ' (Renderer)', ' (Plugin)']) {
    const name = `Electron Helper${suffix}`;
    bundle(join(app, 'Contents', 'Frameworks', `${name}.app`), name, 'com.github.Electron.helper');
  }
  return dir;
}
