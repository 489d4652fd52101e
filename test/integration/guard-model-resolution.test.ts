import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExoApiClient } from '../../src/main/core/exo/exo-api-client.js';
import { ExoMonitor } from '../../src/main/core/exo/exo-monitor.js';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import { candidateInstances, nodeKv } from '../../src/main/core/guard/node-kv.js';
import type { TimelineEvent } from '../../src/shared/events.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { makeSample } from '../support/sample-factory.js';

// The model a request names, resolved as EXO's API does (`_resolve_model_and_instance`): the alias
// `<model-id>@<instance-id-prefix>` its /v1/models lists pins one instance; a model id lets EXO's master pick
// among all of that model's instances. The guard judged only an exact model id against the first instance
// listed: an alias switched the KV and context checks off, and so did a second instance listed first on
// other nodes.

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';
const GiB = 1024 ** 3;
// biome-ignore lint/suspicious/noExplicitAny: EXO's state is arbitrary JSON
type Json = Record<string, any>;

describe('the model a request names, resolved as EXO resolves it', () => {
  let fake: FakeExoControl;
  let original: Json;
  before(async () => {
    fake = await startFakeExo({ tokenIntervalMs: 5 });
    original = structuredClone(fake.state['instances'] as Json);
  });
  after(async () => {
    await fake.close();
  });

  const snapshot = async () => {
    const m = new ExoMonitor(new ExoApiClient(fake.url, 5000));
    await m.poll();
    return m.snapshot;
  };
  /** A copy of the fake's instance under a new id, its shards on other nodes. */
  const elsewhere = (id: string): [string, Json] => {
    const [, orig] = Object.entries(original)[0]!;
    const clone = structuredClone(orig) as Json;
    const body = clone['MlxRingInstance'] as Json;
    body['instanceId'] = id;
    const n2r = body['shardAssignments']['nodeToRunner'] as Json;
    body['shardAssignments']['nodeToRunner'] = Object.fromEntries(
      Object.values(n2r).map((r, k) => [`other-node-${k}`, r]),
    );
    return [id, clone];
  };

  it('an instance alias is judged like its model: a request that does not fit the KV headroom is refused', async () => {
    fake.state['instances'] = structuredClone(original);
    const exo = await snapshot();
    const inst = exo.instances.find((i) => i.modelId === MODEL)!;
    const alias = `${MODEL}@${inst.instanceId.slice(0, 8)}`;
    const plain = nodeKv(exo, MODEL, null);
    assert.ok((plain.perToken ?? 0) > 0, 'the fake instance has a shard here with a known geometry');
    assert.deepEqual(nodeKv(exo, alias, null), plain);
    // Names EXO answers 404 or 400 to (it runs nothing): no instance, so nothing is reserved.
    for (const name of [`${MODEL}@ffffffff`, `${MODEL}@`, `@${inst.instanceId}`, `other@${inst.instanceId}`])
      assert.deepEqual(candidateInstances(exo.instances, name), [], name);

    const events: TimelineEvent[] = [];
    const g = new GuardServer(GuardConfigSchema.parse({ listen: '127.0.0.1:0' }), fake.url, (e) =>
      events.push(e),
    );
    const { port } = await g.start();
    const s = makeSample(Date.now());
    s.gpu.ceilingBytes = 96 * GiB;
    s.gpu.inUseBytes = 96 * GiB - 64 * 1024 ** 2; // 64 MiB of headroom left
    g.update({ exo, sample: s });
    fake.requests.length = 0;
    try {
      for (const model of [MODEL, alias]) {
        const r = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model,
            max_tokens: 200_000,
            messages: [{ role: 'user', content: 'x '.repeat(20_000) }],
          }),
        });
        assert.equal(r.status, 503, model);
        assert.match(((await r.json()) as Json)['error']['message'], /KV cache/, model);
      }
      assert.equal(fake.requests.length, 0, 'EXO saw neither');
    } finally {
      await g.stop();
    }
  });

  it("several instances of a model: judged by the dearest here, never by another node's shard", async () => {
    const [otherId, other] = elsewhere('11111111-2222-4333-8444-555555555555');
    fake.state['instances'] = { [otherId]: other };
    const only = nodeKv(await snapshot(), MODEL, null);
    assert.deepEqual(
      { perToken: only.perToken, share: only.share },
      { perToken: 0, share: 'not on this node' },
      'an instance with no shard here adds nothing here',
    );
    assert.ok((only.contextLength ?? 0) > 0);
    // Listed first, the remote instance used to decide for the model (and with several shards, turned the
    // check off); EXO's master may pick the one here.
    fake.state['instances'] = { [otherId]: other, ...structuredClone(original) };
    const both = nodeKv(await snapshot(), MODEL, null);
    fake.state['instances'] = structuredClone(original);
    assert.deepEqual(both, nodeKv(await snapshot(), MODEL, null));
    // The alias of the remote one pins it: nothing here.
    fake.state['instances'] = { [otherId]: other, ...structuredClone(original) };
    assert.equal(nodeKv(await snapshot(), `${MODEL}@1111`, null).perToken, 0);
    fake.state['instances'] = structuredClone(original);
  });
});
