import { z } from 'zod/v3';
import { checkKey } from './config-edit.js';
import { type ClientSaveResult, readStoredConfig, saveClientConfig } from './config-update.js';
import { isObj, type Obj, withoutKey, withValue } from './dotted-keys.js';

/** Keys one change may name (the schema has fewer than 120). */
const MAX_KEYS = 256;

/**
 * A change to some keys of the stored configuration: `set` gives dotted keys their values, `unset` removes
 * keys so their defaults apply again. What is not named stays as the file has it.
 */
export const ConfigPatchSchema = z
  .object({
    set: z
      .record(z.string().max(600), z.unknown())
      .refine((o) => Object.keys(o).length <= MAX_KEYS, { message: `at most ${MAX_KEYS} keys` })
      .optional(),
    unset: z.array(z.string().max(600)).max(MAX_KEYS).optional(),
  })
  .strict();

export type ConfigPatch = z.infer<typeof ConfigPatchSchema>;

/**
 * The stored file with a change made on it (not the running configuration, which may carry command-line
 * overrides and restart-pending values), keys checked against the schema. Not yet checked as a whole nor
 * saved: a full write (masked secrets, programs to run, validation) does that.
 */
export function patchedConfig(
  path: string,
  input: unknown,
  where = 'config',
): { ok: true; value: Obj } | { ok: false; errors: string[]; reason: 'refused' | 'write-failed' } {
  // The schema drops a `__proto__` key of `set` without a word: refused here, as any other non-key is.
  const set0 = isObj(input) ? input['set'] : undefined;
  if (isObj(set0) && Object.hasOwn(set0, '__proto__'))
    return { ok: false, errors: [`${where}: "__proto__" is not a configuration key`], reason: 'refused' };
  const p = ConfigPatchSchema.safeParse(input);
  if (!p.success)
    return {
      ok: false,
      errors: [
        `${where}: a change is {"set": {"dotted.key": value}, "unset": ["dotted.key"]} (${p.error.issues
          .map((i) => `${i.path.join('.').slice(0, 120) || 'body'}: ${i.message}`)
          .join('; ')})`,
      ],
      reason: 'refused',
    };
  const set = p.data.set ?? {};
  const unset = p.data.unset ?? [];
  const bad = [...unset, ...Object.keys(set)].map(checkKey).filter((e): e is string => e !== null);
  if (bad.length) return { ok: false, errors: bad.map((e) => `${where}: ${e}`), reason: 'refused' };
  const stored = readStoredConfig(path);
  if (!stored.ok) return { ok: false, errors: [`${where}: ${stored.error}`], reason: 'write-failed' };
  let next: Obj = stored.value;
  for (const k of unset) next = withoutKey(next, k);
  for (const [k, v] of Object.entries(set)) next = withValue(next, k, v);
  return { ok: true, value: next };
}

/** A change made on the stored file, then checked and saved as a full write is. */
export function patchClientConfig(path: string, input: unknown, where = 'config'): ClientSaveResult {
  const next = patchedConfig(path, input, where);
  return next.ok ? saveClientConfig(path, next.value, where) : next;
}
