import { dirname, join } from 'node:path';
import { readSmallFile } from '../util/small-file.js';

export interface ExoVersion {
  version: string;
  source: 'app-bundle' | 'source-checkout' | 'unknown';
  detail: string | null;
}

/**
 * Info.plist, pyproject.toml and git's HEAD are a few KiB. The paths come from a process's argv (any local
 * user can start one that looks like EXO): read only small regular files, so a FIFO or /dev/zero there
 * cannot hold the event loop or fill memory.
 */
const MAX_VERSION_FILE_BYTES = 256 * 1024;

const read = (p: string): string | null => {
  const r = readSmallFile(p, MAX_VERSION_FILE_BYTES);
  return r.ok ? r.text : null;
};

/** CFBundleShortVersionString from an XML Info.plist. */
export function plistShortVersion(xml: string): string | null {
  return /<key>CFBundleShortVersionString<\/key>\s*<string>([^<]+)<\/string>/.exec(xml)?.[1]?.trim() ?? null;
}

/** `version = "1.0.71"` in pyproject.toml's [project] table. */
export function pyprojectVersion(toml: string): string | null {
  const project = /^\[project\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(toml)?.[1] ?? '';
  return /^\s*version\s*=\s*"([^"]+)"/m.exec(project)?.[1] ?? null;
}

/**
 * EXO's version, read from the app bundle or the source checkout the running main process comes from —
 * never guessed: `unknown` when neither says.
 */
export function readExoVersion(options: { appPlist?: string; exoArgv?: string[] } = {}): ExoVersion {
  const plistPath = options.appPlist ?? '/Applications/EXO.app/Contents/Info.plist';
  const plist = read(plistPath);
  const fromPlist = plist ? plistShortVersion(plist) : null;
  if (fromPlist) return { version: fromPlist, source: 'app-bundle', detail: plistPath };
  // Source installs run `<repo>/.venv/bin/python3 <repo>/.venv/bin/exo`.
  const script = options.exoArgv?.find((a) => /\/\.venv\/bin\/exo$/.test(a));
  if (script) {
    const repo = dirname(dirname(dirname(script)));
    const version = pyprojectVersion(read(join(repo, 'pyproject.toml')) ?? '');
    if (version) {
      const head = read(join(repo, '.git', 'HEAD'))?.trim() ?? '';
      const ref = /^ref: (.+)$/.exec(head)?.[1];
      const commit = (ref ? read(join(repo, '.git', ref))?.trim() : head) ?? '';
      const short = /^[0-9a-f]{40}$/.test(commit) ? commit.slice(0, 7) : null;
      return { version: short ? `${version} (${short})` : version, source: 'source-checkout', detail: repo };
    }
  }
  return { version: 'unknown', source: 'unknown', detail: null };
}
