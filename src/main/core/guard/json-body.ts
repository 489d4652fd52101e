import { type JsonLimits, scanJsonLimits } from '../util/json-limits.js';
import { NODE_BUDGET } from './endpoints/prompt-counter.js';

/**
 * A request body read as JSON, bounded before it is parsed: one linear scan of the structure outside strings
 * refuses nesting deeper than `maxDepth`, arrays longer than `maxArrayItems`, (optionally) strings longer
 * than `maxStringBytes` and more than `maxValues` values (by default the prompt counter's budget), each with
 * the byte offset where it happened; then the bytes must be UTF-8. Only then does `JSON.parse` run, so no
 * body can make the parser (or any later walk) recurse deeply or build millions of values.
 * Never throws, never recurses.
 */

/** The limits a body is held to (json-limits.ts). */
export type JsonBodyLimits = JsonLimits;

export type JsonBodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/**
 * Limits for generation requests: prompts nest a few levels (messages → content → parts → schema). A body
 * of more values than the prompt counter may visit would be refused after parsing anyway; the scan refuses
 * it before `JSON.parse` builds them (30 MB of `{},` was 800 MB of RSS and seconds of blocked event loop).
 */
export const DEFAULT_JSON_BODY_LIMITS: Readonly<JsonBodyLimits> = {
  maxDepth: 64,
  maxArrayItems: 100_000,
  maxValues: NODE_BUDGET,
};

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

/**
 * The body as a JSON object within the limits, or a message naming what was wrong and where. Limits that
 * leave out `maxValues` get the default one (pass `Infinity` to lift it): no request body should make
 * `JSON.parse` build more values than the counter may visit.
 */
export function parseJsonBody(
  body: Uint8Array,
  limits: JsonBodyLimits = DEFAULT_JSON_BODY_LIMITS,
): JsonBodyResult {
  try {
    const maxValues = limits.maxValues ?? NODE_BUDGET;
    if (!(limits.maxDepth >= 1) || !(limits.maxArrayItems >= 0) || !(maxValues >= 0))
      return { ok: false, message: 'JSON body limits are invalid (maxDepth must be ≥ 1, the others ≥ 0)' };
    if (body.length === 0) return { ok: false, message: 'body is empty, expected a JSON object' };
    // The scan first: it allocates nothing, so a body over a limit costs no decoded copy of itself.
    const scan = scanJsonLimits(body, { ...limits, maxValues });
    if (!scan.ok) return scan;
    let text: string;
    try {
      text = decoder.decode(body);
    } catch {
      return { ok: false, message: `body is not valid UTF-8 at byte ${firstInvalidUtf8(body)}` };
    }
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
