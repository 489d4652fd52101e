/**
 * JSON bounded before it is parsed: one linear scan of the structure outside strings refuses nesting deeper
 * than `maxDepth`, arrays longer than `maxArrayItems` and (optionally) strings longer than `maxStringBytes`
 * and documents of more than `maxValues` values, each with the byte offset where it happened. `JSON.parse`
 * itself does not recurse, but what it builds from 10 MB of `[` is five million nested arrays (1.4 GB of RSS
 * in the daemon), and any later walk of it would recurse; 30 MB of `{},` is ten million objects (800 MB of
 * RSS and seconds of a blocked event loop). Used for request bodies (the guard) and for answers from outside
 * (EXO). Never throws, never recurses.
 */

export interface JsonLimits {
  /** Deepest nesting of objects and arrays allowed (1 = a flat object). */
  maxDepth: number;
  /** Most elements one array may have. */
  maxArrayItems: number;
  /** Longest string allowed, in body bytes between its quotes (escapes counted as written). */
  maxStringBytes?: number;
  /**
   * Most JSON values the whole document may hold: objects, arrays, strings, numbers, true/false/null
   * (object keys are not values). What `JSON.parse` allocates grows with it, whatever the bytes.
   */
  maxValues?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

// The typed array's own indexOf: Buffer's goes through a slower JavaScript wrapper.
const indexOf = Uint8Array.prototype.indexOf;

export type ScanResult = { ok: true } | { ok: false; message: string };

/**
 * One pass over the bytes, outside strings only: nesting depth, array lengths, string lengths, values.
 * Multi-byte UTF-8 sequences never contain an ASCII byte, so scanning bytes is exact. Malformed JSON is left
 * for `JSON.parse` to describe; this scan only has to be right about the limits.
 *
 * Values are counted where they start: `{`, `[`, a string that is not an object key, and the first byte of a
 * run of number/literal bytes. On valid JSON (and on the valid prefix `JSON.parse` builds before an error)
 * that is the exact count; on malformed input it can only count more.
 */
export function scanJsonLimits(bytes: Uint8Array, limits: JsonLimits): ScanResult {
  const { maxDepth, maxArrayItems } = limits;
  const maxString = limits.maxStringBytes ?? Number.POSITIVE_INFINITY;
  const maxValues = limits.maxValues ?? Number.POSITIVE_INFINITY;
  // Per open container: 1 for an array, 0 for an object; and the items seen so far in an array.
  const isArray = new Uint8Array(maxDepth + 1);
  const items = new Float64Array(maxDepth + 1);
  let depth = 0;
  let values = 0;
  // The last byte that was not white space (0 at the start), to tell a key from a string value.
  let prev = 0;
  // Whether the previous byte was part of a number or literal, so each one is counted once.
  let inScalar = false;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === SPACE || b === TAB || b === LF || b === CR) {
      inScalar = false;
      continue;
    }
    const top = depth - 1;
    if (top >= 0 && isArray[top] === 1) {
      // The first element of an array starts at its first byte that is not `]`; later ones after a comma.
      if ((items[top] === 0 && b !== CLOSE_BRACKET) || b === COMMA) {
        items[top] = items[top]! + 1;
        if (items[top]! > maxArrayItems)
          return { ok: false, message: `array of more than ${maxArrayItems} items at byte ${i}` };
      }
    }
    if (b === QUOTE) {
      // In an object, a string right after `{` or `,` is a key; anywhere else it is a value.
      const isKey = top >= 0 && isArray[top] === 0 && (prev === OPEN_BRACE || prev === COMMA);
      if (!isKey && ++values > maxValues) return tooMany(maxValues, i);
      const start = i;
      // The closing quote is the next one not escaped (after an even run of backslashes). indexOf is native:
      // a 30 MB base64 string is skipped without a JavaScript loop over its bytes.
      let end = indexOf.call(bytes, QUOTE, i + 1);
      while (end !== -1 && escaped(bytes, end, start)) end = indexOf.call(bytes, QUOTE, end + 1);
      i = end === -1 ? n : end;
      const length = i - start - 1;
      if (length > maxString)
        return { ok: false, message: `string longer than ${maxString} bytes at byte ${start}` };
      prev = QUOTE;
      inScalar = false;
      continue;
    }
    if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (depth >= maxDepth) return { ok: false, message: `nesting deeper than ${maxDepth} at byte ${i}` };
      if (++values > maxValues) return tooMany(maxValues, i);
      isArray[depth] = b === OPEN_BRACKET ? 1 : 0;
      items[depth] = 0;
      depth++;
      inScalar = false;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      if (depth > 0) depth--;
      inScalar = false;
    } else if (b === COMMA || b === COLON) {
      inScalar = false;
    } else if (!inScalar) {
      // A number, true, false or null (or garbage, which JSON.parse refuses): one value per run of bytes.
      if (++values > maxValues) return tooMany(maxValues, i);
      inScalar = true;
    }
    prev = b;
  }
  return { ok: true };
}

const tooMany = (maxValues: number, at: number): ScanResult => ({
  ok: false,
  message: `more than ${maxValues} JSON values at byte ${at}`,
});

/** Whether the quote at `at` is escaped: an odd run of backslashes before it, inside the string. */
function escaped(bytes: Uint8Array, at: number, start: number): boolean {
  let k = at - 1;
  while (k > start && bytes[k] === BACKSLASH) k--;
  return (at - 1 - k) % 2 === 1;
}
