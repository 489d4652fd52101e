/**
 * Ollama's native API as EXO serves it (`/ollama/api/chat`, `/ollama/api/generate`): NDJSON streams (on by
 * default), `options.num_predict` as the output limit, images as a list of base64 strings, errors as
 * `{"error":"message"}`.
 */
import type { EndpointFamily, FactsResult } from './endpoint-family.js';
import { countArguments } from './openai-chat.js';
import {
  countOtherFields,
  countOtherMessageFields,
  isObj,
  type MaxTokensResult,
  measureSafely,
  PromptTally,
  quoteValue,
  readMaxTokens,
  tallyFacts,
} from './prompt-counter.js';

type Json = Record<string, unknown>;

/**
 * `options.num_predict`. Ollama documents -1 as "generate until done" and -2 as "fill the context"; both
 * mean no limit from the client, so they read as null (EXO's default output limit applies). Any other value
 * must be a non-negative integer.
 */
export function readNumPredict(body: Json): MaxTokensResult {
  const options = body['options'];
  if (options === undefined || options === null) return { ok: true, value: null };
  if (!isObj(options))
    return { ok: false, param: 'options', message: `options must be an object, got ${quoteValue(options)}` };
  const n = options['num_predict'];
  if (n === -1 || n === -2) return { ok: true, value: null };
  return readMaxTokens(n, 'options.num_predict');
}

/** `images`: a list of base64 strings, each a fixed image cost whatever its size. */
function countImages(images: unknown, t: PromptTally): void {
  if (!Array.isArray(images)) return;
  for (const _ of images) {
    if (t.overBudget) return;
    t.image();
  }
}

/** A message's fields counted by name (the role is in the per-message overhead). */
const OLLAMA_MESSAGE_COUNTED = new Set(['role', 'content', 'thinking', 'tool_name', 'images', 'tool_calls']);

function countOllamaMessage(m: unknown, t: PromptTally): void {
  if (!isObj(m)) {
    t.json(m);
    return;
  }
  t.message();
  t.text(m['content']);
  t.text(m['thinking']);
  t.text(m['tool_name']);
  countImages(m['images'], t);
  countOtherMessageFields(m, OLLAMA_MESSAGE_COUNTED, t);
  const calls = m['tool_calls'];
  if (!Array.isArray(calls)) return;
  for (const call of calls) {
    if (t.overBudget) return;
    const fn = isObj(call) ? call['function'] : undefined;
    if (!isObj(fn)) {
      t.json(call);
      continue;
    }
    t.text(fn['name']);
    countArguments(fn['arguments'], t);
  }
}

/** Ollama streams unless the client says `stream: false`. */
const finish = (body: Json, t: PromptTally, maxTokens: number | null): FactsResult =>
  tallyFacts(body, t, maxTokens, body['stream'] !== false);

/** `format` is "json" or a JSON schema; either is rendered into the prompt or the grammar. */
function countFormat(body: Json, t: PromptTally): void {
  const format = body['format'];
  if (format !== undefined && format !== null) t.json(format);
}

export function ollamaChatFacts(body: Json, tally: PromptTally = new PromptTally()): FactsResult {
  const max = readNumPredict(body);
  if (!max.ok) return max;
  const t = tally;
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (t.overBudget) break;
      countOllamaMessage(m, t);
    }
  } else if (messages !== undefined && messages !== null) {
    t.json(messages);
  }
  if (body['tools'] !== undefined && body['tools'] !== null) t.json(body['tools']);
  countFormat(body, t);
  countOtherFields(body, ['messages', 'tools', 'format'], t);
  return finish(body, t, max.value);
}

export function ollamaGenerateFacts(body: Json, tally: PromptTally = new PromptTally()): FactsResult {
  const max = readNumPredict(body);
  if (!max.ok) return max;
  const t = tally;
  if (typeof body['prompt'] === 'string') t.message();
  for (const key of ['prompt', 'system', 'template', 'suffix'] as const) t.text(body[key]);
  countImages(body['images'], t);
  // `context`: token ids from an earlier response, one token each (counted by length, not walked).
  const context = body['context'];
  if (Array.isArray(context)) {
    t.visit(context.length);
    t.add(context.length);
  }
  countFormat(body, t);
  countOtherFields(body, ['prompt', 'system', 'template', 'suffix', 'images', 'context', 'format'], t);
  return finish(body, t, max.value);
}

/** `{"error":"message"}`: what ollama-python and ollama-js read (`part.get('error')` / `message.error`). */
export const ollamaError = (message: string): Json => ({ error: message });

const ollamaErrors: Pick<EndpointFamily, 'protocol' | 'streamFraming' | 'errorBody' | 'streamErrorFrame'> = {
  protocol: 'ollama',
  streamFraming: 'ndjson',
  errorBody: (_kind, message) => ollamaError(message),
  // ollama-python `_stream` and ollama-js parse each NDJSON line and raise ResponseError / Error when it
  // has `error`, the line Ollama itself writes when generation fails mid-stream.
  streamErrorFrame: (_kind, message) => `${JSON.stringify(ollamaError(message))}\n`,
};

export const ollamaChat: EndpointFamily = {
  ...ollamaErrors,
  // EXO registers the same handler under two more spellings (api/main.py): all three are gated.
  paths: ['/ollama/api/chat', '/ollama/api/api/chat', '/ollama/api/v1/chat'],
  facts: (body) => measureSafely(() => ollamaChatFacts(body)),
};

export const ollamaGenerate: EndpointFamily = {
  ...ollamaErrors,
  paths: ['/ollama/api/generate'],
  facts: (body) => measureSafely(() => ollamaGenerateFacts(body)),
};
