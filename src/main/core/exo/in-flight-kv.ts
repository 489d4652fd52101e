import { join } from 'node:path';
import { readSmallFile } from '../util/small-file.js';
import type { ExoSnapshot } from './exo-monitor.js';
import { estimateNode, geometryFromCard, geometryFromConfig, type ModelGeometry } from './kv-estimator.js';

/** EXO keeps models in <EXO_HOME>/models/<org>--<name>; their config.json makes the estimate exact. */
export function modelConfigPath(exoHomeDir: string, modelId: string): string {
  return join(exoHomeDir, 'models', modelId.replace('/', '--'), 'config.json');
}

const cache = new Map<string, ModelGeometry | null>();
const MAX_MODEL_CONFIG_BYTES = 1024 * 1024;

export function geometryFor(
  modelId: string,
  card: Parameters<typeof geometryFromCard>[0],
  exoHomeDir: string | null,
): ModelGeometry {
  if (exoHomeDir) {
    const key = `${exoHomeDir}:${modelId}`;
    if (!cache.has(key)) {
      // A model's config.json is a few KiB; a FIFO or a device there cannot hold the tick.
      const read = readSmallFile(modelConfigPath(exoHomeDir, modelId), MAX_MODEL_CONFIG_BYTES);
      try {
        cache.set(key, read.ok ? geometryFromConfig(JSON.parse(read.text)) : null);
      } catch {
        cache.set(key, null);
      }
    }
    const g = cache.get(key);
    if (g) return g;
  }
  return geometryFromCard(card);
}

export interface InFlightEstimate {
  /** KV the in-flight prompts take on this node. */
  kvBytes: number;
  largestPromptTokens: number | null;
  notes: string[];
}

/**
 * The KV cache EXO's in-flight requests take on this node: prompt tokens estimated from the prompt length
 * (characters / charsPerToken), times this node's share of the model's per-token KV.
 */
export function estimateInFlightKv(
  snapshot: ExoSnapshot,
  charsPerToken: number,
  exoHomeDir: string | null,
): InFlightEstimate {
  let kvBytes = 0;
  let largest: number | null = null;
  const notes = new Set<string>();
  for (const task of snapshot.tasks) {
    if (task.status !== 'Pending' && task.status !== 'Running') continue;
    const tokens = Math.ceil(task.inputChars / charsPerToken);
    largest = Math.max(largest ?? 0, tokens);
    const inst = snapshot.instances.find((i) => i.instanceId === task.instanceId);
    const shard =
      inst?.shards.find((s) => s.nodeId === snapshot.nodeId) ??
      (inst?.shards.length === 1 ? inst.shards[0] : undefined);
    if (!shard?.card) continue;
    const geometry = geometryFor(shard.card.modelId, shard.card, exoHomeDir);
    const e = estimateNode({ geometry, shard, storageBytes: 0, tokens });
    kvBytes += e.kvBytes;
    for (const n of geometry.approximations) notes.add(n);
  }
  return { kvBytes, largestPromptTokens: largest, notes: [...notes] };
}
