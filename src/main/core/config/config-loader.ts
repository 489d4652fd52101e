import type { z } from 'zod/v3';
import { jsonErrorText } from '../util/json-error.js';
import { readConfigText } from './config-file-text.js';
import { type Config, type ConfigInput, ConfigSchema } from './config-schema.js';

/** Fields that hold a secret: never served nor quoted in a message, shown masked. */
export const SECRET_FIELDS = ['guard.token', 'cluster.token'] as const;

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** The value as a message quotes it; a BigInt, a cycle or a throwing toJSON falls back to its kind. */
const describeValue = (v: unknown): string => {
  // JSON's 1e400 parses to Infinity, which JSON.stringify would call null.
  if (typeof v === 'number' && !Number.isFinite(v)) return `${v} (a number out of range)`;
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = typeof v === 'bigint' ? `${v}n` : 'a value JSON cannot show';
  }
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** One line per problem: the key, the value found and what is allowed. */
export function formatIssues(issues: z.ZodIssue[], input: unknown, source: string): string[] {
  // A value of the wrong type is that, once: zod still runs the key's other checks on it (a string's
  // minimum length then reads as "expected array to have >=16 items" for an array).
  const wrongType = new Set(
    issues.filter((i) => i.code === 'invalid_type').map((i) => i.path.join('\u0000')),
  );
  const kept = issues.filter((i) => i.code === 'invalid_type' || !wrongType.has(i.path.join('\u0000')));
  return kept.map((i) => {
    if (i.code === 'unrecognized_keys') {
      const at = i.path.length ? `${i.path.join('.')}.` : '';
      return `${source}: unknown key ${i.keys.map((k) => `"${at}${k}"`).join(', ')}`;
    }
    const key = i.path.join('.') || '(top level)';
    // A token (or what holds one) is not quoted: the file's own value may be a real secret mistyped.
    const v = valueAt(input, i.path);
    // What stands where a token's parent goes (`"guard": "<the token>"`) may be a token put one level up.
    const mayHold =
      (typeof v === 'string' || (v !== null && typeof v === 'object')) &&
      SECRET_FIELDS.some((f) => i.path.length === 0 || f.startsWith(`${key}.`));
    const kind = Array.isArray(v)
      ? 'an array'
      : v !== null && typeof v === 'object'
        ? 'an object'
        : `a ${typeof v}`;
    const value = (SECRET_FIELDS as readonly string[]).includes(key)
      ? 'a secret (not shown)'
      : mayHold
        ? `${kind} (not quoted: it may hold a token)`
        : describeValue(v);
    return `${source}: "${key.slice(0, 200)}" is ${value}: ${i.message}`;
  });
}

/** Validates a config object merged from the file and CLI overrides. */
export function validateConfig(input: unknown, source = 'config'): ConfigResult {
  const r = ConfigSchema.safeParse(input ?? {});
  return r.success
    ? { ok: true, config: r.data }
    : { ok: false, errors: formatIssues(r.error.issues, input, source) };
}

/** Reads config.json if present (absent = all defaults), then applies overrides from flags. */
export function loadConfig(
  path: string,
  overrides: Partial<ConfigInput> = {},
  required = false,
): ConfigResult {
  let fromFile: Record<string, unknown> = {};
  const read = readConfigText(path);
  if (read.ok) {
    try {
      const parsed: unknown = JSON.parse(read.text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        return { ok: false, errors: [`${path}: must hold a JSON object`] };
      }
      fromFile = parsed as Record<string, unknown>;
    } catch (e) {
      return { ok: false, errors: [`${path}: not valid JSON (${jsonErrorText(e, read.text)})`] };
    }
  } else if (read.code !== 'ENOENT' || required)
    return { ok: false, errors: [`${path}: cannot read (${read.message})`] };
  const fileCheck = validateConfig(fromFile, path);
  if (!fileCheck.ok) return fileCheck;
  return validateConfig({ ...fromFile, ...overrides }, 'command line');
}
