/**
 * OpenAI Responses (`/v1/responses`): `instructions`, `input` (a string or a list of items: messages with
 * parts, function calls and their outputs, reasoning summaries), the tool schemas, tool_choice and the
 * `text.format` schema all reach the prompt.
 */
import type { EndpointFamily, ErrorKind, FactsResult } from './endpoint-family.js';
import { countArguments, countOpenaiContent, openaiError } from './openai-chat.js';
import {
  countOtherFields,
  countOtherMessageFields,
  firstMaxTokens,
  isObj,
  measureSafely,
  PromptTally,
  tallyFacts,
} from './prompt-counter.js';

type Json = Record<string, unknown>;

/** A list of `{type, text}` entries (reasoning summaries and content). */
function countTextList(list: unknown, t: PromptTally): void {
  if (!Array.isArray(list)) return;
  for (const entry of list) {
    if (t.overBudget) return;
    if (isObj(entry)) t.text(entry['text']);
    else t.visit();
  }
}

/** A message item's fields counted by name (role in the overhead; type, id and status are not printed). */
const RESPONSES_MESSAGE_COUNTED = new Set(['role', 'content', 'type', 'id', 'status']);

/** One item of `input`. */
export function countResponsesItem(item: unknown, t: PromptTally): void {
  if (typeof item === 'string') {
    t.message();
    t.text(item);
    return;
  }
  if (!isObj(item)) {
    t.json(item);
    return;
  }
  const type = item['type'];
  if (type === 'message' || (type === undefined && item['role'] !== undefined)) {
    t.message();
    countOpenaiContent(item['content'], t);
    countOtherMessageFields(item, RESPONSES_MESSAGE_COUNTED, t);
    return;
  }
  switch (type) {
    case 'function_call':
    case 'custom_tool_call':
      t.message();
      t.text(item['call_id']);
      t.text(item['name']);
      countArguments(item['arguments'] ?? item['input'], t);
      return;
    case 'function_call_output':
    case 'custom_tool_call_output':
      t.message();
      t.text(item['call_id']);
      countOpenaiContent(item['output'], t);
      return;
    case 'reasoning':
      // The summaries and any plain reasoning text; `encrypted_content` is opaque to a local model.
      countTextList(item['summary'], t);
      countTextList(item['content'], t);
      return;
    case 'item_reference':
      t.text(item['id']);
      return;
    default:
      // Other tool-call items (web search, MCP, computer use…): counted whole, conservatively; a screenshot in
      // a computer-use output is media.
      t.message();
      t.json(item, true);
      return;
  }
}

/** Body fields rendered into the prompt as JSON (schemas, choices, the `text.format` schema). */
const RESPONSES_JSON_FIELDS = ['tools', 'tool_choice', 'text', 'prompt'] as const;

export function responsesFacts(body: Json, tally: PromptTally = new PromptTally()): FactsResult {
  const max = firstMaxTokens([[body['max_output_tokens'], 'max_output_tokens']]);
  if (!max.ok) return max;
  const t = tally;
  const instructions = body['instructions'];
  if (typeof instructions === 'string') {
    t.message();
    t.text(instructions);
  } else if (Array.isArray(instructions)) {
    for (const item of instructions) {
      if (t.overBudget) break;
      countResponsesItem(item, t);
    }
  }
  const input = body['input'];
  if (typeof input === 'string') {
    t.message();
    t.text(input);
  } else if (Array.isArray(input)) {
    for (const item of input) {
      if (t.overBudget) break;
      countResponsesItem(item, t);
    }
  } else if (input !== undefined && input !== null) {
    // One item on its own.
    countResponsesItem(input, t);
  }
  for (const key of RESPONSES_JSON_FIELDS) {
    const v = body[key];
    if (v !== undefined && v !== null) t.json(v);
  }
  // Includes EXO's own `chat_template_messages`, which its adapter renders when `input` builds nothing.
  countOtherFields(body, ['instructions', 'input', ...RESPONSES_JSON_FIELDS], t);
  return tallyFacts(body, t, max.value, body['stream'] === true);
}

/**
 * The Responses stream's `error` event. openai-node throws APIError(data.error, data.message) on an
 * `event: error`; openai-python raises only when the data has an `error` object, so the frame carries both
 * the flat ResponseErrorEvent fields (`type, code, message, param`) and the `error` object, as OpenAI's own
 * stream does for an overloaded server.
 */
export function responsesErrorEvent(kind: ErrorKind, message: string): Json {
  const body = openaiError(kind, message, null);
  return { type: 'error', code: body.error.code, message, param: null, error: body.error };
}

export const openaiResponses: EndpointFamily = {
  protocol: 'openai-responses',
  paths: ['/v1/responses'],
  streamFraming: 'sse',
  facts: (body) => measureSafely(() => responsesFacts(body)),
  // Same envelope as Chat Completions (openai-python / openai-node read error.message by status).
  errorBody: (kind, message, param) =>
    openaiError(kind, message, param ?? (kind === 'context_length_exceeded' ? 'input' : null)),
  streamErrorFrame: (kind, message) =>
    `event: error\ndata: ${JSON.stringify(responsesErrorEvent(kind, message))}\n\n`,
};
