import type { z } from 'zod/v3';
import { zodToJsonSchema } from 'zod-to-json-schema';

/**
 * The JSON Schema (draft-07, which editors read best) of what a zod schema accepts as input: a key with a
 * default is optional and says its default; refinements and transforms are described by the type they start
 * from. Every node inline (no `$ref`), as editors and the Settings tab read it.
 */
export function inputJsonSchema(schema: z.ZodTypeAny): Record<string, unknown> {
  return zodToJsonSchema(schema, {
    target: 'jsonSchema7',
    $refStrategy: 'none',
    effectStrategy: 'input',
    pipeStrategy: 'input',
  }) as Record<string, unknown>;
}
