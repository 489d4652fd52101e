import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fixturesRoot, listFixtures, repoRoot } from '../support/fixtures.js';

/** Every captured output must be parsed by some test: a fixture nobody reads is a platform case nobody checks. */
const COVERED_FOLDERS = ['exo', 'macos', 'panics'];
/** Hand-written source trees (not captured outputs): one SOURCES.md at the top names every file by its path inside. */
const SOURCE_TREES = ['architecture'];

function testSources(): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && name !== 'fixture-coverage.test.ts') out.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(repoRoot, 'test'));
  return out.join('\n');
}

/** test/fixtures and every folder below it, relative to the fixtures root ('' for the root). */
function fixtureFolders(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    out.push(relative(fixturesRoot, dir));
    for (const name of readdirSync(dir)) if (statSync(join(dir, name)).isDirectory()) walk(join(dir, name));
  };
  walk(fixturesRoot);
  return out.sort();
}

describe('fixture coverage', () => {
  const sources = testSources();

  it('reads the fixtures inside the repository (test/fixtures), so a fresh clone tests on its own', () => {
    assert.equal(relative(repoRoot, fixturesRoot), join('test', 'fixtures'));
    const top = readdirSync(fixturesRoot).filter((n) => statSync(join(fixturesRoot, n)).isDirectory());
    assert.deepEqual(
      top.sort(),
      [...COVERED_FOLDERS, ...SOURCE_TREES].sort(),
      'every top-level fixture folder is covered below',
    );
  });

  for (const folder of COVERED_FOLDERS) {
    it(`every file in fixtures/${folder} is read by a test`, () => {
      const files = listFixtures(folder);
      assert.ok(files.length > 0);
      const unread = files.filter((f) => !sources.includes(f.split('/').pop()!));
      assert.deepEqual(unread, []);
    });
  }

  it('every fixture folder has a SOURCES.md that names each of its files', () => {
    const problems: string[] = [];
    const inTree = (f: string): boolean => SOURCE_TREES.some((t) => f.startsWith(`${t}/`));
    for (const folder of fixtureFolders().filter((f) => f !== '' && !inTree(f))) {
      const dir = join(fixturesRoot, folder);
      const sourcesMd = join(dir, 'SOURCES.md');
      if (!existsSync(sourcesMd)) {
        problems.push(`test/fixtures/${folder}: no SOURCES.md`);
        continue;
      }
      const text = readFileSync(sourcesMd, 'utf8');
      const tree = SOURCE_TREES.includes(folder);
      const names = tree
        ? listFixtures(folder).map((f) => relative(folder, f))
        : readdirSync(dir).filter((n) => !statSync(join(dir, n)).isDirectory());
      for (const name of names) {
        if (name === 'SOURCES.md') continue;
        if (!text.includes(`\`${name}\``))
          problems.push(`test/fixtures/${folder}/SOURCES.md does not name \`${name}\``);
      }
    }
    assert.deepEqual(problems, []);
  });

  for (const tree of SOURCE_TREES) {
    it(`the ${tree} tree is read by its test`, () => {
      assert.match(sources, new RegExp(`fixturesRoot, '${tree}'`));
    });
  }
});
