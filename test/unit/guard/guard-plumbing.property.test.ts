import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AdmissionQueue } from '../../../src/main/core/guard/admission-queue.js';
import { AllocationLog } from '../../../src/main/core/guard/allocation-log.js';
import { FrameAligner } from '../../../src/main/core/guard/frame-aligner.js';
import { endToEndHeaders } from '../../../src/main/core/guard/hop-by-hop.js';
import { loadRoute } from '../../../src/main/core/guard/load-route.js';
import { canonicalTarget, routeKey } from '../../../src/main/core/guard/request-path.js';
import { readBody } from '../../../src/main/core/guard/request-reader.js';
import { StreamObserver } from '../../../src/main/core/guard/stream-observer.js';
import type { TimelineEvent } from '../../../src/shared/events.js';

/** Splits a buffer at the given cut points (TCP delivers a stream in arbitrary pieces). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(buf.subarray(at, p));
    at = p;
  }
  out.push(buf.subarray(at));
  return out;
}

const sseFrame = fc.oneof(
  fc.string({ maxLength: 40 }).map((s) => `data: ${JSON.stringify({ d: s })}\n\n`),
  fc.string({ maxLength: 40 }).map((s) => `: comment ${s.replace(/[\r\n]/g, ' ')}\r\n\r\n`),
  fc.string({ maxLength: 40 }).map((s) => `event: x\ndata: ${JSON.stringify(s)}\n\n`),
);

describe('request targets, as EXO routes them', () => {
  it('never throws; what it accepts is normalised, and normalising again changes nothing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = canonicalTarget(`/${s}`);
        if (!r.ok) return assert.equal(typeof r.message, 'string');
        const body = r.path.length > 1 && r.path.endsWith('/') ? r.path.slice(0, -1) : r.path;
        assert.ok(!/\/\/|(^|\/)\.\.?(\/|$)/.test(body), r.path);
        const again = canonicalTarget(r.target);
        assert.ok(again.ok);
        assert.equal(again.path, r.path);
      }),
      { numRuns: 2000 },
    );
  });

  it('an encoded spelling of a gated path routes to the gated path', () => {
    const path = '/v1/chat/completions';
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: path.length, maxLength: path.length }), (enc) => {
        const spelled = [...path]
          .map((ch, i) => (enc[i] && ch !== '/' ? `%${ch.charCodeAt(0).toString(16).toUpperCase()}` : ch))
          .join('');
        const r = canonicalTarget(spelled);
        assert.ok(r.ok);
        assert.equal(routeKey(r.path), path);
        assert.equal(r.target, path);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses what would change the path once decoded', () => {
    for (const t of [
      '/a%2Fb',
      '/a%5cb',
      '/a\\b',
      '/a%00',
      '/a%0a',
      '/a%',
      '/a%g1',
      '/a%ff',
      'http://x/',
      '/a#b',
    ])
      assert.equal(canonicalTarget(t).ok, false, t);
    assert.deepEqual(canonicalTarget('/v1/./x/../chat//completions?stream=1'), {
      ok: true,
      path: '/v1/chat/completions',
      target: '/v1/chat/completions?stream=1',
    });
  });
});

describe('loads, as EXO reads them', () => {
  it('a rebalance passes as a dry run only when the dry_run EXO reads (the last one) is true', () => {
    const TRUE = ['1', 'on', 't', 'true', 'y', 'yes'];
    const word = fc.oneof(
      fc.constantFrom(...TRUE, '0', 'off', 'f', 'false', 'n', 'no', '', ' true', 'true '),
      fc.string({ maxLength: 6 }),
    );
    const casing = (w: string, upper: boolean[]) =>
      [...w].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c)).join('');
    const param = fc.record({
      key: fc.constantFrom('dry_run', 'dry%5Frun', 'dry%5frun', 'mode', 'dry_run_', 'Dry_run'),
      value: word,
      upper: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.array(param, { maxLength: 5 }), (params) => {
        const query = params.map((p) => `${p.key}=${encodeURIComponent(casing(p.value, p.upper))}`).join('&');
        const target = `/instance/abc/rebalance${query ? `?${query}` : ''}`;
        // FastAPI: the last value of the decoded key, true when pydantic reads it as true.
        const last = new URLSearchParams(query).getAll('dry_run').at(-1);
        const exoDry = last !== undefined && TRUE.includes(last.toLowerCase());
        const r = loadRoute('POST', '/instance/abc/rebalance', target);
        if (!exoDry)
          assert.deepEqual(r, { kind: 'rebalance', endpoint: '/instance/{instance_id}/rebalance' });
        if (r === null) assert.ok(exoDry, target);
      }),
      { numRuns: 1000 },
    );
    for (const m of ['GET', 'PUT', 'DELETE'])
      assert.equal(loadRoute(m, '/instance/abc/rebalance', '/x'), null);
    assert.equal(loadRoute('POST', '/instance/abc/rebalance/preview', '/x'), null);
    assert.equal(loadRoute('POST', '/instance//rebalance', '/x'), null);
    assert.deepEqual(loadRoute('POST', '/place_instance', '/place_instance?dry_run=1'), {
      kind: 'load',
      endpoint: '/place_instance',
    });
  });
});

describe('frame alignment', () => {
  it('forwards exactly the input, in pieces that end on frame boundaries, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(sseFrame, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const input = Buffer.from(frames.join(''));
          const a = new FrameAligner('sse');
          const out: Buffer[] = [];
          for (const piece of split(input, cuts)) {
            const o = a.push(piece);
            if (o.length) {
              const t = o.toString();
              assert.ok(/(\n\n|\n\r\n)$/.test(t), JSON.stringify(t.slice(-8)));
            }
            out.push(o);
            assert.equal(a.atBoundary, true);
          }
          out.push(a.flush());
          assert.ok(Buffer.concat(out).equals(input));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('NDJSON: whole lines only; a cut mid-line is held and dropped on cancel', () => {
    const a = new FrameAligner('ndjson');
    assert.equal(a.push(Buffer.from('{"a":1}\n{"b":')).toString(), '{"a":1}\n');
    assert.equal(a.discard(), '');
    assert.equal(a.push(Buffer.from('2}\n')).toString(), '2}\n', 'after a discard the tail is gone');
  });

  it('holds at most maxHold bytes: past it the frame is passed on and closed on cancel', () => {
    const a = new FrameAligner('sse', 16);
    assert.equal(a.push(Buffer.from('data: 0123456789abcdef')).length, 22);
    assert.equal(a.atBoundary, false);
    assert.equal(a.discard(), '\n\n');
  });
});

describe('the stream observer', () => {
  it('reads prefill progress in both forms, whatever the chunking, and never throws on garbage', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('comment', 'event'),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.uint8Array({ maxLength: 200 }),
        (form, total, cuts, junk) => {
          const p = JSON.stringify({
            PrefillProgressChunk: { model: 'm', processed_tokens: 1, total_tokens: total },
          });
          const text = `${form === 'comment' ? `: prefill_progress ${p}` : `event: prefill_progress\ndata: ${p}`}\n\n`;
          const seen: number[] = [];
          const o = new StreamObserver('sse', (t) => seen.push(t));
          for (const piece of split(Buffer.concat([Buffer.from(text), Buffer.from(junk)]), cuts))
            o.push(piece);
          assert.deepEqual(seen.slice(0, 1), [total]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('skims a long generation and still reads its end: the stats, the usage and an error frame', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (tokens, cuts) => {
          const token = (i: number) =>
            `data: ${JSON.stringify({ id: 'cmd-1', choices: [{ index: 0, delta: { content: ` w${i}` } }] })}\n\n`;
          const text = [
            ': keep-alive\n\n',
            `: prefill_progress ${JSON.stringify({ PrefillProgressChunk: { processed_tokens: 7, total_tokens: 7 } })}\n\n`,
            ...Array.from({ length: tokens }, (_, i) => token(i)),
            `: generation_stats ${JSON.stringify({ prompt_tokens: 7, peak_memory_usage: { inBytes: 123456789 } })}\n\n`,
            `data: ${JSON.stringify({ error: { message: 'Runner shutdown before completing command (signal=9 (Killed))' } })}\n\n`,
          ].join('');
          const o = new StreamObserver('sse');
          for (const piece of split(Buffer.from(text), cuts)) o.push(piece);
          o.end();
          assert.equal(o.facts.commandId, 'cmd-1');
          assert.equal(o.facts.promptTokens, 7);
          assert.equal(o.facts.peakMemoryBytes, 123456789);
          assert.match(o.facts.error ?? '', /signal=9/);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never throws on a line longer than its buffer, whatever the chunking, and still reads the stream’s end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 30 }),
        (before, times, dataLines, cuts) => {
          // A frame of one giant line, or of many `data:` lines that add up past the buffer.
          const giant = dataLines
            ? `${Array.from({ length: 40 * times }, () => `data: ${'y'.repeat(100)}`).join('\n')}\n\n`
            : `data: {"x":"${'x'.repeat(4096 * times)}"}\n\n`;
          const text = [
            `: prefill_progress ${JSON.stringify({ PrefillProgressChunk: { processed_tokens: before, total_tokens: before } })}\n\n`,
            giant,
            `data: ${JSON.stringify({ id: 'cmd-1', choices: [] })}\n\n`,
            `: generation_stats ${JSON.stringify({ peak_memory_usage: { inBytes: 42 } })}\n\n`,
          ].join('');
          const o = new StreamObserver('sse', () => {}, 1024);
          for (const piece of split(Buffer.from(text), cuts)) o.push(piece);
          o.end();
          assert.equal(o.facts.promptTokens, before);
          assert.equal(o.facts.peakMemoryBytes, 42);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodes UTF-8 split across chunks', () => {
    const o = new StreamObserver('sse');
    const bytes = Buffer.from(`data: {"id":"é-😀","error":{"message":"ü"}}\n\n`);
    for (let i = 0; i < bytes.length; i++) o.push(bytes.subarray(i, i + 1));
    assert.equal(o.facts.commandId, 'é-😀');
    assert.equal(o.facts.error, 'ü');
  });
});

describe('hop-by-hop headers', () => {
  it('drops the fixed set and whatever Connection names, in any case', () => {
    const raw = [
      'Host',
      'h',
      'Connection',
      'Keep-Alive, X-Private',
      'x-private',
      '1',
      'Keep-Alive',
      't',
      'TE',
      'x',
      'X-End',
      'e',
      'Expect',
      '100-continue',
    ];
    assert.deepEqual(endToEndHeaders(raw), ['Host', 'h', 'X-End', 'e']);
  });
});

describe('the queue', () => {
  it('is FIFO; a leaver is gone at once; refuseAll ends every wait', async () => {
    const q = new AdmissionQueue(() => 60_000);
    const a = new AbortController();
    const first = q.wait(a.signal);
    const second = q.wait(new AbortController().signal);
    const third = q.wait(new AbortController().signal);
    assert.equal(q.length, 3);
    a.abort();
    assert.equal(await first, 'left');
    assert.equal(q.length, 2);
    assert.equal(q.wakeNext(), true);
    assert.equal(await second, 'turn');
    assert.equal(q.refuseAll(), 1);
    assert.equal(await third, 'refused');
    assert.equal(q.wakeNext(), false);
  });

  it('turns go about between clients, first come first served within each', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 40 }),
        async (from) => {
          const q = new AdmissionQueue(() => 60_000);
          const order: string[] = [];
          const waits = from.map((client, i) =>
            q.wait(new AbortController().signal, client).then((o) => {
              if (o === 'turn') order.push(`${client}${i}`);
            }),
          );
          while (q.wakeNext()) await Promise.resolve();
          await Promise.all(waits);
          // The same requests taken round-robin over the clients in the order they first came.
          const pending = new Map<string, string[]>();
          for (const [i, client] of from.entries())
            pending.set(client, [...(pending.get(client) ?? []), `${client}${i}`]);
          const expected: string[] = [];
          while (expected.length < from.length)
            for (const list of pending.values()) if (list.length > 0) expected.push(list.shift()!);
          assert.deepEqual(order, expected);
        },
      ),
    );
  });

  it('a client that comes later joins the end of the round', async () => {
    const q = new AdmissionQueue(() => 60_000);
    const got: string[] = [];
    const take = (client: string, name: string) =>
      q.wait(new AbortController().signal, client).then((o) => got.push(`${name}:${o}`));
    const all = [take('a', 'a1'), take('a', 'a2'), take('b', 'b1')];
    q.wakeNext(); // a1
    await Promise.resolve();
    all.push(take('c', 'c1'));
    q.wakeNext(); // b1
    q.wakeNext(); // a2: a was in the round before c came
    q.wakeNext(); // c1
    await Promise.all(all);
    assert.deepEqual(got, ['a1:turn', 'b1:turn', 'a2:turn', 'c1:turn']);
  });

  it('a client that keeps one request waiting, or leaves and comes back, does not jump the turn', async () => {
    const q = new AdmissionQueue(() => 60_000);
    const got: string[] = [];
    const take = (client: string, name: string, signal = new AbortController().signal) =>
      q.wait(signal, client).then((o) => got.push(`${name}:${o}`));
    const b = [take('b', 'b1'), take('b', 'b2'), take('b', 'b3')];
    const a1 = take('a', 'a1');
    q.wakeNext(); // b1 (first come)
    await Promise.resolve();
    q.wakeNext(); // a1: a's last waiting entry
    await a1;
    // a sends its next one as soon as the last started: b, served before a, goes first.
    const a2 = take('a', 'a2');
    q.wakeNext();
    q.wakeNext();
    q.wakeNext();
    await Promise.all([...b, a2]);
    assert.deepEqual(got, ['b1:turn', 'a1:turn', 'b2:turn', 'a2:turn', 'b3:turn']);
    // Leaving and coming back: still after the client served before it.
    const got2: string[] = [];
    const q2 = new AdmissionQueue(() => 60_000);
    const t2 = (client: string, name: string, signal = new AbortController().signal) =>
      q2.wait(signal, client).then((o) => got2.push(`${name}:${o}`));
    const c = [t2('c', 'c0'), t2('c', 'c1')];
    const b0 = t2('b', 'b0');
    q2.wakeNext(); // c0
    q2.wakeNext(); // b0
    await Promise.all([c[0], b0]);
    const leave = new AbortController();
    const b1 = t2('b', 'b1', leave.signal);
    leave.abort();
    await b1;
    const b1again = t2('b', 'b1again');
    q2.wakeNext();
    q2.wakeNext();
    await Promise.all([c[1], b1again]);
    assert.deepEqual(got2, ['c0:turn', 'b0:turn', 'b1:left', 'c1:turn', 'b1again:turn']);
  });

  it('a sender using a new address for each request waits its round: a waiting client is not starved', async () => {
    const q = new AdmissionQueue(() => 60_000);
    const order: string[] = [];
    const take = (client: string, name: string) =>
      q.wait(new AbortController().signal, client).then((o) => order.push(`${name}:${o}`));
    const v = [take('v', 'v1'), take('v', 'v2')];
    const fresh: Array<Promise<number>> = [take('x0', 'x0')];
    for (let i = 1; i <= 6; i++) {
      q.wakeNext();
      await Promise.resolve();
      fresh.push(take(`x${i}`, `x${i}`));
    }
    while (q.wakeNext()) await Promise.resolve();
    await Promise.all([...v, ...fresh]);
    // Before, every new address went first: v2 waited behind all of them and timed out.
    assert.deepEqual(order.slice(0, 4), ['v1:turn', 'x0:turn', 'v2:turn', 'x1:turn']);
  });

  it('a full queue: the newest request of the client with the most waiting gives its place', async () => {
    const q = new AdmissionQueue(() => 60_000);
    const out: string[] = [];
    const waits = [1, 2, 3].map((i) =>
      q.wait(new AbortController().signal, 'a').then((o) => out.push(`a${i}:${o}`)),
    );
    assert.equal(q.mostWaitingBesides('b'), 3);
    assert.equal(q.mostWaitingBesides('a'), 0);
    assert.equal(q.displaceFor('b'), true);
    await waits[2];
    assert.deepEqual(out, ['a3:displaced']);
    assert.equal(q.length, 2);
    assert.equal(q.displaceFor('a'), false, 'nobody else to give way');
    q.refuseAll();
    await Promise.all(waits);
  });

  it('a wait ends on its timeout', async () => {
    const q = new AdmissionQueue(() => 30);
    assert.equal(await q.wait(new AbortController().signal), 'timeout');
    assert.equal(q.length, 0);
  });
});

describe('the allocation log under a retry storm', () => {
  it('records the first refusal of each reason per window in full and counts the rest', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('mode', 'queue-full', 'context'), { maxLength: 500 }), (kinds) => {
        const events: TimelineEvent[] = [];
        const log = new AllocationLog(
          (e) => events.push(e),
          () => 0,
          60_000,
        );
        for (const k of kinds)
          log.record({
            endpoint: '/v1/chat/completions',
            decision: 'refuse',
            status: 503,
            reason: 'r',
            reasonKind: k,
          });
        log.flush();
        assert.ok(events.length <= 6, `${events.length} events`);
        const total = events.reduce(
          (n, e) => n + (e.kind === 'guard.refusals' ? Number(e.data?.['count']) : 1),
          0,
        );
        assert.equal(total, kinds.length);
      }),
      { numRuns: 200 },
    );
  });
});

/** A request body stream as Node's parser would deliver it, in the given pieces. */
function bodyStream(pieces: Buffer[], headers: Record<string, string>): IncomingMessage {
  const r = Readable.from(pieces, { objectMode: false }) as unknown as IncomingMessage;
  Object.assign(r, { headers, complete: false });
  r.on('end', () => Object.assign(r, { complete: true }));
  return r;
}

describe('the body reader', () => {
  it('returns exactly the bytes sent when under the limit, 413 as soon as they pass it, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.boolean(),
        async (bytes, cuts, limit, declare) => {
          const body = Buffer.from(bytes);
          const headers: Record<string, string> = declare
            ? { 'content-length': String(body.length) }
            : { 'transfer-encoding': 'chunked' };
          const r = await readBody(bodyStream(split(body, cuts), headers), limit, 5000);
          if (body.length <= limit) {
            assert.ok(r.ok);
            assert.ok(r.body.equals(body));
          } else {
            assert.equal(r.ok, false);
            assert.equal(!r.ok && r.status, 413);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('drops a client that trickles its body past the total deadline', async () => {
    const trickle = new Readable({ read() {} }) as unknown as IncomingMessage;
    Object.assign(trickle, { headers: { 'transfer-encoding': 'chunked' }, complete: false });
    const timer = setInterval(() => (trickle as unknown as Readable).push(Buffer.from('a')), 10);
    const r = await readBody(trickle, 1_000_000, 1000, 120);
    clearInterval(timer);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.message : '', /took longer than/);
  });

  it('drops a client that stalls mid-body', async () => {
    const stalled = new Readable({ read() {} }) as unknown as IncomingMessage;
    Object.assign(stalled, { headers: { 'content-length': '10' }, complete: false });
    (stalled as unknown as Readable).push(Buffer.from('{"a"'));
    const r = await readBody(stalled, 1000, 50);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.status, 408);
  });
});
