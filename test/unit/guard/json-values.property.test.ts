import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NODE_BUDGET } from '../../../src/main/core/guard/endpoints/prompt-counter.js';
import { DEFAULT_JSON_BODY_LIMITS, parseJsonBody } from '../../../src/main/core/guard/json-body.js';
import { type JsonLimits, scanJsonLimits } from '../../../src/main/core/util/json-limits.js';

/**
 * The value limit of the JSON scan (`maxValues`): the scan counts values where they start, so on valid JSON
 * its count is exact, and a body over the prompt counter's budget is refused before `JSON.parse` builds it.
 */

const wide: JsonLimits = { maxDepth: 1000, maxArrayItems: 1_000_000 };
const scan = (text: string | Uint8Array, maxValues: number, limits: JsonLimits = wide) =>
  scanJsonLimits(typeof text === 'string' ? Buffer.from(text) : text, { ...limits, maxValues });

/** JSON values in a parsed value (object keys are not values), counted without recursion. */
function countValues(value: unknown): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    count++;
    if (Array.isArray(v)) stack.push(...v);
    else if (v !== null && typeof v === 'object') stack.push(...Object.values(v));
  }
  return count;
}

/** Strings (keys and values) made of the bytes the scan looks at: brackets, quotes, escapes, commas. */
const trickyUnit = fc.constantFrom(
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  '\\',
  '\\"',
  ' ',
  '\n',
  '\t',
  'a',
  '1',
  '-',
  'true',
  'é',
  '\u{1F600}',
  '\u0000',
);
const documents = fc.tuple(
  fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.jsonValue({ maxDepth: 6, stringUnit: trickyUnit })),
  fc.constantFrom(undefined, 1, 2, '\t', ' \r\n'),
);

describe('scanJsonLimits: maxValues', () => {
  it('counts exactly the values JSON.parse builds, on random documents (a limit of the count passes, one less fails)', () => {
    fc.assert(
      fc.property(documents, ([value, indent]) => {
        const text = JSON.stringify(value, null, indent as string | number | undefined);
        const real = countValues(JSON.parse(text));
        const bytes = Buffer.from(text);
        assert.deepEqual(scan(bytes, real), { ok: true }, `${text}: ${real} values`);
        const under = scan(bytes, real - 1);
        assert.ok(!under.ok, `${text}: passed a limit of ${real - 1}`);
        assert.match(under.message, new RegExp(`^more than ${real - 1} JSON values at byte \\d+$`));
      }),
      { numRuns: 1000 },
    );
  });

  it('never counts fewer values than a corrupted document that still parses holds', () => {
    const corrupted = fc
      .tuple(
        fc.jsonValue({ maxDepth: 5, stringUnit: trickyUnit }),
        fc.nat(),
        fc.constantFrom(...' ,:"[]{}\\1an'),
      )
      .map(([v, at, c]) => {
        const b = Buffer.from(JSON.stringify(v));
        if (b.length > 0) b[at % b.length] = c.charCodeAt(0);
        return b;
      });
    fc.assert(
      fc.property(corrupted, (bytes) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(bytes.toString());
        } catch {
          return; // JSON.parse refuses it: nothing is built past the error
        }
        const real = countValues(parsed);
        assert.ok(!scan(bytes, real - 1).ok, `${bytes.toString()}: passed a limit of ${real - 1}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('counts containers, strings that are values (not keys), numbers and literals, and names the byte', () => {
    const text = '{"a":[1,-2.5e3,"x",true,false,null,{},[]],"b":{"c":"d"}}';
    // {} a:[ 1 -2.5e3 "x" true false null {} [] ] b:{ c:"d" } → 12 values; keys a, b, c are not.
    assert.equal(countValues(JSON.parse(text)), 12);
    assert.deepEqual(scan(text, 12), { ok: true });
    assert.deepEqual(scan(text, 11), {
      ok: false,
      message: `more than 11 JSON values at byte ${text.indexOf('"d"')}`,
    });
    assert.deepEqual(scan('[1,2,3]', 3), { ok: false, message: 'more than 3 JSON values at byte 5' });
    assert.deepEqual(scan(' 7 ', 1), { ok: true });
    assert.deepEqual(scan(' 7 ', 0), { ok: false, message: 'more than 0 JSON values at byte 1' });
    // A key that looks like structure, escaped quotes and backslashes before a closing quote.
    const keys = '{"[,{\\"\\\\":"]}\\\\","x\\\\\\"":[]}';
    assert.equal(countValues(JSON.parse(keys)), 3);
    assert.deepEqual(scan(keys, 3), { ok: true });
    assert.equal(scan(keys, 2).ok, false);
  });

  it('leaves the other limits as they were when maxValues is absent, and checks them first at the same byte', () => {
    const many = `[${'0,'.repeat(999)}0]`;
    assert.deepEqual(scanJsonLimits(Buffer.from(many), wide), { ok: true });
    assert.deepEqual(scan('[[[1]]]', 1, { maxDepth: 2, maxArrayItems: 10 }), {
      ok: false,
      message: 'more than 1 JSON values at byte 1',
    });
    assert.deepEqual(scan('[[[1]]]', 10, { maxDepth: 2, maxArrayItems: 10 }), {
      ok: false,
      message: 'nesting deeper than 2 at byte 2',
    });
  });

  it('skips a 30 MB string without a per-byte loop (< 100 ms) and refuses 30 MB of `{},` within its first 3 MB', () => {
    const image = Buffer.from(
      JSON.stringify({
        messages: [{ content: `data:image/png;base64,${Buffer.alloc(22_500_000, 7).toString('base64')}` }],
      }),
    );
    scan(image, NODE_BUDGET); // warm-up
    let t0 = performance.now();
    assert.deepEqual(scan(image, NODE_BUDGET), { ok: true });
    const imageMs = performance.now() - t0;
    assert.ok(imageMs < 100, `took ${imageMs.toFixed(1)} ms`);
    const inner = `[${'{},'.repeat(99_998)}{}]`;
    const small = Buffer.from(`{"x":[${new Array(100).fill(inner).join(',')}]}`);
    t0 = performance.now();
    const r = scan(small, NODE_BUDGET, DEFAULT_JSON_BODY_LIMITS);
    const smallMs = performance.now() - t0;
    assert.ok(!r.ok);
    const at = Number(/^more than 1000000 JSON values at byte (\d+)$/.exec(r.message)?.[1]);
    assert.ok(at > 2_900_000 && at < 3_100_000, r.message);
    assert.ok(smallMs < 500, `took ${smallMs.toFixed(1)} ms`);
  });
});

describe('parseJsonBody: the value limit', () => {
  /** A body of exactly `n` values: the object and `n - 1` zeros in arrays of at most 100,000 items. */
  const bodyOf = (n: number): Buffer => {
    const rows: string[] = [];
    let left = n - 2; // the object and the outer array
    while (left > 0) {
      const k = Math.min(left - 1, 99_999);
      rows.push(`[${new Array(k).fill('0').join(',')}]`);
      left -= k + 1;
    }
    return Buffer.from(`{"x":[${rows.join(',')}]}`);
  };

  it(`holds bodies to ${NODE_BUDGET} values by default: exactly that many pass, one more is refused unparsed`, () => {
    assert.equal(DEFAULT_JSON_BODY_LIMITS.maxValues, NODE_BUDGET);
    const exact = bodyOf(NODE_BUDGET);
    const r = parseJsonBody(exact);
    assert.ok(r.ok, JSON.stringify(r).slice(0, 200));
    assert.equal(countValues(r.value), NODE_BUDGET);
    const over = parseJsonBody(bodyOf(NODE_BUDGET + 1));
    assert.ok(!over.ok);
    assert.match(over.message, /^more than 1000000 JSON values at byte \d+$/);
  });

  it('applies the default value limit to limits that leave it out; Infinity lifts it', () => {
    const over = bodyOf(NODE_BUDGET + 1);
    const r = parseJsonBody(over, { maxDepth: 64, maxArrayItems: 100_000 });
    assert.ok(!r.ok && /^more than 1000000 JSON values/.test(r.message));
    assert.ok(parseJsonBody(over, { maxDepth: 64, maxArrayItems: 100_000, maxValues: Infinity }).ok);
    assert.deepEqual(
      parseJsonBody(Buffer.from('{"a":[1,2]}'), { maxDepth: 4, maxArrayItems: 4, maxValues: 3 }),
      {
        ok: false,
        message: 'more than 3 JSON values at byte 8', // the `2`
      },
    );
    assert.equal(
      parseJsonBody(Buffer.from('{}'), { maxDepth: 4, maxArrayItems: 4, maxValues: -1 }).ok,
      false,
    );
  });

  it('scans before it decodes: a body over a limit with invalid UTF-8 after it is refused for the limit', () => {
    const body = Buffer.concat([
      bodyOf(NODE_BUDGET + 1).subarray(0, -1),
      Buffer.from([0xff]),
      Buffer.from('}'),
    ]);
    const r = parseJsonBody(body);
    assert.ok(!r.ok && /^more than 1000000 JSON values at byte \d+$/.test(r.message), JSON.stringify(r));
    // Within the limits, the UTF-8 check still names the byte.
    assert.deepEqual(parseJsonBody(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), {
      ok: false,
      message: 'body is not valid UTF-8 at byte 2',
    });
  });
});
