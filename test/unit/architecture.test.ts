import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import { fixturesRoot, repoRoot } from '../support/fixtures.js';

interface RuleConfig {
  forbidden: NonNullable<Parameters<typeof cruise>[1]>['ruleSet'] extends infer R
    ? R extends { forbidden?: infer F }
      ? F
      : never
    : never;
  options: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const config = require(join(repoRoot, '.dependency-cruiser.cjs')) as RuleConfig;

/** Runs the project's rules over `src` under baseDir, the way `npm run lint` does. */
async function cruiseSrc(baseDir: string): Promise<ICruiseResult['summary']> {
  const { tsConfig: _tsConfig, ...options } = config.options;
  const result = await cruise(
    ['src'],
    { ...options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } },
    // Sources import './x.js' and the file is x.ts, as tsc's NodeNext resolution allows.
    { extensionAlias: { '.js': ['.ts', '.js'] } },
  );
  return (result.output as ICruiseResult).summary;
}

async function violations(baseDir: string): Promise<IViolation[]> {
  return (await cruiseSrc(baseDir)).violations;
}

function named(list: IViolation[], rule: string): string[] {
  return list.filter((v) => v.rule.name === rule).map((v) => `${v.from} -> ${v.to}`);
}

describe('architecture rules (.dependency-cruiser.cjs)', () => {
  it('reports each deliberate bad import of the fixture tree by rule name', async () => {
    const found = await violations(join(fixturesRoot, 'architecture'));
    assert.deepEqual(named(found, 'core-not-shells'), [
      'src/main/core/core-to-shell.ts -> src/main/headless/cli.ts',
    ]);
    assert.deepEqual(named(found, 'no-circular'), ['src/main/core/cycle-a.ts -> src/main/core/cycle-b.ts']);
    assert.deepEqual(named(found, 'renderer-no-node'), ['src/renderer/view.ts -> fs']);
    assert.deepEqual(named(found, 'renderer-only-shared'), ['src/renderer/view.ts -> fs']);
    assert.deepEqual(named(found, 'daemon-only-from-roots'), [
      'src/main/core/uses-root.ts -> src/main/core/daemon.ts',
    ]);
    assert.deepEqual(named(found, 'daemon-parts-only-from-root'), [
      'src/main/core/uses-daemon-part.ts -> src/main/core/daemon/part.ts',
    ]);
    const electron = named(found, 'electron-only-in-app');
    assert.equal(electron.length, 1, electron.join(', '));
    // 'electron' resolves to the repository's node_modules from the fixture tree.
    assert.match(electron[0] ?? '', /^src\/main\/headless\/uses-electron\.ts -> .*node_modules\/electron\//);
    // A zod schema reached from the window, through shared (src/shared/schemas.ts is fine for main).
    const zod = named(found, 'window-no-zod');
    assert.equal(zod.length, 1, zod.join(', '));
    assert.match(zod[0] ?? '', /^src\/renderer\/form\.ts -> .*node_modules\/zod\//);
    // The `import type` cycle and renderer -> shared types are allowed: nothing else is reported.
    assert.equal(found.length, 8, JSON.stringify(found.map((v) => [v.rule.name, v.from, v.to])));
  });

  it('finds no violation in the real source tree', async () => {
    const summary = await cruiseSrc(repoRoot);
    const found = summary.violations;
    // The whole tree was read (the CLI reports ~240 modules), not an empty match.
    assert.ok(summary.totalCruised > 150, `only ${summary.totalCruised} modules cruised`);
    assert.deepEqual(
      found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
      [],
    );
  });
});
