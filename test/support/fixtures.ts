import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/support/../..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * test/fixtures: captured macOS outputs, panic excerpts and EXO API shapes, kept in the repository so a
 * fresh clone tests on its own. Each folder's SOURCES.md says where every file came from.
 */
export const fixturesRoot = join(repoRoot, 'test', 'fixtures');

export const fixture = (rel: string): string => readFileSync(join(fixturesRoot, rel), 'utf8');

/** Every file under a fixtures folder, relative to fixturesRoot, SOURCES.md excluded. */
export function listFixtures(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name !== 'SOURCES.md') out.push(relative(fixturesRoot, p));
    }
  };
  walk(join(fixturesRoot, folder));
  return out.sort();
}
