/**
 * OpenAI Chat Completions (`/v1/chat/completions`, EXO's `/bench/chat/completions` and
 * `/ollama/v1/chat/completions`): the messages with their content parts, names, tool calls and tool results,
 * the tool and function schemas, tool_choice and response_format all reach the chat template.
 */
import type { EndpointFamily, ErrorKind, FactsResult } from './endpoint-family.js';
import {
  AUDIO_TOKENS,
  countOtherFields,
  countOtherMessageFields,
  FILE_TOKENS,
  isObj,
  measureSafely,
  PromptTally,
  readMaxTokens,
  tallyFacts,
} from './prompt-counter.js';

type Json = Record<string, unknown>;

/** `{"error":{"message","type","param","code"}}` type and code for each kind. */
const OPENAI_ERRORS: Readonly<Record<ErrorKind, { type: string; code: string | null }>> = {
  // OpenAI API and openai-python's BadRequestError body: over-long prompts.
  context_length_exceeded: { type: 'invalid_request_error', code: 'context_length_exceeded' },
  // OpenAI API 503 today (`service_unavailable_error` / `server_is_overloaded`, which Codex-style clients
  // retry on); llama.cpp server says `unavailable_error`, vLLM `ServiceUnavailableError`, older OpenAI
  // `server_error`. The SDKs map by status (503 → retried InternalServerError), so the type is for people.
  overloaded: { type: 'service_unavailable_error', code: 'server_is_overloaded' },
  // OpenAI API: malformed or out-of-range parameters.
  invalid_request: { type: 'invalid_request_error', code: null },
  // OpenAI API answers an oversized body as an invalid request; the 413 status says the rest.
  payload_too_large: { type: 'invalid_request_error', code: 'request_too_large' },
  // llama.cpp server (ERROR_TYPE_AUTHENTICATION) and openai-python's AuthenticationError naming.
  unauthorized: { type: 'authentication_error', code: 'invalid_api_key' },
  // llama.cpp server (ERROR_TYPE_PERMISSION) and openai-python's PermissionDeniedError naming.
  forbidden: { type: 'permission_error', code: null },
  // llama.cpp server (ERROR_TYPE_NOT_FOUND); OpenAI itself says invalid_request_error + model_not_found.
  not_found: { type: 'not_found_error', code: null },
  // OpenAI API and llama.cpp server (ERROR_TYPE_SERVER): anything on the server side.
  upstream_unavailable: { type: 'server_error', code: null },
  internal: { type: 'server_error', code: null },
};

/** OpenAI's error envelope; `param` names the request field at fault (null when none). */
export function openaiError(
  kind: ErrorKind,
  message: string,
  param: string | null,
): { error: { message: string; type: string; param: string | null; code: string | null } } {
  const { type, code } = OPENAI_ERRORS[kind];
  return { error: { message, type, param, code } };
}

/**
 * One content part of a message (Chat Completions and Responses share the part vocabulary): text counts,
 * images, audio and files cost a fixed amount (their base64 or URL strings are never counted as text),
 * unknown parts are counted whole as JSON (conservative).
 */
export function countOpenaiPart(part: unknown, t: PromptTally): void {
  if (typeof part === 'string') {
    t.text(part);
    return;
  }
  if (!isObj(part)) {
    t.visit();
    return;
  }
  switch (part['type']) {
    case 'text':
    case 'input_text':
    case 'output_text':
      t.text(part['text']);
      return;
    case 'refusal':
      t.text(part['refusal']);
      return;
    case 'image_url':
    case 'input_image':
    case 'image':
      t.image();
      // Text riding on a media part: whether EXO's template prints it is not known, so it counts.
      if (typeof part['text'] === 'string') t.text(part['text']);
      return;
    case 'input_audio':
    case 'audio':
      t.visit();
      t.add(AUDIO_TOKENS);
      if (typeof part['text'] === 'string') t.text(part['text']);
      return;
    case 'file':
    case 'input_file':
      t.visit();
      t.add(FILE_TOKENS);
      if (typeof part['text'] === 'string') t.text(part['text']);
      return;
    default:
      if (typeof part['text'] === 'string') {
        t.text(part['text']);
        return;
      }
      t.json(part, true);
      return;
  }
}

/** A message's `content`: a string, an array of parts, or null (assistant turns with tool calls only). */
export function countOpenaiContent(content: unknown, t: PromptTally): void {
  if (content === undefined || content === null) return;
  if (typeof content === 'string') {
    t.text(content);
    return;
  }
  if (Array.isArray(content)) {
    for (const part of content) {
      if (t.overBudget) return;
      countOpenaiPart(part, t);
    }
    return;
  }
  // One part on its own (EXO takes `content: {type: "text", text}` and prints its text).
  countOpenaiPart(content, t);
}

/** Tool-call arguments: a JSON string as the model wrote it, or (leniently) an object. */
export function countArguments(args: unknown, t: PromptTally): void {
  if (args === undefined || args === null) return;
  if (typeof args === 'string') {
    t.text(args);
    return;
  }
  t.json(args);
}

function countToolCall(call: unknown, t: PromptTally): void {
  if (!isObj(call)) {
    t.json(call);
    return;
  }
  t.text(call['id']);
  const fn = call['function'];
  if (isObj(fn)) {
    t.text(fn['name']);
    countArguments(fn['arguments'], t);
  } else if (isObj(call['custom'])) {
    t.json(call['custom']);
  }
}

/** One chat message: template overhead, content, name, tool calls (and legacy function_call), tool results. */
/** Message fields that are prompt text (`thinking`: EXO's harmony format for GPT-OSS). */
const MESSAGE_TEXT_FIELDS = [
  'name',
  'tool_call_id',
  'refusal',
  'reasoning_content',
  'reasoning',
  'thinking',
] as const;
/** Message fields counted by name (the role is in the per-message overhead). */
const MESSAGE_COUNTED = new Set(['role', 'content', 'tool_calls', 'function_call', ...MESSAGE_TEXT_FIELDS]);

export function countChatMessage(m: unknown, t: PromptTally): void {
  if (!isObj(m)) {
    t.json(m);
    return;
  }
  t.message();
  countOpenaiContent(m['content'], t);
  for (const key of MESSAGE_TEXT_FIELDS) t.text(m[key]);
  countOtherMessageFields(m, MESSAGE_COUNTED, t);
  const calls = m['tool_calls'];
  if (Array.isArray(calls)) {
    for (const call of calls) {
      if (t.overBudget) return;
      countToolCall(call, t);
    }
  }
  const legacy = m['function_call'];
  if (isObj(legacy)) {
    t.text(legacy['name']);
    countArguments(legacy['arguments'], t);
  }
}

/** Body fields rendered into the prompt as JSON (schemas and choices). */
const CHAT_JSON_FIELDS = ['tools', 'functions', 'tool_choice', 'function_call', 'response_format'] as const;

export function chatFacts(body: Json, tally: PromptTally = new PromptTally()): FactsResult {
  // EXO's ChatCompletionRequest reads only `max_tokens`: `max_completion_tokens` is validated but never
  // lowers the count (a client that sends only it runs EXO's default 32168).
  const completion = readMaxTokens(body['max_completion_tokens'], 'max_completion_tokens');
  if (!completion.ok) return completion;
  const max = readMaxTokens(body['max_tokens'], 'max_tokens');
  if (!max.ok) return max;
  const t = tally;
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (t.overBudget) break;
      countChatMessage(m, t);
    }
  } else if (messages !== undefined && messages !== null) {
    t.json(messages);
  }
  for (const key of CHAT_JSON_FIELDS) {
    const v = body[key];
    if (v !== undefined && v !== null) t.json(v);
  }
  countOtherFields(body, ['messages', ...CHAT_JSON_FIELDS], t);
  return tallyFacts(body, t, max.value, body['stream'] === true);
}

export const openaiChat: EndpointFamily = {
  protocol: 'openai-chat',
  paths: ['/v1/chat/completions', '/bench/chat/completions', '/ollama/v1/chat/completions'],
  streamFraming: 'sse',
  facts: (body) => measureSafely(() => chatFacts(body)),
  errorBody: (kind, message, param) =>
    openaiError(kind, message, param ?? (kind === 'context_length_exceeded' ? 'messages' : null)),
  // openai-python / openai-node Stream: a `data:` event whose JSON has `error` raises APIError with
  // error.message (the same frame EXO itself writes when a runner dies mid-request).
  streamErrorFrame: (kind, message) => `data: ${JSON.stringify(openaiError(kind, message, null))}\n\n`,
};
