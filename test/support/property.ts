/**
 * Shared pieces of the parser property tests: inputs (arbitrary text and bytes, real fixture text with
 * random slices inserted, deleted or duplicated) and the checks every parser must pass (no throw, a
 * bounded time per call, output well-typed: every number finite, no undefined where JSON is expected).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';

/** One edit of a text: insert random text, delete a slice, or duplicate a slice in place. */
export interface Edit {
  op: 'insert' | 'delete' | 'duplicate';
  at: number;
  length: number;
  text: string;
}

const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom<'insert' | 'delete' | 'duplicate'>('insert', 'delete', 'duplicate'),
  at: fc.nat(),
  length: fc.nat({ max: 400 }),
  text: fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '\n',
      '"',
      '\\',
      '{',
      '}',
      ':',
      '\t',
      ' ',
      '0x',
      '-1',
      'NaN',
      '1e999',
      '%',
      '\u0000',
      '\r\n',
    ),
    // Digit runs past what a double holds (Number('9'.repeat(310)) is Infinity), and number-ish punctuation.
    fc.constantFrom(
      '9'.repeat(310),
      `${'9'.repeat(310)}.5`,
      '.',
      ',',
      '-',
      '+',
      ' 0 ',
      '00000000000000000000017',
    ),
  ),
});

export function applyEdits(source: string, edits: readonly Edit[]): string {
  let s = source;
  for (const e of edits) {
    const at = s.length === 0 ? 0 : e.at % (s.length + 1);
    const end = Math.min(s.length, at + e.length);
    if (e.op === 'insert') s = s.slice(0, at) + e.text + s.slice(at);
    else if (e.op === 'delete') s = s.slice(0, at) + s.slice(end);
    else s = s.slice(0, end) + s.slice(at, end) + s.slice(end);
  }
  return s;
}

/** Real fixture text with up to 6 random edits. */
export const mutated = (sources: readonly string[]): fc.Arbitrary<string> =>
  fc
    .tuple(fc.constantFrom(...sources), fc.array(edit, { minLength: 1, maxLength: 6 }))
    .map(([s, edits]) => applyEdits(s, edits));

/** Any text: unicode strings, raw bytes read as UTF-8 or Latin-1, lines of field-like tokens. */
export const anyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('utf8')),
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('latin1')),
  fc
    .array(
      fc.tuple(
        fc.constantFrom('', ' ', '\t', '"', '[', '|', '{'),
        fc.string({ maxLength: 12 }),
        fc.constantFrom(':', ' = ', ': ', '|', ' ', ','),
        fc.oneof(fc.string({ maxLength: 12 }), fc.double().map(String), fc.bigInt().map(String)),
      ),
      { maxLength: 20 },
    )
    .map((rows) => rows.map((r) => r.join('')).join('\n')),
);

/** Runs fn, failing when it throws or takes longer than `ms`; returns its result. */
export function bounded<T>(fn: () => T, ms = 1000): T {
  const start = performance.now();
  const out = fn();
  const took = performance.now() - start;
  assert.ok(took < ms, `took ${took.toFixed(0)} ms (bound ${ms} ms)`);
  return out;
}

/**
 * Every number reachable from `value` is finite (a parser returns null for a figure it cannot read,
 * never NaN or Infinity); no function or symbol values; Maps and Sets are walked too.
 */
export function assertWellTyped(value: unknown, path = 'output', seen = new Set<unknown>()): void {
  if (value === null || value === undefined) return;
  switch (typeof value) {
    case 'number':
      assert.ok(Number.isFinite(value), `${path} is ${value}`);
      return;
    case 'string':
    case 'boolean':
    case 'bigint':
      return;
    case 'object':
      break;
    default:
      assert.fail(`${path} is a ${typeof value}`);
  }
  if (seen.has(value)) return;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      assertWellTyped(k, `${path}.key`, seen);
      assertWellTyped(v, `${path}[${String(k)}]`, seen);
    }
    return;
  }
  if (value instanceof Set) {
    for (const v of value) assertWellTyped(v, `${path}{}`, seen);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    assertWellTyped(v, `${path}.${k}`, seen);
}

/** Runs enough cases to find shallow bugs and keeps each file to a few seconds. */
export const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 1000);

export { fc };
