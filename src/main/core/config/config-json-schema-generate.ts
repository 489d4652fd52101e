import { inputJsonSchema } from '../util/input-json-schema.js';
import { CONFIG_HELP } from './config-help.js';
import { schemaNodeAt } from './config-json-schema.js';
import { needsRestart } from './config-keys.js';
import { ConfigSchema } from './config-schema.js';
import { EXECUTABLE_FIELDS, SECRET_FIELDS } from './config-update.js';
import { isObj as isNode, type Obj as Node } from './dotted-keys.js';

function annotate(node: Node, key: string): void {
  const help = CONFIG_HELP[key];
  if (help) node['description'] = help;
  if (key && needsRestart(key)) node['x-restart-required'] = true;
  const props = node['properties'];
  if (!isNode(props)) return;
  for (const [k, child] of Object.entries(props)) {
    if (isNode(child) && k !== '$schema') annotate(child, key ? `${key}.${k}` : k);
  }
}

/**
 * The configuration file's JSON Schema (draft-07) as the zod schema that validates it describes it, so the two
 * cannot disagree; every key has a one-line `description` (config-help.ts). Beyond the standard keywords:
 * `writeOnly` and `x-secret` on tokens (never served, shown masked), `x-file-only` on fields only the file may
 * change (a program to run), `x-restart-required` on what a running daemon takes only at its next start.
 * Written to config.schema.json by `npm run schemas`; the daemon serves that file.
 */
export function generateConfigJsonSchema(): Node {
  const generated = inputJsonSchema(ConfigSchema);
  const schema: Node = {
    $schema: generated['$schema'],
    title: 'exo-sentinel configuration',
    description:
      'config.json of the exo-sentinel daemon. Every key is optional; an absent key takes its default. Unknown keys are errors.',
    ...generated,
  };
  annotate(schema, '');
  for (const f of SECRET_FIELDS) {
    const n = schemaNodeAt(schema, f);
    if (n) Object.assign(n, { writeOnly: true, 'x-secret': true });
  }
  for (const f of EXECUTABLE_FIELDS) {
    const n = schemaNodeAt(schema, f);
    if (n) n['x-file-only'] = true;
  }
  return schema;
}
