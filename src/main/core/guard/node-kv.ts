import type { ExoSnapshot } from '../exo/exo-monitor.js';
import { geometryFor } from '../exo/in-flight-kv.js';
import { kvBytesPerToken, nodeShare } from '../exo/kv-estimator.js';

export interface NodeKv {
  /** KV bytes one token adds on this node (its share of the model), when the model's geometry is known. */
  perToken: number | null;
  contextLength: number | null;
  /** This node's share in words (`layers 0-33 of 48`, `tensor 1/2`). */
  share: string | null;
}

/** This node's KV cost for a model, from EXO's instance (and the model's config.json when available). */
export function nodeKv(exo: ExoSnapshot | null, model: string | null, exoHomeDir: string | null): NodeKv {
  const inst = exo?.instances.find((i) => i.modelId === model);
  const shard =
    inst?.shards.find((s) => s.nodeId === exo?.nodeId) ??
    (inst && inst.shards.length === 1 ? inst.shards[0] : undefined);
  if (!shard?.card)
    return { perToken: null, contextLength: inst?.shards[0]?.card?.contextLength ?? null, share: null };
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
