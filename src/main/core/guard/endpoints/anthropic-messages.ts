/**
 * Anthropic Messages (`/v1/messages`): `system` (a string or text blocks), the messages' content blocks
 * (text, images, documents, tool use and tool results, thinking) and the tool definitions reach the prompt.
 */
import type { EndpointFamily, ErrorKind, FactsResult } from './endpoint-family.js';
import {
  countOtherFields,
  countOtherMessageFields,
  FILE_TOKENS,
  firstMaxTokens,
  isObj,
  measureSafely,
  PromptTally,
  tallyFacts,
} from './prompt-counter.js';

type Json = Record<string, unknown>;

/**
 * A document block: plain-text and content-block sources are counted as text, anything else (base64 PDF,
 * URL, file id) costs the fixed file amount.
 */
function countDocument(block: Json, t: PromptTally, pending: unknown[]): void {
  t.text(block['title']);
  t.text(block['context']);
  const source = block['source'];
  if (isObj(source) && source['type'] === 'text' && typeof source['data'] === 'string') {
    t.text(source['data']);
    return;
  }
  if (isObj(source) && source['type'] === 'content') {
    if (typeof source['content'] === 'string') {
      t.text(source['content']);
      return;
    }
    if (Array.isArray(source['content'])) {
      pending.push(source['content']);
      return;
    }
  }
  t.visit();
  t.add(FILE_TOKENS);
}

/**
 * Content: a string or a list of blocks. Blocks nest (a tool_result holds blocks, a document or search result
 * may too), so nested lists go on an explicit stack instead of recursing.
 */
export function countAnthropicContent(content: unknown, t: PromptTally): void {
  const pending: unknown[] = [content];
  while (pending.length > 0 && !t.overBudget) {
    const c = pending.pop();
    if (c === undefined || c === null) continue;
    if (typeof c === 'string') {
      t.text(c);
      continue;
    }
    if (!Array.isArray(c)) {
      // One block on its own: read as a list of one.
      pending.push([c]);
      continue;
    }
    for (const block of c) {
      if (t.overBudget) return;
      if (typeof block === 'string') {
        t.text(block);
        continue;
      }
      if (!isObj(block)) {
        t.visit();
        continue;
      }
      switch (block['type']) {
        case 'text':
          t.text(block['text']);
          break;
        case 'image':
          t.image();
          break;
        case 'document':
          countDocument(block, t, pending);
          break;
        case 'tool_use':
        case 'server_tool_use':
          t.text(block['id']);
          t.text(block['name']);
          if (block['input'] !== undefined) t.json(block['input']);
          break;
        case 'tool_result':
          t.text(block['tool_use_id']);
          pending.push(block['content']);
          break;
        case 'thinking':
          // The signature is opaque; the thinking text is what a template would re-render.
          t.text(block['thinking']);
          break;
        case 'redacted_thinking':
          t.visit();
          break;
        case 'search_result':
          t.text(block['title']);
          t.text(block['source']);
          pending.push(block['content']);
          break;
        default:
          // Other server-tool results and future blocks: counted whole, conservatively.
          t.json(block, true);
      }
    }
  }
}

/** A message's fields counted by name (the role is in the per-message overhead). */
const ANTHROPIC_MESSAGE_COUNTED = new Set(['role', 'content']);

export function anthropicFacts(body: Json, tally: PromptTally = new PromptTally()): FactsResult {
  const max = firstMaxTokens([[body['max_tokens'], 'max_tokens']]);
  if (!max.ok) return max;
  const t = tally;
  const system = body['system'];
  if (system !== undefined && system !== null) {
    t.message();
    countAnthropicContent(system, t);
  }
  const messages = body['messages'];
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (t.overBudget) break;
      if (!isObj(m)) {
        t.json(m);
        continue;
      }
      t.message();
      countAnthropicContent(m['content'], t);
      countOtherMessageFields(m, ANTHROPIC_MESSAGE_COUNTED, t);
    }
  } else if (messages !== undefined && messages !== null) {
    t.json(messages);
  }
  // Tool definitions (name, description, input_schema) and the choice are rendered into the prompt.
  for (const key of ['tools', 'tool_choice'] as const) {
    const v = body[key];
    if (v !== undefined && v !== null) t.json(v);
  }
  countOtherFields(body, ['system', 'messages', 'tools', 'tool_choice'], t);
  return tallyFacts(body, t, max.value, body['stream'] === true);
}

/** `error.type` for each kind, as Anthropic's API documents its errors. */
const ANTHROPIC_ERRORS: Readonly<Record<ErrorKind, string>> = {
  // Anthropic API: a prompt too long for the model's context is an invalid request (400).
  context_length_exceeded: 'invalid_request_error',
  // Anthropic API answers overload with 529 `overloaded_error`; the guard's status is 503, which
  // anthropic-sdk-python / -typescript retry like 529 (both retry every status >= 500).
  overloaded: 'overloaded_error',
  invalid_request: 'invalid_request_error',
  // Anthropic API: 413 `request_too_large`.
  payload_too_large: 'request_too_large',
  // Anthropic API: 401 `authentication_error`, 403 `permission_error`, 404 `not_found_error`.
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  not_found: 'not_found_error',
  // Anthropic API: 500 `api_error` for anything on the server side.
  upstream_unavailable: 'api_error',
  internal: 'api_error',
};

/** `{"type":"error","error":{"type","message"}}`: Anthropic's envelope has no `param`. */
export function anthropicError(kind: ErrorKind, message: string): Json {
  return { type: 'error', error: { type: ANTHROPIC_ERRORS[kind], message } };
}

export const anthropicMessages: EndpointFamily = {
  protocol: 'anthropic',
  paths: ['/v1/messages'],
  streamFraming: 'sse',
  facts: (body) => measureSafely(() => anthropicFacts(body)),
  errorBody: (kind, message) => anthropicError(kind, message),
  // anthropic-sdk-typescript / -python Stream: an `event: error` throws APIError built from the JSON data
  // (`error.type`, `error.message`), the frame Anthropic's API sends for a mid-stream overload.
  streamErrorFrame: (kind, message) =>
    `event: error\ndata: ${JSON.stringify(anthropicError(kind, message))}\n\n`,
};
