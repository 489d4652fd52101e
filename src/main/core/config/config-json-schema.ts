import { createRequire } from 'node:module';
import { isObj as isNode, type Obj as Node } from './dotted-keys.js';

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

let served: Node | null = null;

/**
 * The configuration file's JSON Schema (draft-07): `config.schema.json` beside this module, generated from the
 * zod schema that validates the file (`npm run schemas`, config-json-schema-generate.ts; a test keeps the two
 * equal). Read, not generated, at run time: the generator and its library cost the daemon 2 MiB for a
 * document that never changes between builds. Read once (GET /api/v1/config/schema may be asked in a loop);
 * every caller gets the same object and none changes it.
 */
export function configJsonSchema(): Node {
  served ??= createRequire(import.meta.url)('./config.schema.json') as Node;
  return served;
}
