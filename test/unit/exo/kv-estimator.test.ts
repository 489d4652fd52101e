import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  estimateNode,
  geometryFromCard,
  geometryFromConfig,
  kvBytesForContext,
  kvBytesPerToken,
  nodeShare,
  prefillChunk,
} from '../../../src/main/core/exo/kv-estimator.js';
import { fixture } from '../../support/fixtures.js';

const GiB = 1024 ** 3;

/** Fields as published in each model's config.json (values that the formula uses). */
const LLAMA3_70B = {
  model_type: 'llama',
  num_hidden_layers: 80,
  num_attention_heads: 64,
  num_key_value_heads: 8,
  hidden_size: 8192,
  torch_dtype: 'bfloat16',
};
const QWEN3_30B_A3B = {
  model_type: 'qwen3_moe',
  num_hidden_layers: 48,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  head_dim: 128,
  hidden_size: 2048,
  torch_dtype: 'bfloat16',
  num_experts: 128,
};
const MINIMAX_M2 = {
  model_type: 'minimax_m2',
  num_hidden_layers: 62,
  num_attention_heads: 48,
  num_key_value_heads: 8,
  head_dim: 128,
  hidden_size: 3072,
  torch_dtype: 'bfloat16',
};
const DEEPSEEK_V3 = {
  model_type: 'deepseek_v3',
  num_hidden_layers: 61,
  num_attention_heads: 128,
  num_key_value_heads: 128,
  hidden_size: 7168,
  kv_lora_rank: 512,
  qk_rope_head_dim: 64,
  qk_nope_head_dim: 128,
  v_head_dim: 128,
  torch_dtype: 'bfloat16',
};
const QWEN3_NEXT = {
  model_type: 'qwen3_next',
  num_hidden_layers: 48,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  head_dim: 256,
  hidden_size: 2048,
  full_attention_interval: 4,
  torch_dtype: 'bfloat16',
};

describe('KV-cache estimate, hand-computed', () => {
  it('Llama 3 70B: 2 × 80 layers × 8 KV heads × 128 × 2 B = 320 KiB per token, 40 GiB at 128k', () => {
    const g = geometryFromConfig(LLAMA3_70B);
    assert.equal(g.headDim, 8192 / 64);
    assert.equal(kvBytesPerToken(g), 2 * 80 * 8 * 128 * 2);
    assert.equal(kvBytesPerToken(g), 327_680);
    assert.equal(kvBytesForContext(g, 131_072), 40 * GiB);
  });

  it('Qwen3 MoE (30B-A3B): 2 × 48 × 4 × 128 × 2 B = 96 KiB per token; experts do not change the KV', () => {
    assert.equal(kvBytesPerToken(geometryFromConfig(QWEN3_30B_A3B)), 98_304);
  });

  it('MiniMax-M2: 2 × 62 × 8 × 128 × 2 B = 248 KiB per token; tensor over 2 ranks halves it per node', () => {
    const g = geometryFromConfig(MINIMAX_M2);
    assert.equal(kvBytesPerToken(g), 253_952);
    const share = nodeShare({ kind: 'tensor', startLayer: 0, endLayer: 62, nLayers: 62, worldSize: 2 }, g);
    assert.deepEqual(share, { weights: 0.5, kv: 0.5, note: null });
  });

  it('DeepSeek V3 (MLA): 61 × (512 + 64) × 2 B = 70,272 B per token, no ×2, replicated on tensor ranks', () => {
    const g = geometryFromConfig(DEEPSEEK_V3);
    assert.equal(g.attention, 'mla');
    assert.equal(kvBytesPerToken(g), 61 * (512 + 64) * 2);
    assert.equal(kvBytesPerToken(g), 70_272);
    // Per-head K/V (what the formula would give without MLA) would be 2 × 61 × 128 × 128 × 2 = 3.8 MiB per token.
    assert.ok(kvBytesPerToken(g) * 50 < 2 * 61 * 128 * 128 * 2);
    assert.equal(
      nodeShare({ kind: 'tensor', startLayer: 0, endLayer: 61, nLayers: 61, worldSize: 4 }, g).kv,
      1,
    );
  });

  it('Qwen3-Next (hybrid): only every 4th layer is full attention: 2 × 12 × 2 × 256 × 2 B', () => {
    const g = geometryFromConfig(QWEN3_NEXT);
    assert.equal(g.fullAttentionLayers, 12);
    assert.equal(kvBytesPerToken(g), 2 * 12 * 2 * 256 * 2);
  });

  it('sliding-window layers stop growing at the window', () => {
    const g = geometryFromConfig({
      num_hidden_layers: 4,
      num_attention_heads: 8,
      num_key_value_heads: 2,
      head_dim: 64,
      torch_dtype: 'bfloat16',
      sliding_window: 1000,
      layer_types: ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'],
    });
    const perLayerToken = 2 * 2 * 64 * 2;
    assert.equal(kvBytesForContext(g, 500), perLayerToken * 4 * 500);
    assert.equal(kvBytesForContext(g, 5000), perLayerToken * (2 * 5000 + 2 * 1000));
  });

  it('the pipeline share of the fixture cluster (Qwen3-Coder-Next, ranks [0,33) and [33,48))', () => {
    const state = JSON.parse(fixture('exo/state-2node-ring-pipeline-running.json'));
    const shards = Object.values(
      state.instances['6e0f6c8a-3b1d-4c2e-9f7a-2d5b8c1e4a90'].MlxRingInstance.shardAssignments.runnerToShard,
    ) as Array<{
      PipelineShardMetadata: {
        modelCard: {
          storageSize: { inBytes: number };
          nLayers: number;
          hiddenSize: number;
          numKeyValueHeads: number;
        };
        startLayer: number;
        endLayer: number;
        nLayers: number;
        worldSize: number;
      };
    }>;
    const rank0 = shards[0]!.PipelineShardMetadata;
    const g = geometryFromCard(rank0.modelCard);
    assert.ok(g.approximations.some((a) => /head_dim assumed 128/.test(a)));
    const shard = {
      kind: 'pipeline' as const,
      startLayer: rank0.startLayer,
      endLayer: rank0.endLayer,
      nLayers: rank0.nLayers,
      worldSize: rank0.worldSize,
    };
    assert.equal(prefillChunk(shard), 2048, '4096 / min(4, 2)');
    const e = estimateNode({
      geometry: g,
      shard,
      storageBytes: rank0.modelCard.storageSize.inBytes,
      tokens: 100_000,
    });
    assert.equal(e.weightsBytes, Math.round((45_644_286_500 * 33) / 48));
    // From the card alone: 48 layers × 2 heads × 128 × 2 × 2 B = 49,152 B/token; rank 0 holds 33/48.
    assert.equal(e.kvBytes, Math.round(2 * 48 * 2 * 128 * 2 * 100_000 * (33 / 48)));
    assert.equal(e.transientBytes, 2048 * 2048 * 2 * 32);
    assert.equal(e.totalBytes, e.weightsBytes + e.kvBytes + e.transientBytes);
  });

  it('refuses a config without the fields it needs, naming them', () => {
    assert.throws(() => geometryFromConfig({}), /num_hidden_layers/);
    assert.throws(() => geometryFromConfig({ num_hidden_layers: 2 }), /num_key_value_heads/);
  });
});
