import { num } from '../../../shared/narrow.js';
import type {
  ExoFailureView,
  ExoNodeIdentityView,
  ExoNodeMemoryView,
  ExoRunnerView,
  ExoTaskView,
} from '../../../shared/status-view.js';
import { finiteNumber } from '../util/finite.js';
import { plainText } from '../util/format.js';
import type { ModelCardShape, ShardShape } from './kv-estimator.js';

/**
 * EXO's `/state/<key>` bodies → compact, typed views. `/state` is camelCase, tagged unions are
 * `{"ClassName": {…}}`, memory is `{"inBytes": n}`. Task inputs hold whole prompts: only their size is
 * kept, never the text. Every function tolerates missing or malformed parts (they are skipped).
 */

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
/**
 * Characters kept of any text in the state (ids, names, tags, error messages): EXO's are far shorter, and
 * whatever answers on its port could send 60,000 each time, held in every status and stream frame and
 * written into the events each new one makes. Kept as one line without control characters (`status`
 * prints them to a terminal).
 */
export const MAX_STATE_TEXT = 1000;
const text = (s: string): string => plainText(s, MAX_STATE_TEXT);
const str = (v: unknown): string | null => (typeof v === 'string' ? text(v) : null);
/** Diagnostics kept per runner. */
const MAX_DIAGNOSTICS = 16;
const bytes = (v: unknown): number | null => (isObj(v) ? num(v['inBytes']) : null);

/** `{"Tag": {…}}` → [tag, body]; null if not a one-key tagged object. */
export function untag(v: unknown): [string, Json] | null {
  if (!isObj(v)) return null;
  const keys = Object.keys(v);
  if (keys.length !== 1) return null;
  const body = v[keys[0]!];
  return isObj(body) ? [text(keys[0]!), body] : null;
}

export interface ExoModelCard extends ModelCardShape {
  modelId: string;
  storageBytes: number | null;
  contextLength: number | null;
  quantization: string | null;
}

export interface ExoShard extends ShardShape {
  runnerId: string;
  nodeId: string | null;
  deviceRank: number | null;
  card: ExoModelCard | null;
}

export interface ExoInstance {
  instanceId: string;
  kind: string;
  modelId: string | null;
  shards: ExoShard[];
}

/** EXO's shapes as the status view serves them (src/shared/status-view.ts). */
export type ExoRunner = ExoRunnerView;

export type ExoTask = ExoTaskView;

export type ExoNodeMemory = ExoNodeMemoryView;

export type ExoNodeIdentity = ExoNodeIdentityView;

function parseCard(v: unknown): ExoModelCard | null {
  if (!isObj(v)) return null;
  const nLayers = num(v['nLayers']);
  const hiddenSize = num(v['hiddenSize']);
  const kv = num(v['numKeyValueHeads']);
  const modelId = str(v['modelId']);
  if (modelId === null || nLayers === null || hiddenSize === null || kv === null) return null;
  return {
    modelId,
    nLayers,
    hiddenSize,
    numKeyValueHeads: kv,
    storageBytes: bytes(v['storageSize']),
    contextLength: num(v['contextLength']),
    quantization: str(v['quantization']),
  };
}

const SHARD_KIND: Record<string, ShardShape['kind']> = {
  PipelineShardMetadata: 'pipeline',
  TensorShardMetadata: 'tensor',
  CfgShardMetadata: 'cfg',
};

/**
 * Entries kept per kind of EXO's state. A cluster has a handful of nodes and instances and at most EXO's
 * concurrency limit of tasks; whatever answers on EXO's port may send 300,000 (the snapshot goes into every
 * status, stream frame and tick), so each map is read up to these many entries and the rest ignored.
 */
export const STATE_CAPS = { nodes: 256, instances: 256, shards: 1024, runners: 1024, tasks: 4096 } as const;

/** The first `max` own entries of an object from outside (keys cut to MAX_STATE_TEXT), without listing them all. */
function* firstEntries(o: Json, max: number): Generator<[string, unknown]> {
  let n = 0;
  for (const key in o) {
    if (!Object.hasOwn(o, key)) continue;
    if (n++ >= max) return;
    yield [text(key), o[key]];
  }
}

export function parseInstances(body: unknown): ExoInstance[] {
  if (!isObj(body)) return [];
  const out: ExoInstance[] = [];
  for (const [id, tagged] of firstEntries(body, STATE_CAPS.instances)) {
    const t = untag(tagged);
    if (!t) continue;
    const [kind, inst] = t;
    const sa = isObj(inst['shardAssignments']) ? inst['shardAssignments'] : {};
    const nodeToRunner = isObj(sa['nodeToRunner']) ? sa['nodeToRunner'] : {};
    const runnerToNode = new Map(
      [...firstEntries(nodeToRunner, STATE_CAPS.shards)].map(([node, runner]) => [String(runner), node]),
    );
    const shards: ExoShard[] = [];
    for (const [runnerId, shardTagged] of firstEntries(
      isObj(sa['runnerToShard']) ? sa['runnerToShard'] : {},
      STATE_CAPS.shards,
    )) {
      const st = untag(shardTagged);
      if (!st) continue;
      const [shardKind, s] = st;
      const nLayers = num(s['nLayers']);
      shards.push({
        runnerId,
        nodeId: runnerToNode.get(runnerId) ?? null,
        kind: SHARD_KIND[shardKind] ?? 'pipeline',
        startLayer: num(s['startLayer']) ?? 0,
        endLayer: num(s['endLayer']) ?? nLayers ?? 0,
        nLayers: nLayers ?? 0,
        worldSize: num(s['worldSize']) ?? 1,
        deviceRank: num(s['deviceRank']),
        card: parseCard(s['modelCard']),
      });
    }
    out.push({ instanceId: str(inst['instanceId']) ?? id, kind, modelId: str(sa['modelId']), shards });
  }
  return out;
}

export function parseRunners(body: unknown): ExoRunner[] {
  if (!isObj(body)) return [];
  const out: ExoRunner[] = [];
  for (const [runnerId, tagged] of firstEntries(body, STATE_CAPS.runners)) {
    const t = untag(tagged);
    if (!t) continue;
    const [status, r] = t;
    const diagnostics = Array.isArray(r['diagnostics'])
      ? (r['diagnostics'] as unknown[])
          .slice(0, MAX_DIAGNOSTICS)
          .map((d) => untag(d))
          .filter((d): d is [string, Json] => d !== null)
          .map(([k, v]) => `${k}: ${str(v['message']) ?? ''}`.trim())
      : [];
    out.push({
      runnerId,
      status,
      errorMessage: str(r['errorMessage']),
      diagnostics,
      layersLoaded: num(r['layersLoaded']),
      totalLayers: num(r['totalLayers']),
    });
  }
  return out;
}

export function parseTasks(body: unknown): ExoTask[] {
  if (!isObj(body)) return [];
  const out: ExoTask[] = [];
  for (const [taskId, tagged] of firstEntries(body, STATE_CAPS.tasks)) {
    const t = untag(tagged);
    if (!t) continue;
    const [kind, task] = t;
    const params = isObj(task['taskParams']) ? task['taskParams'] : {};
    const input = Array.isArray(params['input']) ? (params['input'] as unknown[]) : [];
    const inputChars = input.reduce<number>(
      (n, m) => n + (isObj(m) && typeof m['content'] === 'string' ? (m['content'] as string).length : 0),
      0,
    );
    out.push({
      taskId: str(task['taskId']) ?? taskId,
      kind,
      status: str(task['taskStatus']) ?? 'Unknown',
      instanceId: str(task['instanceId']),
      commandId: str(task['commandId']),
      model: str(params['model']),
      maxOutputTokens: num(params['max_output_tokens']),
      inputChars,
      stream: typeof params['stream'] === 'boolean' ? (params['stream'] as boolean) : null,
    });
  }
  return out;
}

// Node ids are keys chosen by others: built with Object.fromEntries, a `__proto__` id is an own key like any
// other (assigning out['__proto__'] would set the prototype and drop the node).
export function parseNodeMemory(body: unknown): Record<string, ExoNodeMemory> {
  if (!isObj(body)) return {};
  const out: Array<[string, ExoNodeMemory]> = [];
  for (const [node, m] of firstEntries(body, STATE_CAPS.nodes)) {
    if (!isObj(m)) continue;
    out.push([
      node,
      {
        ramTotal: bytes(m['ramTotal']),
        ramAvailable: bytes(m['ramAvailable']),
        swapTotal: bytes(m['swapTotal']),
        swapAvailable: bytes(m['swapAvailable']),
      },
    ]);
  }
  return Object.fromEntries(out);
}

export function parseNodeIdentities(body: unknown): Record<string, ExoNodeIdentity> {
  if (!isObj(body)) return {};
  const out: Array<[string, ExoNodeIdentity]> = [];
  for (const [node, i] of firstEntries(body, STATE_CAPS.nodes)) {
    if (!isObj(i)) continue;
    out.push([
      node,
      {
        modelId: str(i['modelId']),
        chipId: str(i['chipId']),
        friendlyName: str(i['friendlyName']),
        osVersion: str(i['osVersion']),
        osBuildVersion: str(i['osBuildVersion']),
      },
    ]);
  }
  return Object.fromEntries(out);
}

export type FailureState = ExoFailureView;

/** The failure states users report: RunnerFailed (often killed by a signal), and runners gone while the instance remains. */
export function detectFailures(instances: ExoInstance[], runners: ExoRunner[]): FailureState[] {
  const out: FailureState[] = [];
  for (const r of runners) {
    if (r.status !== 'RunnerFailed') continue;
    const sig = /signal=(\d+)/.exec(r.errorMessage ?? '');
    out.push({
      kind: 'runner-failed',
      runnerId: r.runnerId,
      message: r.errorMessage ?? 'RunnerFailed',
      diagnostics: r.diagnostics,
      signal: finiteNumber(sig?.[1]),
    });
  }
  const known = new Set(runners.map((r) => r.runnerId));
  for (const i of instances) {
    const missing = i.shards.map((s) => s.runnerId).filter((id) => !known.has(id));
    if (missing.length > 0)
      out.push({ kind: 'runners-missing', instanceId: i.instanceId, modelId: i.modelId, missing });
  }
  return out;
}

export interface PlacementPreview {
  modelId: string | null;
  sharding: string | null;
  instanceMeta: string | null;
  /** Bytes this placement adds per node (EXO splits the storage size evenly); null with an error. */
  memoryDeltaByNode: Record<string, number> | null;
  error: string | null;
  instance: ExoInstance | null;
}

/** `GET /instance/previews` (snake_case API model): what each candidate placement would add per node. */
export function parsePlacementPreviews(body: unknown): PlacementPreview[] {
  const list = isObj(body) && Array.isArray(body['previews']) ? (body['previews'] as unknown[]) : [];
  return list.filter(isObj).map((p) => {
    const delta = isObj(p['memory_delta_by_node'])
      ? (Object.fromEntries(
          Object.entries(p['memory_delta_by_node']).filter(([, v]) => num(v) !== null),
        ) as Record<string, number>)
      : null;
    return {
      modelId: str(p['model_id']),
      sharding: str(p['sharding']),
      instanceMeta: str(p['instance_meta']),
      memoryDeltaByNode: delta,
      error: str(p['error']),
      instance: isObj(p['instance']) ? (parseInstances({ preview: p['instance'] })[0] ?? null) : null,
    };
  });
}
