import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/support/../..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** ../shared/fixtures beside the repository, or EXO_SENTINEL_FIXTURES. */
export const fixturesRoot =
  process.env['EXO_SENTINEL_FIXTURES'] ?? resolve(repoRoot, '..', 'shared', 'fixtures');

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
