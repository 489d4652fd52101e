import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  geometryFor,
  MISSING_RETRY_MS,
  MODEL_CACHE_MAX,
  modelCacheSize,
  modelConfigPath,
} from '../../../src/main/core/exo/in-flight-kv.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
const card = { nLayers: 10, numKeyValueHeads: 8, hiddenSize: 4096 } as Parameters<typeof geometryFor>[1];
const config = {
  num_hidden_layers: 48,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  hidden_size: 4096,
  head_dim: 128,
  torch_dtype: 'bfloat16',
};

describe("a model's geometry from its config.json, cached with bounds", () => {
  it('holds at most MODEL_CACHE_MAX models however many ids EXO reports', () => {
    for (let i = 0; i < 1000; i++) geometryFor(`org/model-${i}`, card, dir.path, 0);
    assert.equal(modelCacheSize(), MODEL_CACHE_MAX);
  });

  it('reads a config that appears later (a model still downloading) once the retry time has passed', () => {
    const id = 'mlx-community/Later-4bit';
    assert.equal(geometryFor(id, card, dir.path, 1000).layers, 10, 'from the card while there is no config');
    mkdirSync(dirname(modelConfigPath(dir.path, id)), { recursive: true });
    writeFileSync(modelConfigPath(dir.path, id), JSON.stringify(config));
    assert.equal(geometryFor(id, card, dir.path, 1000 + MISSING_RETRY_MS - 1).layers, 10, 'not re-read yet');
    const exact = geometryFor(id, card, dir.path, 1000 + MISSING_RETRY_MS);
    assert.equal(exact.layers, 48);
    assert.equal(exact.kvHeads, 4);
    // A geometry that was read stays: the file is not read on every tick.
    writeFileSync(modelConfigPath(dir.path, id), '{}');
    assert.equal(geometryFor(id, card, dir.path, 1e12).layers, 48);
  });

  it('keeps the models in use: the least recently used goes first', () => {
    const id = 'org/in-use';
    mkdirSync(dirname(modelConfigPath(dir.path, id)), { recursive: true });
    writeFileSync(modelConfigPath(dir.path, id), JSON.stringify(config));
    assert.equal(geometryFor(id, card, dir.path, 0).layers, 48);
    writeFileSync(modelConfigPath(dir.path, id), '{}');
    for (let i = 0; i < 500; i++) {
      geometryFor(`org/passing-${i}`, card, dir.path, 0);
      assert.equal(geometryFor(id, card, dir.path, 0).layers, 48, 'still cached, not re-read');
    }
  });
});
