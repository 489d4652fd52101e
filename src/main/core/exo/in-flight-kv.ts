import { join } from 'node:path';
import { readSmallFile } from '../util/small-file.js';
import type { ExoSnapshot } from './exo-monitor.js';
import { estimateNode, geometryFromCard, geometryFromConfig, type ModelGeometry } from './kv-estimator.js';

/** EXO keeps models in <EXO_HOME>/models/<org>--<name>; their config.json makes the estimate exact. */
export function modelConfigPath(exoHomeDir: string, modelId: string): string {
  return join(exoHomeDir, 'models', modelId.replace('/', '--'), 'config.json');
}

/**
 * Geometry read from a model's config.json, per EXO home and model id. Model ids come from EXO's state (what
 * its clients asked for), so the cache is bounded: the least recently used goes past MODEL_CACHE_MAX. A
 * model whose config could not be read is asked again after MISSING_RETRY_MS (it may still be downloading).
 */
const cache = new Map<string, { geometry: ModelGeometry | null; at: number }>();
export const MODEL_CACHE_MAX = 64;
export const MISSING_RETRY_MS = 60_000;
const MAX_MODEL_CONFIG_BYTES = 1024 * 1024;

function readGeometry(exoHomeDir: string, modelId: string): ModelGeometry | null {
  // A model's config.json is a few KiB; a FIFO or a device there cannot hold the tick.
  const read = readSmallFile(modelConfigPath(exoHomeDir, modelId), MAX_MODEL_CONFIG_BYTES);
  try {
    return read.ok ? geometryFromConfig(JSON.parse(read.text)) : null;
  } catch {
    return null;
  }
}

/** The model's geometry from its config.json (cached), else from EXO's model card. */
export function geometryFor(
  modelId: string,
  card: Parameters<typeof geometryFromCard>[0],
  exoHomeDir: string | null,
  now: number = performance.now(),
): ModelGeometry {
  if (exoHomeDir) {
    const key = `${exoHomeDir}:${modelId}`;
    let entry = cache.get(key);
    if (!entry || (entry.geometry === null && now - entry.at >= MISSING_RETRY_MS))
      entry = { geometry: readGeometry(exoHomeDir, modelId), at: now };
    // Most recently used last: Map keeps insertion order.
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > MODEL_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    if (entry.geometry) return entry.geometry;
  }
  return geometryFromCard(card);
}

/** Models whose geometry is held now (for tests). */
export const modelCacheSize = (): number => cache.size;

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
