/**
 * The Settings form's reading of the configuration's JSON Schema: each leaf key as a field specification
 * (its input kind, whether it is a secret, file-only or waits for a restart) and the small value helpers the
 * form and the raw view share.
 */
import type { JsonSchemaNode } from '../../shared/api-contracts.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
export const same = (a: unknown, b: unknown): boolean =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export function valueAt(o: unknown, dotted: string): unknown {
  let cur = o;
  for (const k of dotted.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export function withValue(o: Obj, dotted: string, v: unknown): Obj {
  const [head, ...rest] = dotted.split('.');
  const key = head!;
  if (rest.length === 0) return { ...o, [key]: v };
  return { ...o, [key]: withValue(isObj(o[key]) ? o[key] : {}, rest.join('.'), v) };
}

/** The kinds of input a schema node maps to. */
export type Kind = 'boolean' | 'enum' | 'number' | 'integer' | 'string' | 'lines' | 'json';

export interface FieldSpec {
  key: string;
  node: JsonSchemaNode;
  /** The node without its `null` alternative. */
  base: JsonSchemaNode;
  nullable: boolean;
  kind: Kind;
  secret: boolean;
  fileOnly: boolean;
  restart: boolean;
}

/** A node's type, leaving out `null` (draft-07 writes a nullable scalar as `"type": ["number", "null"]`). */
const typeOf = (n: JsonSchemaNode): string | undefined =>
  Array.isArray(n.type) ? n.type.find((t) => t !== 'null') : n.type;

export function spec(key: string, node: JsonSchemaNode): FieldSpec {
  const alts = node.anyOf ?? [];
  const nonNull = alts.filter((a) => typeOf(a) !== 'null');
  const nullable = alts.length > nonNull.length || (Array.isArray(node.type) && node.type.includes('null'));
  const base: JsonSchemaNode = nonNull.length === 1 ? { ...node, ...nonNull[0] } : node;
  const t = typeOf(base);
  const kind: Kind = base.enum
    ? 'enum'
    : t === 'boolean'
      ? 'boolean'
      : t === 'integer'
        ? 'integer'
        : t === 'number'
          ? 'number'
          : t === 'string'
            ? 'string'
            : t === 'array' && typeOf(base.items ?? {}) === 'string'
              ? 'lines'
              : 'json';
  return {
    key,
    node,
    base,
    nullable,
    kind,
    secret: node['x-secret'] === true || node.writeOnly === true,
    fileOnly: node['x-file-only'] === true,
    restart: node['x-restart-required'] === true,
  };
}

/** Leaves of the schema under `node` (objects with properties are walked, not fields). */
export function leaves(node: JsonSchemaNode, at: string): FieldSpec[] {
  const out: FieldSpec[] = [];
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    if (k === '$schema') continue;
    const key = at ? `${at}.${k}` : k;
    if (child.properties && typeOf(child) === 'object') out.push(...leaves(child, key));
    else out.push(spec(key, child));
  }
  return out;
}

export const shownValue = (v: unknown): string =>
  v === null || v === undefined ? 'none' : Array.isArray(v) ? v.join(', ') || 'none' : String(v);

export function limits(b: JsonSchemaNode): string | null {
  // A bound at the edge of the safe integers is no bound a person needs to read (an integer's own range).
  const min = b.minimum !== undefined && b.minimum > -Number.MAX_SAFE_INTEGER ? b.minimum : undefined;
  const lo = min ?? (b.exclusiveMinimum !== undefined ? `> ${b.exclusiveMinimum}` : undefined);
  const hi = b.maximum !== undefined && b.maximum < Number.MAX_SAFE_INTEGER ? b.maximum : undefined;
  if (lo === undefined && hi === undefined) return null;
  if (typeof lo === 'string') return hi === undefined ? lo : `${lo}, ≤ ${hi}`;
  return lo !== undefined && hi !== undefined ? `${lo} to ${hi}` : lo !== undefined ? `≥ ${lo}` : `≤ ${hi}`;
}

/** Whether a list of dotted keys names `key`, a key above it or one below it. */
export const covers = (list: string[], key: string): boolean =>
  list.some((k) => k === key || key.startsWith(`${k}.`) || k.startsWith(`${key}.`));
