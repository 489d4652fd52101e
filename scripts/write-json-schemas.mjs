#!/usr/bin/env node
// Writes the JSON Schemas generated from the zod schemas: the configuration's (served by the daemon, read by
// editors) and a replay scenario's. `npm run schemas` runs it after a build and copies the results into dist/,
// where the daemon and the app read them. Tests keep both equal to what the zod schemas generate, so a changed
// schema fails until this is run.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { generateConfigJsonSchema } from '../dist/main/core/config/config-json-schema-generate.js';
import { generateScenarioJsonSchema } from '../dist/main/core/risk/replay/scenario-json-schema.js';

const files = {
  'src/main/core/config/config.schema.json': generateConfigJsonSchema(),
  'src/main/core/risk/replay/scenario.schema.json': generateScenarioJsonSchema(),
};
for (const [file, schema] of Object.entries(files)) writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
const biome = spawnSync('node_modules/.bin/biome', ['format', '--write', ...Object.keys(files)], {
  stdio: 'inherit',
});
process.exitCode = biome.status ?? 1;
