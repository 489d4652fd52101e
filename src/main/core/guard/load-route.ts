/**
 * Which requests put model weights on this cluster's GPUs, judged as EXO's server routes them:
 * - `POST /instance` and `POST /place_instance` load a model;
 * - `POST /instance/{instance_id}/rebalance` (newer EXO) live-migrates an instance's layers between pipeline
 *   ranks, the gaining rank loading each moved layer's weights, unless its `dry_run` query parameter is true.
 *   Its `GET …/rebalance/preview` plans without moving anything and is not a load.
 */
const LOAD_PATHS = new Set(['/instance', '/place_instance']);
/** Starlette's `{instance_id}` matches one non-empty segment. */
const REBALANCE = /^\/instance\/[^/]+\/rebalance$/;
/** What pydantic accepts as true for a bool query parameter (case-insensitive). */
const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);

/**
 * Whether `dry_run` is true in EXO's reading of the query: FastAPI takes the last of repeated values, so a
 * rebalance counts as a dry run only when every value given is one pydantic reads as true. Anything else
 * (absent, false, malformed: EXO answers 422 to the last) is judged as a real rebalance.
 */
function isDryRun(query: string): boolean {
  const values = new URLSearchParams(query).getAll('dry_run');
  return values.length > 0 && values.every((v) => TRUE_WORDS.has(v.toLowerCase()));
}

export interface LoadRoute {
  kind: 'load' | 'rebalance';
  /**
   * The route as records name it: the path template for a rebalance, so that a client naming a new instance
   * in each request cannot open a new refusal window (one event each) in the allocation log.
   */
  endpoint: string;
}

/** The load a request is, or null. `key` is the decoded route key, `target` the forwarded target (with its query). */
export function loadRoute(method: string, key: string, target: string): LoadRoute | null {
  if (method !== 'POST') return null;
  if (LOAD_PATHS.has(key)) return { kind: 'load', endpoint: key };
  if (!REBALANCE.test(key)) return null;
  const q = target.indexOf('?');
  if (q >= 0 && isDryRun(target.slice(q + 1))) return null;
  return { kind: 'rebalance', endpoint: '/instance/{instance_id}/rebalance' };
}
