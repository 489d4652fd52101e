import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listFixtures, repoRoot } from '../support/fixtures.js';

/** Every captured output must be parsed by some test: a fixture nobody reads is a platform case nobody checks. */
const COVERED_FOLDERS = ['macos', 'panics', 'exo'];

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

describe('fixture coverage', () => {
  const sources = testSources();
  for (const folder of COVERED_FOLDERS) {
    it(`every file in fixtures/${folder} is read by a test`, () => {
      const files = listFixtures(folder);
      assert.ok(files.length > 0);
      const unread = files.filter((f) => !sources.includes(f.split('/').pop()!));
      assert.deepEqual(unread, []);
    });
  }
});
