/**
 * A request body read as JSON, bounded before it is parsed: the bytes must be UTF-8, and one linear scan of
 * the structure outside strings refuses nesting deeper than `maxDepth`, arrays longer than `maxArrayItems`
 * and (optionally) strings longer than `maxStringBytes`, each with the byte offset where it happened. Only
 * then does `JSON.parse` run, so no body can make the parser (or any later walk) recurse deeply.
 * Never throws, never recurses.
 */

export interface JsonBodyLimits {
  /** Deepest nesting of objects and arrays allowed (1 = a flat object). */
  maxDepth: number;
  /** Most elements one array may have. */
  maxArrayItems: number;
  /** Longest string allowed, in body bytes between its quotes (escapes counted as written). */
  maxStringBytes?: number;
}

export type JsonBodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/** Limits for generation requests: prompts nest a few levels (messages → content → parts → schema). */
export const DEFAULT_JSON_BODY_LIMITS: Readonly<JsonBodyLimits> = { maxDepth: 64, maxArrayItems: 100_000 };

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

/** Byte offset of the first invalid UTF-8 sequence (WHATWG rules: no overlongs, surrogates, > U+10FFFF). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return i;
    }
    i += need + 1;
  }
  return -1;
}

export type ScanResult = { ok: true } | { ok: false; message: string };

/**
 * One pass over the bytes, outside strings only: nesting depth, array lengths, string lengths. Multi-byte
 * UTF-8 sequences never contain an ASCII byte, so scanning bytes is exact. Malformed JSON is left for
 * `JSON.parse` to describe; this scan only has to be right about the limits.
 */
export function scanJsonLimits(bytes: Uint8Array, limits: JsonBodyLimits): ScanResult {
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

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The body as a JSON object within the limits, or a message naming what was wrong and where. */
export function parseJsonBody(
  body: Uint8Array,
  limits: JsonBodyLimits = DEFAULT_JSON_BODY_LIMITS,
): JsonBodyResult {
  try {
    if (!(limits.maxDepth >= 1) || !(limits.maxArrayItems >= 0))
      return { ok: false, message: 'JSON body limits are invalid (maxDepth must be ≥ 1)' };
    if (body.length === 0) return { ok: false, message: 'body is empty, expected a JSON object' };
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      return { ok: false, message: `body is not valid UTF-8 at byte ${firstInvalidUtf8(body)}` };
    }
    const scan = scanJsonLimits(body, limits);
    if (!scan.ok) return scan;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { ok: false, message: `body is not JSON: ${String((e as Error).message).slice(0, 200)}` };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return {
        ok: false,
        message: `body is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}, expected a JSON object`,
      };
    return { ok: true, value: value as Record<string, unknown> };
  } catch (e) {
    return { ok: false, message: `body could not be read: ${(e as Error)?.message ?? e}` };
  }
}
