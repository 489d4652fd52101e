import { type JsonLimits, scanJsonLimits } from '../util/json-limits.js';

/**
 * A request body read as JSON, bounded before it is parsed: the bytes must be UTF-8, and one linear scan of
 * the structure outside strings refuses nesting deeper than `maxDepth`, arrays longer than `maxArrayItems`
 * and (optionally) strings longer than `maxStringBytes`, each with the byte offset where it happened. Only
 * then does `JSON.parse` run, so no body can make the parser (or any later walk) recurse deeply.
 * Never throws, never recurses.
 */

/** The limits a body is held to (json-limits.ts). */
export type JsonBodyLimits = JsonLimits;

export type JsonBodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/** Limits for generation requests: prompts nest a few levels (messages → content → parts → schema). */
export const DEFAULT_JSON_BODY_LIMITS: Readonly<JsonBodyLimits> = { maxDepth: 64, maxArrayItems: 100_000 };

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
