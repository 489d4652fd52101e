/**
 * Counting a prompt without the model's tokenizer, bounded: every prompt-bearing string is measured as it is
 * met (nothing is joined or copied), nested values are walked with an explicit stack (a hostile body cannot
 * overflow the call stack), and a node budget stops the walk of an absurdly wide body early.
 */

/**
 * Prompt tokens without the model's tokenizer: an upper-leaning estimate. BPE vocabularies of current
 * models average about 4 characters per token on English prose and 3 on code; CJK and other non-ASCII
 * text is close to one token per character. So: ASCII characters / 3 + other characters × 1, rounded up
 * (a character is a code point: a surrogate pair counts once, a lone surrogate counts once).
 * The guard then checks the real count from EXO's `prefill_progress` frames (total_tokens), which arrive
 * before the large allocations finish, and cancels a request that breaks the cap.
 */
import type { FactsResult } from './endpoint-family.js';
export function estimateTokens(text: string): number {
  const [ascii, other] = charClasses(text);
  return Math.ceil(ascii / 3) + other;
}

/** [ASCII characters, other code points] of a string, by char codes (no iterator, no allocation). */
function charClasses(text: string): [number, number] {
  let ascii = 0;
  let other = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      ascii++;
      continue;
    }
    other++;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return [ascii, other];
}

/**
 * Tokens one image costs, whatever its encoding (base64, URL) or byte size. Vision models turn an image into
 * a fixed-ish number of patch tokens after resizing it: Anthropic documents ≈ width×height/750 with images
 * scaled to at most ~1.15 megapixels, i.e. about 1,600 tokens at most; Llama 3.2 Vision uses 1,601 tokens per
 * tile, LLaVA-1.5 576, LLaVA-NeXT up to 2,880, Gemma 3 256, Qwen2.5-VL one token per 28×28 pixels (≈1,300
 * for a 1-megapixel image, more when a client sends a larger one). 1,600 covers the common case; EXO reports
 * the real prompt length in `prefill_progress`, which the guard checks before the large allocations finish.
 */
export const IMAGE_TOKENS = 1_600;

/**
 * Tokens for a document or file part whose text we cannot see (PDF, base64 file data, file id): Anthropic
 * documents 1,500–3,000 tokens per PDF page; one dense page is the conservative floor we can assume.
 */
export const FILE_TOKENS = 3_000;

/**
 * Tokens for an audio part: speech encoders emit 25 (Qwen2-Audio) to 50 (Whisper) tokens per second; 1,600
 * covers about 30 s of Whisper-rate audio, the length Whisper-style encoders take in one window.
 */
export const AUDIO_TOKENS = 1_600;

/**
 * Tokens a chat template adds around each message: ChatML is `<|im_start|>` role `\n` … `<|im_end|>` `\n`
 * (5 tokens), Llama 3 `<|start_header_id|>` role `<|end_header_id|>` `\n\n` … `<|eot_id|>` (5), Mistral
 * `[INST]` … `[/INST]` (2–4). OpenAI's cookbook counts 3 per message plus 3 for the reply primer; 5 covers
 * the common templates.
 */
export const MESSAGE_OVERHEAD_TOKENS = 5;

/** The most JSON values one body's count may visit: past it the body is refused, not measured slowly. */
export const NODE_BUDGET = 1_000_000;

/** Punctuation a JSON member or element adds when a schema is rendered into the prompt (`"":,` or `,`). */
const MEMBER_PUNCTUATION = 4;
const ELEMENT_PUNCTUATION = 1;

type Json = Record<string, unknown>;
export const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The running count for one body. Characters are summed as classes and rounded once at the end, so the
 * count of a body equals `estimateTokens` of all its prompt text joined, plus fixed costs, and adding text
 * anywhere never lowers it.
 */
export class PromptTally {
  private ascii = 0;
  private other = 0;
  private fixed = 0;
  private visited = 0;
  private imageCount = 0;

  constructor(private readonly budget: number = NODE_BUDGET) {}

  /** True once the walk has visited more values than the budget allows; the caller refuses the body. */
  get overBudget(): boolean {
    return this.visited > this.budget;
  }

  /** Images counted so far (each costs {@link IMAGE_TOKENS}). */
  get images(): number {
    return this.imageCount;
  }

  /** The estimate so far: a finite non-negative integer. */
  get tokens(): number {
    return Math.ceil(this.ascii / 3) + this.other + this.fixed;
  }

  /** One visited value; false once the budget is spent (stop walking). */
  visit(count = 1): boolean {
    this.visited += count;
    return this.visited <= this.budget;
  }

  /** Prompt text: strings count, anything else is ignored (a number here is not prompt text). */
  text(value: unknown): void {
    if (value === undefined || !this.visit()) return;
    if (typeof value !== 'string') return;
    const [a, o] = charClasses(value);
    this.ascii += a;
    this.other += o;
  }

  /** Fixed tokens (template overhead, token ids given as numbers). */
  add(tokens: number): void {
    if (Number.isFinite(tokens) && tokens > 0) this.fixed += Math.ceil(tokens);
  }

  image(): void {
    this.visit();
    this.imageCount++;
    this.fixed += IMAGE_TOKENS;
  }

  message(): void {
    this.visit();
    this.fixed += MESSAGE_OVERHEAD_TOKENS;
  }

  private punctuation(chars: number): void {
    this.ascii += chars;
  }

  /**
   * A JSON value rendered into the prompt as JSON (tool schemas, tool-call inputs, response formats): keys
   * and string values count as text, numbers, booleans and null as their JSON spelling, plus the punctuation
   * around each member. Iterative, within the node budget.
   *
   * `media`: the value stands where a message's content goes (an item or a part we do not model, such as a
   * screenshot in a tool's output), so a well-formed base64 data URL in it is an image or a file at the fixed
   * cost, never its base64 length. Anywhere else (tools, formats, unknown fields) a chat template prints
   * every string, so a string that merely starts with `data:` is text like any other: otherwise any text
   * behind that prefix would slip past the context cap.
   */
  json(value: unknown, media = false): void {
    // Each value with the key it sits under (array elements take their array's), for the media rule.
    const stack: Array<[unknown, string | null]> = [[value, null]];
    while (stack.length > 0) {
      if (!this.visit()) return;
      const [v, under] = stack.pop()!;
      if (typeof v === 'string') {
        if (media && under !== null && MEDIA_KEYS.has(under) && isBase64DataUrl(v)) {
          if (/^data:image\//i.test(v)) this.image();
          else this.add(FILE_TOKENS);
          continue;
        }
        const [a, o] = charClasses(v);
        this.ascii += a + 2;
        this.other += o;
      } else if (typeof v === 'number' || typeof v === 'boolean' || v === null) {
        this.punctuation(String(v).length);
      } else if (Array.isArray(v)) {
        this.punctuation(2 + v.length * ELEMENT_PUNCTUATION);
        for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], under]);
      } else if (isObj(v)) {
        this.punctuation(2);
        for (const key of Object.keys(v)) {
          const [a, o] = charClasses(key);
          this.ascii += a + MEMBER_PUNCTUATION;
          this.other += o;
          stack.push([v[key], key]);
        }
      }
    }
  }
}

/**
 * Keys a media payload sits under in the parts and items the counter does not model (`image_url` of a
 * computer-use screenshot, `data` or `blob` of a file): a data URL under any other key (`text` above all)
 * may be printed by a template, so it is text.
 */
const MEDIA_KEYS = new Set([
  'url',
  'image_url',
  'image',
  'images',
  'data',
  'file_data',
  'file',
  'blob',
  'source',
  'audio',
  'input_audio',
  'video',
  'video_url',
  'b64_json',
]);

/** `data:<type>/<subtype>[;name=value]…;base64,` as clients write an inline image or file. */
const DATA_URL_HEAD = /^data:[a-z]+\/[a-z0-9.+-]+(?:;[a-z0-9.+-]+=[a-z0-9.+-]+)*;base64,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Whether a string is a data URL with a media type and a base64 body (nothing else after the comma). */
export function isBase64DataUrl(s: string): boolean {
  const head = DATA_URL_HEAD.exec(s.slice(0, 512));
  return head !== null && BASE64.test(s.slice(head[0].length));
}

/**
 * A message's fields the family does not count by name, counted whole as JSON: EXO copies a message into the
 * template's messages, which may print any field (`thinking` was one). `counted`: the fields already counted
 * (the role is in the per-message overhead).
 */
export function countOtherMessageFields(m: Json, counted: ReadonlySet<string>, t: PromptTally): void {
  countFieldsBut(m, (key) => counted.has(key), t);
}

/** Every field of `o` that `skip` leaves, counted whole as JSON (a null or absent one is no text). */
function countFieldsBut(o: Json, skip: (key: string) => boolean, t: PromptTally): void {
  for (const key of Object.keys(o)) {
    if (t.overBudget) return;
    if (skip(key)) continue;
    const v = o[key];
    if (v !== undefined && v !== null) t.json(v);
  }
}

/** How many characters of a refused value a message quotes. */
const QUOTE_CHARS = 40;

/** A value as a message quotes it: JSON spelling, truncated; containers by kind only. */
export function quoteValue(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (isObj(value)) return 'an object';
  // JSON's 1e400 parses to Infinity, which JSON.stringify would call null.
  if (typeof value === 'number' && !Number.isFinite(value)) return `${value} (a number out of range)`;
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  const kind = typeof value === 'string' ? ' (a string)' : typeof value === 'boolean' ? ' (a boolean)' : '';
  return (s.length > QUOTE_CHARS ? s.slice(0, QUOTE_CHARS) + '…' : s) + kind;
}

/** The largest output limit the guard accepts: what a signed 32-bit integer holds. */
export const MAX_TOKENS_LIMIT = 2 ** 31 - 1;

export type MaxTokensResult =
  | { ok: true; value: number | null }
  | { ok: false; param: string; message: string };

/**
 * One output-limit field: absent or null means "not given"; otherwise it must be a non-negative safe integer
 * no larger than {@link MAX_TOKENS_LIMIT}. Negative, fractional, string, boolean or huge values are refused
 * by name, so `max_tokens: -1000000` never reaches the admission arithmetic.
 */
export function readMaxTokens(value: unknown, param: string): MaxTokensResult {
  if (value === undefined || value === null) return { ok: true, value: null };
  // EXO runs `max_output_tokens or MAX_TOKENS` (batch_generate.py): a limit of 0 means its default, 32168.
  if (value === 0) return { ok: true, value: null };
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TOKENS_LIMIT)
    return { ok: true, value };
  return {
    ok: false,
    param,
    message: `${param} must be an integer from 0 to ${MAX_TOKENS_LIMIT}, got ${quoteValue(value)}`,
  };
}

/**
 * The first of several output-limit fields that is given, each given one validated (an invalid one is
 * refused even when an earlier one is valid).
 */
export function firstMaxTokens(fields: ReadonlyArray<readonly [unknown, string]>): MaxTokensResult {
  let found: number | null = null;
  for (const [value, param] of fields) {
    const r = readMaxTokens(value, param);
    if (!r.ok) return r;
    if (found === null && r.value !== null) found = r.value;
  }
  return { ok: true, value: found };
}

/**
 * Characters of a request's `model` kept (EXO's model ids are under 100): it is logged, stored in the
 * request's event and compared with the loaded models, and a client chooses its length.
 */
export const MODEL_CHARS = 200;

/** The `model` field (its first {@link MODEL_CHARS} characters): a string, or null when absent or of another type. */
export const readModel = (body: Json): string | null =>
  typeof body['model'] === 'string' ? body['model'].slice(0, MODEL_CHARS) : null;

/** The refusal for a body whose count ran past the node budget. */
export const overBudgetMessage = (budget: number = NODE_BUDGET): string =>
  `body has more than ${budget} JSON values to count; refused unmeasured`;

/**
 * The last line of defence for `facts()`: the counters are written not to throw, but a daemon must not die
 * on an input nobody foresaw, so anything thrown becomes a refusal of the body.
 */
export function measureSafely<T extends { ok: boolean }>(
  measure: () => T,
): T | { ok: false; param: string; message: string } {
  try {
    return measure();
  } catch (e) {
    return { ok: false, param: 'body', message: `body could not be measured: ${(e as Error)?.message ?? e}` };
  }
}

/**
 * Request fields that never reach the prompt: sampling, streaming and bookkeeping parameters of the OpenAI,
 * Anthropic and Ollama APIs. Everything else a family does not count by name is counted whole as JSON.
 */
const NON_PROMPT_FIELDS = new Set([
  'model',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'seed',
  'n',
  'stop',
  'stop_sequences',
  'presence_penalty',
  'frequency_penalty',
  'repetition_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'user',
  'metadata',
  'store',
  'service_tier',
  'parallel_tool_calls',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'reasoning_effort',
  'reasoning',
  'thinking',
  'think',
  'enable_thinking',
  'truncation',
  'background',
  'include',
  'previous_response_id',
  'options',
  'keep_alive',
  'raw',
]);

/**
 * The catch-all that keeps the count from being walked around: a top-level field that the family does not
 * count by name and that is not a known parameter is counted whole as JSON (EXO's Responses adapter, for one,
 * renders a client-supplied `chat_template_messages`). Over-counting an unknown field is the safe error.
 */
export function countOtherFields(body: Json, counted: readonly string[], t: PromptTally): void {
  countFieldsBut(body, (key) => NON_PROMPT_FIELDS.has(key) || counted.includes(key), t);
}

/** What a family returns once its fields are counted: the facts, or the refusal of a body past the budget. */
export function tallyFacts(
  body: Json,
  t: PromptTally,
  maxTokens: number | null,
  stream: boolean,
): FactsResult {
  if (t.overBudget) return { ok: false, param: 'body', message: overBudgetMessage() };
  return {
    ok: true,
    facts: { model: readModel(body), promptTokens: t.tokens, maxTokens, stream, images: t.images },
  };
}
