/**
 * JSON bounded before it is parsed: one linear scan of the structure outside strings refuses nesting deeper
 * than `maxDepth`, arrays longer than `maxArrayItems` and (optionally) strings longer than `maxStringBytes`,
 * each with the byte offset where it happened. `JSON.parse` itself does not recurse, but what it builds from
 * 10 MB of `[` is five million nested arrays (1.4 GB of RSS in the daemon), and any later walk of it would
 * recurse. Used for request bodies (the guard) and for answers from outside (EXO). Never throws, never
 * recurses.
 */

export interface JsonLimits {
  /** Deepest nesting of objects and arrays allowed (1 = a flat object). */
  maxDepth: number;
  /** Most elements one array may have. */
  maxArrayItems: number;
  /** Longest string allowed, in body bytes between its quotes (escapes counted as written). */
  maxStringBytes?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

export type ScanResult = { ok: true } | { ok: false; message: string };

/**
 * One pass over the bytes, outside strings only: nesting depth, array lengths, string lengths. Multi-byte
 * UTF-8 sequences never contain an ASCII byte, so scanning bytes is exact. Malformed JSON is left for
 * `JSON.parse` to describe; this scan only has to be right about the limits.
 */
export function scanJsonLimits(bytes: Uint8Array, limits: JsonLimits): ScanResult {
  const { maxDepth, maxArrayItems } = limits;
  const maxString = limits.maxStringBytes ?? Number.POSITIVE_INFINITY;
  // Per open container: 1 for an array, 0 for an object; and the items seen so far in an array.
  const isArray = new Uint8Array(maxDepth + 1);
  const items = new Float64Array(maxDepth + 1);
  let depth = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === SPACE || b === TAB || b === LF || b === CR) continue;
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
      const start = i;
      i++;
      while (i < n) {
        const c = bytes[i]!;
        if (c === BACKSLASH) i += 2;
        else if (c === QUOTE) break;
        else i++;
      }
      const length = Math.min(i, n) - start - 1;
      if (length > maxString)
        return { ok: false, message: `string longer than ${maxString} bytes at byte ${start}` };
      continue;
    }
    if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (depth >= maxDepth) return { ok: false, message: `nesting deeper than ${maxDepth} at byte ${i}` };
      isArray[depth] = b === OPEN_BRACKET ? 1 : 0;
      items[depth] = 0;
      depth++;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      if (depth > 0) depth--;
    }
  }
  return { ok: true };
}
