import { num } from '../../../shared/narrow.js';
/**
 * KV-cache arithmetic for the models EXO serves with MLX.
 *
 *   standard / GQA:  bytes per token = 2 (K and V) × attention layers × kv_heads × head_dim × bytes per element
 *   MLA (DeepSeek):  bytes per token = attention layers × (kv_lora_rank + qk_rope_head_dim) × bytes per element
 *                    (mlx-lm caches the compressed latent and the rope key, not per-head K/V; no ×2)
 *   hybrid models:   only full-attention layers grow with the context; sliding-window layers stop at the window;
 *                    linear-attention layers keep a fixed state (not counted: small and constant).
 * EXO does not quantise the KV cache (KV_CACHE_BITS=None), so elements are the activation dtype (bf16: 2 bytes).
 */

export interface ModelGeometry {
  layers: number;
  /** Layers whose KV grows with every token. */
  fullAttentionLayers: number;
  /** Layers whose KV stops growing at `slidingWindow` tokens. */
  slidingLayers: number;
  slidingWindow: number | null;
  kvHeads: number;
  headDim: number;
  hiddenSize: number | null;
  bytesPerElement: number;
  attention: 'standard' | 'mla';
  mla: { kvLoraRank: number; ropeHeadDim: number } | null;
  /** Where a figure was assumed rather than read: say so wherever the estimate is shown. */
  approximations: string[];
}

type Json = Record<string, unknown>;

function dtypeBytes(config: Json, notes: string[]): number {
  const d = String(config['torch_dtype'] ?? config['dtype'] ?? '');
  if (/float32|fp32/.test(d)) return 4;
  if (/bfloat16|float16|fp16|bf16/.test(d)) return 2;
  notes.push('activation dtype not stated: assumed 16-bit (2 bytes)');
  return 2;
}

/** From a Hugging Face config.json (VLM configs keep the language model under text_config). */
export function geometryFromConfig(raw: Json): ModelGeometry {
  const config = (
    raw['text_config'] && typeof raw['text_config'] === 'object'
      ? { ...raw, ...(raw['text_config'] as Json) }
      : raw
  ) as Json;
  const notes: string[] = [];
  const layers = num(config['num_hidden_layers']) ?? num(config['n_layer']) ?? num(config['num_layers']);
  if (layers === null) throw new Error('config.json has no num_hidden_layers');
  const heads = num(config['num_attention_heads']);
  const kvHeads = num(config['num_key_value_heads']) ?? heads;
  const hidden = num(config['hidden_size']);
  let headDim = num(config['head_dim']);
  if (headDim === null && hidden !== null && heads) headDim = hidden / heads;
  const bytes = dtypeBytes(config, notes);
  const kvLoraRank = num(config['kv_lora_rank']);
  const rope = num(config['qk_rope_head_dim']);
  let full = layers;
  let sliding = 0;
  const window = num(config['sliding_window']);
  const types = Array.isArray(config['layer_types'])
    ? (config['layer_types'] as unknown[]).map(String)
    : null;
  const interval = num(config['full_attention_interval']);
  if (types && types.length === layers) {
    full = types.filter((t) => t === 'full_attention').length;
    sliding = window ? types.filter((t) => t === 'sliding_attention').length : 0;
    if (!window) full += types.filter((t) => t === 'sliding_attention').length;
  } else if (interval && interval > 1) {
    // Qwen3-Next style: one full-attention layer every `interval`, the rest linear attention.
    full = Math.floor(layers / interval);
  }
  if (kvLoraRank !== null && rope !== null) {
    return {
      layers,
      fullAttentionLayers: full,
      slidingLayers: sliding,
      slidingWindow: window,
      kvHeads: 1,
      headDim: kvLoraRank + rope,
      hiddenSize: hidden,
      bytesPerElement: bytes,
      attention: 'mla',
      mla: { kvLoraRank, ropeHeadDim: rope },
      approximations: notes,
    };
  }
  if (kvHeads === null || headDim === null)
    throw new Error('config.json has neither num_key_value_heads/num_attention_heads nor head_dim');
  return {
    layers,
    fullAttentionLayers: full,
    slidingLayers: sliding,
    slidingWindow: sliding ? window : null,
    kvHeads,
    headDim,
    hiddenSize: hidden,
    bytesPerElement: bytes,
    attention: 'standard',
    mla: null,
    approximations: notes,
  };
}

export interface ModelCardShape {
  nLayers: number;
  hiddenSize: number;
  numKeyValueHeads: number;
}

/** Typical head dimension of current models; used only when the model's config.json is not at hand. */
export const ASSUMED_HEAD_DIM = 128;

/** From EXO's model card alone (no head_dim, no attention layout): a documented approximation. */
export function geometryFromCard(card: ModelCardShape): ModelGeometry {
  return {
    layers: card.nLayers,
    fullAttentionLayers: card.nLayers,
    slidingLayers: 0,
    slidingWindow: null,
    kvHeads: card.numKeyValueHeads,
    headDim: ASSUMED_HEAD_DIM,
    hiddenSize: card.hiddenSize,
    bytesPerElement: 2,
    attention: 'standard',
    mla: null,
    approximations: [
      `head_dim assumed ${ASSUMED_HEAD_DIM} (the model card does not give it; config.json would)`,
      'every layer counted as full attention (hybrid, sliding-window or MLA layouts need config.json)',
      'bf16 KV cache assumed',
    ],
  };
}

/** KV bytes one token adds across the whole model, at a context of `contextTokens` (for sliding windows). */
export function kvBytesPerToken(g: ModelGeometry, contextTokens = 0): number {
  const perLayer =
    g.attention === 'mla' ? g.headDim * g.bytesPerElement : 2 * g.kvHeads * g.headDim * g.bytesPerElement;
  const slidingActive =
    g.slidingLayers && g.slidingWindow !== null && contextTokens > g.slidingWindow ? 0 : g.slidingLayers;
  return perLayer * (g.fullAttentionLayers + slidingActive);
}

/** KV bytes of a whole context of `tokens` tokens. */
export function kvBytesForContext(g: ModelGeometry, tokens: number): number {
  const perLayer =
    g.attention === 'mla' ? g.headDim * g.bytesPerElement : 2 * g.kvHeads * g.headDim * g.bytesPerElement;
  const sliding = g.slidingLayers * Math.min(tokens, g.slidingWindow ?? tokens);
  return perLayer * (g.fullAttentionLayers * tokens + sliding);
}

export interface ShardShape {
  kind: 'pipeline' | 'tensor' | 'cfg';
  startLayer: number;
  endLayer: number;
  nLayers: number;
  worldSize: number;
}

/**
 * This node's share. Pipeline: its layer range holds that part of the weights and of the KV. Tensor: every
 * layer, 1/world of the weights and of the KV heads — except MLA, whose latent is not split by heads.
 */
export function nodeShare(
  shard: ShardShape,
  g: ModelGeometry,
): { weights: number; kv: number; note: string | null } {
  if (shard.kind === 'pipeline') {
    const f = (shard.endLayer - shard.startLayer) / shard.nLayers;
    return { weights: f, kv: f, note: null };
  }
  if (shard.kind === 'tensor') {
    const w = 1 / shard.worldSize;
    if (g.attention === 'mla')
      return { weights: w, kv: 1, note: 'MLA latent cache is replicated on every tensor rank' };
    if (g.kvHeads < shard.worldSize)
      return { weights: w, kv: 1 / g.kvHeads, note: 'fewer KV heads than ranks: heads are replicated' };
    return { weights: w, kv: w, note: null };
  }
  return { weights: 1, kv: 1, note: 'CFG shards hold the whole model' };
}

/** EXO's prefill step: 4096 tokens, divided by min(4, group size) for pipeline groups (generate.py). */
export function prefillChunk(shard: ShardShape): number {
  return shard.kind === 'pipeline' && shard.worldSize > 1
    ? Math.floor(4096 / Math.min(4, shard.worldSize))
    : 4096;
}

export interface NodeEstimate {
  weightsBytes: number;
  kvBytes: number;
  /** Allowance for prefill activations: chunk × hidden × bytes × 32 (MLP intermediates, logits). A heuristic. */
  transientBytes: number;
  totalBytes: number;
  notes: string[];
}

export function estimateNode(options: {
  geometry: ModelGeometry;
  shard: ShardShape;
  storageBytes: number;
  tokens: number;
}): NodeEstimate {
  const { geometry: g, shard, storageBytes, tokens } = options;
  const share = nodeShare(shard, g);
  const kvBytes = Math.round(kvBytesForContext(g, tokens) * share.kv);
  const weightsBytes = Math.round(storageBytes * share.weights);
  const transientBytes = Math.round(prefillChunk(shard) * (g.hiddenSize ?? 4096) * g.bytesPerElement * 32);
  const notes = [
    ...g.approximations,
    ...(share.note ? [share.note] : []),
    'transient prefill allowance is a heuristic, not a measurement',
  ];
  return {
    weightsBytes,
    kvBytes,
    transientBytes,
    totalBytes: weightsBytes + kvBytes + transientBytes,
    notes,
  };
}
