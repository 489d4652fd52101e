import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FAMILIES, type FactsResult } from '../../../src/main/core/guard/endpoints/endpoint-family.js';
import { MAX_TOKENS_LIMIT } from '../../../src/main/core/guard/endpoints/prompt-counter.js';
import { type JsonBodyLimits, parseJsonBody } from '../../../src/main/core/guard/json-body.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Field names and discriminators of all four protocols, so generated bodies reach every counting path. */
const KEYS = [
  'messages',
  'content',
  'type',
  'text',
  'role',
  'name',
  'tool_calls',
  'function',
  'arguments',
  'function_call',
  'tool_call_id',
  'input',
  'output',
  'instructions',
  'system',
  'images',
  'options',
  'num_predict',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'tools',
  'functions',
  'tool_choice',
  'response_format',
  'format',
  'prompt',
  'suffix',
  'template',
  'context',
  'summary',
  'source',
  'data',
  'thinking',
  'stream',
  'model',
  'json_schema',
  'id',
  'call_id',
  'tool_use_id',
  'title',
  'refusal',
  'reasoning_content',
  'tool_name',
  '__proto__',
] as const;
const TYPES = [
  'text',
  'input_text',
  'output_text',
  'image_url',
  'input_image',
  'image',
  'input_audio',
  'audio',
  'file',
  'input_file',
  'refusal',
  'message',
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'reasoning',
  'item_reference',
  'tool_use',
  'server_tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
  'document',
  'search_result',
  'content',
  'base64',
  'unknown_part',
] as const;

const leaf = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...TYPES),
  fc.integer({ min: -3, max: 5000 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const { value: promptValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 }),
}));
/** Bodies shaped like generation requests: known keys, known part types, anything as values. */
const promptBody = fc.dictionary(fc.constantFrom(...KEYS), promptValue, { maxKeys: 8 }) as fc.Arbitrary<Json>;
const anyBody = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 6 }), {
  maxKeys: 8,
}) as fc.Arbitrary<Json>;

function assertWellTyped(r: FactsResult, where: string): void {
  if (r.ok) {
    const f = r.facts;
    assert.deepEqual(
      Object.keys(f).sort(),
      ['images', 'maxTokens', 'model', 'promptTokens', 'stream'],
      where,
    );
    assert.ok(
      Number.isSafeInteger(f.promptTokens) && f.promptTokens >= 0,
      `${where}: promptTokens ${f.promptTokens}`,
    );
    assert.ok(Number.isSafeInteger(f.images) && f.images >= 0, `${where}: images ${f.images}`);
    assert.ok(
      f.maxTokens === null ||
        (Number.isSafeInteger(f.maxTokens) && f.maxTokens >= 0 && f.maxTokens <= MAX_TOKENS_LIMIT),
      `${where}: maxTokens ${f.maxTokens}`,
    );
    assert.equal(typeof f.stream, 'boolean', where);
    assert.ok(f.model === null || typeof f.model === 'string', where);
  } else {
    assert.ok(typeof r.param === 'string' && r.param.length > 0, where);
    assert.ok(typeof r.message === 'string' && r.message.length > 0, where);
  }
}

/** Nesting depth and the longest array of a JSON value, computed independently (iteratively). */
function shape(value: unknown): { depth: number; longest: number } {
  let depth = 0;
  let longest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    depth = Math.max(depth, d + 1);
    const children = Array.isArray(v) ? v : Object.values(v);
    if (Array.isArray(v)) longest = Math.max(longest, v.length);
    for (const c of children) stack.push([c, d + 1]);
  }
  return { depth, longest };
}

describe('parseJsonBody on arbitrary input', () => {
  it('accepts exactly the objects within the limits, and returns what JSON.parse would', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 6 }),
        (value, maxDepth, maxArrayItems) => {
          const text = JSON.stringify(value);
          const r = parseJsonBody(Buffer.from(text), { maxDepth, maxArrayItems });
          const { depth, longest } = shape(value);
          const expectOk = isObj(value) && depth <= maxDepth && longest <= maxArrayItems;
          assert.equal(r.ok, expectOk, `${text} (depth ${depth}, longest ${longest})`);
          if (r.ok) assert.deepEqual(r.value, JSON.parse(text));
          else assert.ok(r.message.length > 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes, JSON-like bytes or corrupted JSON', () => {
    const limits: JsonBodyLimits = { maxDepth: 16, maxArrayItems: 100, maxStringBytes: 64 };
    const check = (bytes: Uint8Array) => {
      const r = parseJsonBody(bytes, limits);
      if (r.ok) assert.ok(isObj(r.value));
      else assert.ok(typeof r.message === 'string' && r.message.length > 0);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), check), { numRuns: 300 });
    const jsonish = fc
      .array(
        fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', ' ', 'a', '1', 'é', '\u{1F600}', 'null'),
        {
          maxLength: 200,
        },
      )
      .map((parts) => Buffer.from(parts.join('')));
    fc.assert(fc.property(jsonish, check), { numRuns: 300 });
    const corrupted = fc
      .tuple(fc.jsonValue({ maxDepth: 5 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([v, at, byte]) => {
        const b = Buffer.from(JSON.stringify(v));
        if (b.length > 0) b[at % b.length] = byte;
        return b;
      });
    fc.assert(fc.property(corrupted, check), { numRuns: 300 });
  });

  it('refuses 100,000 levels of nesting (built as a string) without a stack overflow, in < 50 ms', () => {
    const n = 100_000;
    const bodies = [
      '{"a":'.repeat(n) + '1' + '}'.repeat(n),
      '{"a":' + '['.repeat(n) + ']'.repeat(n) + '}',
      '{"messages":[{"content":' + '[{"text":'.repeat(n) + '"x"' + '}]'.repeat(n) + '}]}',
    ].map((s) => Buffer.from(s));
    for (const body of bodies) {
      parseJsonBody(body, { maxDepth: 64, maxArrayItems: 100_000 }); // warm-up
      const t0 = performance.now();
      const r = parseJsonBody(body, { maxDepth: 64, maxArrayItems: 100_000 });
      const ms = performance.now() - t0;
      assert.ok(!r.ok && /^nesting deeper than 64 at byte \d+$/.test(r.message), JSON.stringify(r));
      assert.ok(ms < 50, `took ${ms.toFixed(1)} ms`);
    }
  });
});

describe("every family's facts() on arbitrary bodies", () => {
  it('never throws and returns well-typed facts (JSON values)', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        for (const f of FAMILIES) assertWellTyped(f.facts(body), f.paths[0]!);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws and returns well-typed facts (bodies shaped like requests, numbers of every kind)', () => {
    fc.assert(
      fc.property(promptBody, (body) => {
        for (const f of FAMILIES) assertWellTyped(f.facts(body), f.paths[0]!);
      }),
      { numRuns: 500 },
    );
  });

  it('counts bodies that went through parseJsonBody', () => {
    fc.assert(
      fc.property(promptBody, (body) => {
        const parsed = parseJsonBody(Buffer.from(JSON.stringify(body)), {
          maxDepth: 64,
          maxArrayItems: 1000,
        });
        assert.ok(parsed.ok);
        for (const f of FAMILIES) assertWellTyped(f.facts(parsed.value), f.paths[0]!);
      }),
      { numRuns: 200 },
    );
  });
});

/** Paths to every string in a value, except discriminators (`type` members), found iteratively. */
function stringPaths(value: unknown): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  const stack: Array<[unknown, Array<string | number>]> = [[value, []]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string' && path[path.length - 1] !== 'type') out.push(path);
    else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v[i], [...path, i]]);
    else if (isObj(v)) for (const k of Object.keys(v)) stack.push([v[k], [...path, k]]);
  }
  return out;
}

function appendAt(body: Json, path: Array<string | number>, text: string): Json {
  const copy = structuredClone(body);
  let at: unknown = copy;
  for (const key of path.slice(0, -1)) at = (at as Record<string | number, unknown>)[key];
  const last = path[path.length - 1]!;
  (at as Record<string | number, unknown>)[last] += text;
  return copy;
}

describe('monotone counting', () => {
  it('adding text to any string of a body never lowers any family’s count', () => {
    fc.assert(
      fc.property(
        promptBody.filter((b) => stringPaths(b).length > 0),
        fc.nat(),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
        (body, pick, text) => {
          const paths = stringPaths(body);
          const after = appendAt(body, paths[pick % paths.length]!, text);
          for (const f of FAMILIES) {
            const a = f.facts(body);
            const b = f.facts(after);
            assert.equal(a.ok, b.ok, f.paths[0]);
            if (a.ok && b.ok)
              assert.ok(
                b.facts.promptTokens >= a.facts.promptTokens,
                `${f.paths[0]}: ${a.facts.promptTokens} → ${b.facts.promptTokens}`,
              );
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('adding a message never lowers the count', () => {
    const message = fc.record({
      role: fc.constantFrom('user', 'assistant'),
      content: fc.string({ maxLength: 50 }),
    });
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), message, (messages, extra) => {
        for (const f of FAMILIES) {
          const key = f.protocol === 'openai-responses' ? 'input' : 'messages';
          const a = f.facts({ [key]: messages });
          const b = f.facts({ [key]: [...messages, extra] });
          assert.ok(a.ok && b.ok && b.facts.promptTokens >= a.facts.promptTokens, f.paths[0]);
        }
      }),
    );
  });
});
