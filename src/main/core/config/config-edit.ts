import { configJsonSchema, schemaNodeAt } from './config-json-schema.js';
import { formatIssues } from './config-loader.js';
import { type Config, ConfigSchema } from './config-schema.js';
import { maskConfig } from './config-update.js';
import { type Obj, valueAt, withoutKey, withValue } from './dotted-keys.js';

/** Keys as a person types them: dotted names of letters and digits (`guard.queue.max`), or `$schema`. */
const KEY = /^(?:\$schema|[A-Za-z][A-Za-z0-9]{0,63}(?:\.[A-Za-z][A-Za-z0-9]{0,63}){0,7})$/;

let schema: Obj | null = null;

/** Why `key` is not a configuration key (null when it is one). */
export function checkKey(key: string): string | null {
  if (!KEY.test(key))
    return `"${key.slice(0, 80)}" is not a configuration key (dotted names, e.g. guard.contextCap)`;
  schema ??= configJsonSchema();
  if (schemaNodeAt(schema, key)) return null;
  const parent = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
  const node = parent ? schemaNodeAt(schema, parent) : schema;
  const props = node?.['properties'];
  const known = props && typeof props === 'object' ? Object.keys(props) : [];
  return `unknown key "${key}"${known.length ? `; ${parent ? `${parent}.` : ''}* is one of ${known.join(', ')}` : ''}`;
}

/** A value from the command line: JSON when it parses (numbers, true, null, arrays, objects), else the text. */
export function parseCliValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export type EditResult =
  | { ok: true; stored: Obj; config: Config; value: unknown }
  | { ok: false; errors: string[] };

/**
 * The stored file with `key` set from the command-line text, validated whole. Text that parses as JSON is
 * taken as JSON, unless only the plain text is valid there (a token of digits stays a string).
 */
export function setKey(stored: Obj, key: string, raw: string, where = 'config set'): EditResult {
  const bad = checkKey(key);
  if (bad) return { ok: false, errors: [`${where}: ${bad}`] };
  const parsed = parseCliValue(raw);
  const candidates = parsed === raw ? [raw] : [parsed, raw];
  let first: string[] | null = null;
  for (const value of candidates) {
    const next = withValue(stored, key, value);
    const r = ConfigSchema.safeParse(next);
    if (r.success) return { ok: true, stored: next, config: r.data, value };
    first ??= formatIssues(r.error.issues, next, where);
  }
  return { ok: false, errors: first ?? [] };
}

/** The stored file without `key` (its default applies again), validated whole. */
export function unsetKey(stored: Obj, key: string, where = 'config unset'): EditResult {
  const bad = checkKey(key);
  if (bad) return { ok: false, errors: [`${where}: ${bad}`] };
  const next = withoutKey(stored, key);
  const r = ConfigSchema.safeParse(next);
  return r.success
    ? { ok: true, stored: next, config: r.data, value: undefined }
    : { ok: false, errors: formatIssues(r.error.issues, next, where) };
}

/** The effective value at `key` (defaults filled in), secrets masked unless asked for. */
export function getKey(
  config: Config,
  key: string | undefined,
  showSecrets: boolean,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const shown = showSecrets ? config : maskConfig(config);
  if (key === undefined) return { ok: true, value: shown };
  const bad = checkKey(key);
  if (bad) return { ok: false, error: bad };
  return { ok: true, value: valueAt(shown, key) ?? null };
}
