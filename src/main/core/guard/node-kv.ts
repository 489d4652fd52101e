import type { ExoSnapshot } from '../exo/exo-monitor.js';
import type { ExoInstance } from '../exo/exo-state-parser.js';
import { geometryFor } from '../exo/in-flight-kv.js';
import { kvBytesPerToken, nodeShare } from '../exo/kv-estimator.js';

export interface NodeKv {
  /** KV bytes one token adds on this node (its share of the model), when the model's geometry is known. */
  perToken: number | null;
  contextLength: number | null;
  /** This node's share in words (`layers 0-33 of 48`, `tensor 1/2`, `not on this node`). */
  share: string | null;
}

const UNKNOWN: NodeKv = { perToken: null, contextLength: null, share: null };

/**
 * The instances EXO may run a request for `model` on, as its API resolves the name: `<model-id>@<prefix>`
 * (the alias its /v1/models lists for each running instance) pins the one instance of that model whose id
 * starts with the prefix, and EXO answers 404 or 400 (running nothing) when none or several do; any other
 * name is a model id, and EXO's master picks among all its instances.
 */
export function candidateInstances(instances: readonly ExoInstance[], model: string | null): ExoInstance[] {
  if (model === null) return [];
  const at = model.lastIndexOf('@');
  const id = at > 0 ? model.slice(0, at) : '';
  const prefix = at >= 0 ? model.slice(at + 1) : '';
  if (id !== '' && prefix !== '') {
    const pinned = instances.filter((i) => i.modelId === id && i.instanceId.startsWith(prefix));
    return pinned.length === 1 ? pinned : [];
  }
  return instances.filter((i) => i.modelId === model);
}

/** One instance's KV cost on this node: 0 when none of its shards is here (its KV lands on other nodes). */
function instanceKv(inst: ExoInstance, nodeId: string | null, exoHomeDir: string | null): NodeKv {
  const contextLength = inst.shards[0]?.card?.contextLength ?? null;
  const here = nodeId === null ? undefined : inst.shards.find((s) => s.nodeId === nodeId);
  if (nodeId !== null && !here) return { perToken: 0, contextLength, share: 'not on this node' };
  // This node's id not known yet: a one-shard instance is judged as if here (it may be).
  const shard = here ?? (inst.shards.length === 1 ? inst.shards[0] : undefined);
  if (!shard?.card) return { perToken: null, contextLength, share: null };
  const g = geometryFor(shard.card.modelId, shard.card, exoHomeDir);
  const share = nodeShare(shard, g);
  return {
    perToken: kvBytesPerToken(g) * share.kv,
    contextLength: shard.card.contextLength,
    share:
      shard.kind === 'pipeline'
        ? `layers ${shard.startLayer}-${shard.endLayer} of ${shard.nLayers}`
        : `${shard.kind} 1/${shard.worldSize}`,
  };
}

/**
 * This node's KV cost for a request naming `model`, from EXO's instances (and the model's config.json when
 * available). With several instances EXO could pick, the request is judged by the dearest one here and the
 * shortest context among them: the guard cannot know which EXO's master will choose. Unknown (null) only when
 * no candidate's cost here is known.
 */
export function nodeKv(exo: ExoSnapshot | null, model: string | null, exoHomeDir: string | null): NodeKv {
  if (!exo) return UNKNOWN;
  const each = candidateInstances(exo.instances, model).map((i) => instanceKv(i, exo.nodeId, exoHomeDir));
  let dearest: NodeKv | null = null;
  for (const kv of each) if (kv.perToken !== null && (dearest?.perToken ?? -1) < kv.perToken) dearest = kv;
  const contexts = each.map((kv) => kv.contextLength).filter((c): c is number => c !== null);
  return {
    perToken: dearest?.perToken ?? null,
    contextLength: contexts.length > 0 ? Math.min(...contexts) : null,
    share: dearest?.share ?? null,
  };
}
