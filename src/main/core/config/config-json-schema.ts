import { z } from 'zod';
import { CONFIG_HELP } from './config-help.js';
import { needsRestart } from './config-keys.js';
import { ConfigSchema } from './config-schema.js';
import { EXECUTABLE_FIELDS, SECRET_FIELDS } from './config-update.js';

type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The node at a dotted key, following `properties` (null when the schema has no such key). */
export function schemaNodeAt(schema: Node, dotted: string): Node | null {
  let cur: Node = schema;
  for (const k of dotted.split('.')) {
    const props = cur['properties'];
    if (!isNode(props) || !isNode(props[k])) return null;
    cur = props[k];
  }
  return cur;
}

/** Every dotted key the schema knows, parents before children (`guard`, `guard.listen`, …), `$schema` left out. */
export function configKeys(schema: Node = configJsonSchema()): string[] {
  const out: string[] = [];
  const walk = (node: Node, at: string): void => {
    const props = node['properties'];
    if (!isNode(props)) return;
    for (const [k, child] of Object.entries(props)) {
      if (k === '$schema' || !isNode(child)) continue;
      const key = at ? `${at}.${k}` : k;
      out.push(key);
      walk(child, key);
    }
  };
  walk(schema, '');
  return out;
}

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

let built: Node | null = null;

/**
 * The configuration file's JSON Schema (draft 2020-12), generated from the zod schema that validates it, so
 * the two cannot disagree; every key has a one-line `description` (config-help.ts). Beyond the standard keywords: `writeOnly` and `x-secret` on tokens (never served,
 * shown masked), `x-file-only` on fields only the file may change (a program to run), `x-restart-required`
 * on what a running daemon takes only at its next start. Built once (about 1.4 ms of the event loop each
 * time, and GET /api/v1/config/schema may be asked in a loop); every caller gets the same object and none
 * changes it.
 */
export function configJsonSchema(): Node {
  built ??= buildConfigJsonSchema();
  return built;
}

function buildConfigJsonSchema(): Node {
  const generated = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Node;
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
