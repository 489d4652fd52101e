import { inputJsonSchema } from '../../util/input-json-schema.js';
import { ScenarioSchema } from './scenario-schema.js';

/** The JSON Schema of a scenario file, written beside its zod schema (scenario.schema.json) by `npm run schemas`; a test keeps the two equal. */
export function generateScenarioJsonSchema(): Record<string, unknown> {
  return {
    ...inputJsonSchema(ScenarioSchema),
    title: 'exo-sentinel replay scenario',
  };
}
