import { jsonErrorText } from '../util/json-error.js';
import { readConfigText } from './config-file-text.js';
import { SECRET_FIELDS } from './config-loader.js';
import { type Config, ConfigSchema } from './config-schema.js';
import { type SaveResult, saveConfigFile } from './config-writer.js';

/** Fields that hold a secret (config-loader.ts): a masked value sent back keeps the stored one. */
export { SECRET_FIELDS };

/**
 * Fields that name a program to run or a file to execute. Only editing the configuration file sets them: a
 * write through the API or the app's IPC that changes one is refused, so no remote write makes a program run.
 */
export const EXECUTABLE_FIELDS = ['actions.notify.command', 'gpu.mlxPython'] as const;

/**
 * Fields only the daemon's owner may change: a write through the HTTP API that changes one needs the bearer
 * token even on loopback (as naming directories to scan does). Any local user can reach the loopback API;
 * only the owner can read `<data>/api-token`. Each field says why it is the owner's.
 */
export const OWNER_FIELD_REASONS = {
  'reports.dirs': "makes the daemon read a path of the writer's choosing",
  'exo.home': "makes the daemon read a path of the writer's choosing",
  'watch.exoPidfile': "makes the daemon read a path of the writer's choosing",
  'guard.upstreamCaFile': "makes the daemon read a path of the writer's choosing",
  'exo.url': "points the daemon, and the guard's clients, at another machine",
  'cluster.peers': 'points the daemon, and its cluster token, at other machines',
  'guard.listen': 'opens the guard, and EXO behind it, to other machines',
  'guard.token': 'decides who may use the guard',
  'api.listen': 'opens this API to other machines',
  'api.allowedHosts': 'opens this API to other host names',
  'guard.allowedHosts': 'opens the guard, and EXO behind it, to other host names',
  'guard.corsOrigins': 'opens the guard, and EXO behind it, to web pages',
  'api.corsOrigins': 'opens this API to web pages',
  'cluster.token': 'decides who may read this node as a cluster peer',
  // A pattern that backtracks can hold the daemon on a command line any local user can write.
  'watch.mlxServerPatterns': "is run over every process's command line",
  // Shortened, the next retention pass deletes the stored timeline past it; lengthened, it grows the disk.
  'retention.rawDays': 'decides how long the stored timeline is kept (shortened, history is deleted)',
  'retention.minuteDays': 'decides how long the stored timeline is kept (shortened, history is deleted)',
  // Any local user could otherwise turn the watchdog against EXO: unload its models (and the work running on
  // them) at elevated, or at every level. The guard's mode at each level is no more than a hand pin (below).
  'actions.unload': "decides when the daemon unloads EXO's models on this node",
  // Off, every action runs for real: an unload the owner left recorded-only would happen.
  'actions.dryRun': "decides whether the daemon's actions run (unloading EXO's models among them)",
  // What decides the level decides when those actions run: a tokenless risk.freeCritical of 100 had EXO's
  // models unloaded within seconds, or waited in the file for the owner to turn unloading on.
  risk: "sets the thresholds the level is judged by (and with it when EXO's models are unloaded)",
  'gpu.ceilingBytes': 'sets the Metal ceiling the GPU signals measure against (and with it the level)',
} as const;

export const OWNER_FIELDS = Object.keys(OWNER_FIELD_REASONS) as Array<keyof typeof OWNER_FIELD_REASONS>;

const MASK_PREFIX = '••••';

/** What a client sees instead of a token: the mask and the last 4 characters. */
export const maskSecret = (token: string): string => `${MASK_PREFIX}${token.slice(-4)}`;

const isMasked = (v: unknown): v is string => typeof v === 'string' && v.startsWith(MASK_PREFIX);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function valueAt(input: unknown, dotted: string): unknown {
  let cur: unknown = input;
  for (const k of dotted.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** A copy of `input` with `dotted` set to `value` (parents created as needed). */
function withValue(input: Obj, dotted: string, value: unknown): Obj {
  const [head, ...rest] = dotted.split('.');
  const key = head!;
  if (rest.length === 0) return { ...input, [key]: value };
  const child = isObj(input[key]) ? (input[key] as Obj) : {};
  return { ...input, [key]: withValue(child, rest.join('.'), value) };
}

/** The configuration as clients may see it: every secret masked (null stays null). */
export function maskConfig(config: Config): Config {
  let out = config as unknown as Obj;
  for (const f of SECRET_FIELDS) {
    const v = valueAt(out, f);
    if (typeof v === 'string') out = withValue(out, f, maskSecret(v));
  }
  return out as unknown as Config;
}

/** The configuration file as stored (an absent file is `{}`; an unreadable one is an error). */
export function readStoredConfig(path: string): { ok: true; value: Obj } | { ok: false; error: string } {
  const read = readConfigText(path);
  if (!read.ok)
    return read.code === 'ENOENT'
      ? { ok: true, value: {} }
      : { ok: false, error: `cannot read ${path} (${read.message})` };
  const text = read.text;
  try {
    const v: unknown = JSON.parse(text);
    return isObj(v) ? { ok: true, value: v } : { ok: false, error: `${path} does not hold a JSON object` };
  } catch (e) {
    return { ok: false, error: `${path} is not valid JSON (${jsonErrorText(e, text)})` };
  }
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Checks a configuration sent by a client against the stored one: masked secrets are put back (a mask that
 * is not the stored token's is refused), and a change to any executable field is refused, naming it.
 */
export function prepareClientConfig(
  input: unknown,
  stored: Obj,
  where = 'config',
  owner = true,
): { ok: true; value: Obj } | { ok: false; errors: string[]; reason?: 'needs-token' } {
  if (!isObj(input)) return { ok: false, errors: [`${where}: must be a JSON object`] };
  const errors: string[] = [];
  let value = input;
  for (const f of SECRET_FIELDS) {
    const sent = valueAt(value, f);
    if (!isMasked(sent)) continue;
    const kept = valueAt(stored, f);
    if (typeof kept === 'string' && sent === maskSecret(kept)) value = withValue(value, f, kept);
    else
      errors.push(
        `${where}: "${f}" is a masked value that is not the stored token's; send the new token itself, or null`,
      );
  }
  for (const f of EXECUTABLE_FIELDS) {
    if (!same(valueAt(value, f), valueAt(stored, f)))
      errors.push(
        `${where}: "${f}" names a program to run and cannot be changed from here; edit the configuration file`,
      );
  }
  if (errors.length) return { ok: false, errors };
  // Compared with defaults filled in: a whole configuration sent back (defaults and all) changes nothing.
  const effective = (o: Obj): unknown => {
    const r = ConfigSchema.safeParse(o);
    return r.success ? r.data : o;
  };
  // An input that does not validate is refused as invalid (400) later: it changes nothing either way.
  const valid = !owner && ConfigSchema.safeParse(value).success;
  const [now, next] = valid ? [effective(stored), effective(value)] : [null, null];
  const gated = valid ? OWNER_FIELDS.filter((f) => !same(valueAt(next, f), valueAt(now, f))) : [];
  if (gated.length)
    return {
      ok: false,
      reason: 'needs-token',
      errors: gated.map(
        (f) =>
          `${where}: "${f}" ${OWNER_FIELD_REASONS[f]}: changing it needs the bearer token even on loopback (<data>/api-token)`,
      ),
    };
  return { ok: true, value };
}

export type ClientSaveResult =
  | SaveResult
  | { ok: false; errors: string[]; reason: 'refused' | 'needs-token' };

/**
 * A configuration write from the API or the app: protected fields checked, then validated and saved.
 * `owner`: the writer showed the API token (or is the app itself); without it OWNER_FIELDS stay as stored.
 */
export function saveClientConfig(
  path: string,
  input: unknown,
  where = 'config',
  owner = true,
): ClientSaveResult {
  const stored = readStoredConfig(path);
  if (!stored.ok) return { ok: false, errors: [`${where}: ${stored.error}`], reason: 'write-failed' };
  const prepared = prepareClientConfig(input, stored.value, where, owner);
  if (!prepared.ok) return { ok: false, errors: prepared.errors, reason: prepared.reason ?? 'refused' };
  return saveConfigFile(path, prepared.value, where);
}
