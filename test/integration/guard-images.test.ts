import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GuardConfigSchema } from '../../src/main/core/guard/guard-config.js';
import { GuardServer } from '../../src/main/core/guard/guard-server.js';
import type { TimelineEvent } from '../../src/shared/events.js';
import { sleep } from '../support/cli-runner.js';
import { FAKE_IMAGE_MODEL, type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';

/** EXO's image endpoints: generations take JSON, edits multipart/form-data. */
const IMAGE_PATHS = [
  '/v1/images/generations',
  '/bench/images/generations',
  '/v1/images/edits',
  '/bench/images/edits',
] as const;

const cfg = (over: Record<string, unknown> = {}) =>
  GuardConfigSchema.parse({ listen: '127.0.0.1:0', ...over });

type Fields = Record<string, string | number | boolean>;

/** The request body EXO takes on `path`: JSON for generations, a form with the image file for edits. */
function imageBody(path: string, fields: Fields = {}): { body: string | FormData; headers: Headers } {
  const headers = new Headers();
  const all: Fields = { model: FAKE_IMAGE_MODEL, prompt: 'a lighthouse at dusk', ...fields };
  if (!path.endsWith('/edits')) {
    headers.set('content-type', 'application/json');
    return { body: JSON.stringify(all), headers };
  }
  const form = new FormData();
  form.set('image', new Blob([Buffer.alloc(64 * 1024, 9)], { type: 'image/png' }), 'input.png');
  for (const [k, v] of Object.entries(all)) form.set(k, String(v));
  return { body: form, headers };
}

async function post(
  base: string,
  path: string,
  fields: Fields = {},
  extra: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const { body, headers } = imageBody(path, fields);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  const r = await fetch(`${base}${path}`, { method: 'POST', body, headers, signal });
  return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
}

async function until(what: () => boolean, ms: number, label: string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await sleep(10);
  }
}

describe("EXO's image endpoints go through the guard's gate", () => {
  let fake: FakeExoControl;
  before(async () => {
    fake = await startFakeExo({ imageMs: 50 });
  });
  after(async () => {
    await fake.close();
  });
  const imageRequestsSeen = (): number => fake.requests.filter((r) => r.path.includes('/images/')).length;

  it('in the open mode EXO answers byte for byte: JSON on all four, SSE with frames over 1 MiB and long silences', async () => {
    const events: TimelineEvent[] = [];
    // Stream silence limit 1 s: EXO sends no keep-alive on image streams, and this one is silent 1.2 s at a time.
    const g = new GuardServer(cfg({ upstreamIdleSeconds: 1 }), fake.url, (e) => events.push(e));
    const a = await g.start();
    const base = `http://127.0.0.1:${a.port}`;
    try {
      for (const path of IMAGE_PATHS) {
        const before = fake.images.length;
        const r = await post(base, path, { n: 1 });
        assert.equal(r.status, 200, path);
        assert.match(String(r.headers.get('content-type')), /^application\/json/);
        const task = fake.images[before]!;
        assert.equal(task.path, path);
        assert.ok(r.bytes.equals(Buffer.concat(task.sent)), `${path}: the answer was not passed intact`);
        const answer = JSON.parse(r.bytes.toString()) as Record<string, unknown>;
        assert.equal((answer['data'] as unknown[]).length, 1);
        assert.equal('generation_stats' in answer, path.startsWith('/bench/'), path);
      }
      const before = fake.images.length;
      const streaming = post(
        base,
        '/v1/images/generations',
        { stream: true, partial_images: 1 },
        { 'x-fake-image-ms': '2400', 'x-fake-image-bytes': String(1536 * 1024) },
      );
      await until(() => fake.images.length > before, 2000, 'the stream to reach EXO');
      assert.equal(g.stats.inFlight, 1, 'an image in progress is counted in flight');
      const s = await streaming;
      assert.equal(s.status, 200);
      assert.match(String(s.headers.get('content-type')), /^text\/event-stream/);
      const task = fake.images[before]!;
      assert.equal(task.aborted, false);
      assert.ok(s.bytes.equals(Buffer.concat(task.sent)), 'the SSE stream was not passed intact');
      const frames = s.bytes.toString().split('\n\n').filter(Boolean);
      assert.deepEqual(
        frames.map((f) => (f === 'data: [DONE]' ? f : (JSON.parse(f.slice(6)) as { type: string }).type)),
        ['partial', 'final', 'data: [DONE]'],
      );
      assert.ok(frames[1]!.length > 1024 * 1024, `final frame ${frames[1]!.length} characters`);
      const edit = await post(base, '/v1/images/edits', { stream: 'true', partial_images: 2 });
      assert.equal(edit.status, 200);
      assert.match(
        edit.bytes.toString(),
        /^data: \{"type": "partial", "image_index": 0, "partial_index": 0,/,
      );
      assert.equal(g.stats.inFlight, 0);
      const admitted = events.filter((e) => e.kind === 'guard.request');
      assert.deepEqual(
        admitted.map((e) => [
          e.data?.['endpoint'],
          e.data?.['decision'],
          e.data?.['status'],
          e.data?.['model'],
        ]),
        [
          ['/v1/images/generations', 'admit', 200, FAKE_IMAGE_MODEL],
          ['/bench/images/generations', 'admit', 200, FAKE_IMAGE_MODEL],
          // Edits are multipart: the guard reads none of their fields.
          ['/v1/images/edits', 'admit', 200, null],
          ['/bench/images/edits', 'admit', 200, null],
          ['/v1/images/generations', 'admit', 200, FAKE_IMAGE_MODEL],
          ['/v1/images/edits', 'admit', 200, null],
        ],
      );
      // No token estimate is made up for an image.
      for (const e of admitted) assert.equal(e.data?.['promptTokensEstimated'], undefined);
    } finally {
      await g.stop();
    }
  });

  it("refuse-new, the post-panic hold and critical refuse every image endpoint in EXO's envelope; EXO sees nothing", async () => {
    const events: TimelineEvent[] = [];
    const g = new GuardServer(cfg(), fake.url, (e) => events.push(e));
    const a = await g.start();
    const base = `http://127.0.0.1:${a.port}`;
    const seen = imageRequestsSeen();
    const hold = {
      since: 1,
      reportId: 7,
      kind: 'completeMemory',
      reason: 'completeMemory kernel panic (report 7)',
    };
    const views = [
      { mode: 'refuse-new', level: 'high', modeSource: 'level', hold: null },
      { mode: 'refuse-new', level: 'ok', modeSource: 'hold', hold },
      { mode: 'cancel-newest', level: 'critical', modeSource: 'level', hold: null },
    ] as const;
    try {
      for (const view of views) {
        g.update(view);
        for (const path of IMAGE_PATHS) {
          const r = await post(base, path);
          assert.equal(r.status, 503, `${view.mode}/${view.modeSource} ${path}`);
          const retry = Number(r.headers.get('retry-after'));
          assert.ok(retry >= 1 && retry <= 36, `Retry-After ${retry}`);
          const body = JSON.parse(r.bytes.toString()) as { error: Record<string, unknown> };
          assert.deepEqual(Object.keys(body.error), ['message', 'type', 'param', 'code']);
          assert.equal(body.error['type'], 'Service Unavailable');
          assert.equal(body.error['code'], 503);
          assert.equal(body.error['param'], null);
          assert.match(
            String(body.error['message']),
            view.modeSource === 'hold' ? /post-panic hold/ : new RegExp(`risk level ${view.level}`),
          );
        }
      }
      assert.equal(imageRequestsSeen(), seen, 'a refused image request reached EXO');
      const refused = events.filter((e) => e.kind === 'guard.request' && e.data?.['decision'] === 'refuse');
      assert.ok(refused.length >= IMAGE_PATHS.length);
      for (const e of refused) assert.equal(e.data?.['reasonKind'], 'mode');
    } finally {
      await g.stop();
    }
  });

  it("critical cancels an image in flight: the client gets a 503 in EXO's envelope, EXO's connection is closed", async () => {
    const g = new GuardServer(cfg(), fake.url, () => {});
    const a = await g.start();
    const base = `http://127.0.0.1:${a.port}`;
    try {
      const before = fake.images.length;
      const running = post(base, '/v1/images/generations', {}, { 'x-fake-image-ms': '5000' });
      await until(() => fake.images.length > before, 2000, 'the image to reach EXO');
      assert.equal(g.stats.inFlight, 1);
      g.update({ mode: 'cancel-newest', level: 'critical', modeSource: 'level' });
      const r = await running;
      assert.equal(r.status, 503);
      const err = (JSON.parse(r.bytes.toString()) as { error: Record<string, unknown> }).error;
      assert.equal(err['code'], 503);
      assert.match(
        String(err['message']),
        /cancelled by exo-sentinel, newest request first: risk level critical/,
      );
      await until(() => fake.images[before]!.aborted, 1000, 'EXO to see the request go');
      assert.equal(g.stats.inFlight, 0);
    } finally {
      await g.stop();
    }
  });

  it('in serialise two concurrent image requests run one after the other', async () => {
    const g = new GuardServer(cfg(), fake.url, () => {});
    const a = await g.start();
    const base = `http://127.0.0.1:${a.port}`;
    g.update({ mode: 'serialise', level: 'elevated', modeSource: 'level' });
    try {
      const before = fake.images.length;
      const [one, two] = await Promise.all([
        post(base, '/v1/images/generations', {}, { 'x-fake-image-ms': '200' }),
        post(base, '/v1/images/edits', {}, { 'x-fake-image-ms': '200' }),
      ]);
      assert.equal(one.status, 200);
      assert.equal(two.status, 200);
      const [first, second] = fake.images.slice(before);
      assert.ok(first && second && first.end !== null && second.end !== null);
      assert.ok(second.start >= first.end, `overlapped: ${second.start} < ${first.end}`);
    } finally {
      await g.stop();
    }
  });

  it('a client that disconnects releases its slot at once, before or after EXO started answering', async () => {
    const events: TimelineEvent[] = [];
    const g = new GuardServer(cfg(), fake.url, (e) => events.push(e));
    const a = await g.start();
    const base = `http://127.0.0.1:${a.port}`;
    g.update({ mode: 'serialise', level: 'elevated', modeSource: 'level' });
    try {
      // A non-streamed image: EXO answers nothing until the image is made; the client gives up first.
      const before = fake.images.length;
      const gone = new AbortController();
      const leaving = post(
        base,
        '/v1/images/generations',
        {},
        { 'x-fake-image-ms': '5000' },
        gone.signal,
      ).catch(() => null);
      await until(() => fake.images.length > before, 2000, 'the first image to reach EXO');
      const waiting = post(base, '/v1/images/generations', {}, { 'x-fake-image-ms': '100' });
      await until(() => g.stats.queued === 1, 2000, 'the second to queue');
      const t0 = Date.now();
      gone.abort();
      assert.equal(await leaving, null);
      const next = await waiting;
      assert.equal(next.status, 200);
      assert.ok(
        Date.now() - t0 < 1500,
        `the queued request waited ${Date.now() - t0} ms after the client left`,
      );
      assert.equal(fake.images[before]!.aborted, true, "EXO's connection was not closed");
      // A stream the client leaves after its first frame.
      const mid = fake.images.length;
      const left = new AbortController();
      const r = await fetch(`${base}/v1/images/generations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-fake-image-ms': '5000' },
        body: JSON.stringify({ model: FAKE_IMAGE_MODEL, prompt: 'x', stream: true, partial_images: 9 }),
        signal: left.signal,
      });
      const reader = r.body!.getReader();
      await reader.read();
      assert.equal(g.stats.inFlight, 1);
      left.abort();
      await until(() => g.stats.inFlight === 0, 1000, 'the stream slot to be released');
      await until(() => fake.images[mid]!.aborted, 1000, "EXO's stream to be closed");
      const reasons = events
        .filter((e) => e.kind === 'guard.request' && e.data?.['reasonKind'] === 'client-left')
        .map((e) => e.data?.['endpoint']);
      assert.deepEqual(reasons, ['/v1/images/generations', '/v1/images/generations']);
    } finally {
      await g.stop();
    }
  });
});
