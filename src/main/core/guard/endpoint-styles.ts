/**
 * The gated endpoints: where each keeps its model, prompt and output limit, and how each spells an error.
 * OpenAI (`/v1/chat/completions`, `/v1/responses`), Anthropic (`/v1/messages`) and Ollama
 * (`/ollama/api/chat`, `/ollama/api/generate`).
 */
export type EndpointStyle = 'openai' | 'anthropic' | 'ollama';

export interface GatedEndpoint {
  path: string;
  style: EndpointStyle;
  /** The text the prompt is made of (never stored, only measured). */
  promptText(body: Record<string, unknown>): string;
  maxTokens(body: Record<string, unknown>): number | null;
  /** Whether the client asked for a stream. */
  streams(body: Record<string, unknown>): boolean;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Text of a content value: a string, or an array of parts with `text` (OpenAI/Anthropic blocks). */
function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c))
    return c
      .map((p) => (typeof p === 'string' ? p : isObj(p) ? contentText(p['text'] ?? p['content'] ?? '') : ''))
      .join('\n');
  if (isObj(c)) return contentText(c['text'] ?? c['content'] ?? '');
  return '';
}

const messagesText = (v: unknown): string =>
  Array.isArray(v) ? v.map((m) => (isObj(m) ? contentText(m['content']) : '')).join('\n') : '';

export const GATED: GatedEndpoint[] = [
  {
    path: '/v1/chat/completions',
    style: 'openai',
    promptText: (b) => messagesText(b['messages']),
    maxTokens: (b) => num(b['max_tokens']) ?? num(b['max_completion_tokens']),
    streams: (b) => b['stream'] === true,
  },
  {
    path: '/v1/responses',
    style: 'openai',
    promptText: (b) =>
      [
        contentText(b['instructions'] ?? ''),
        typeof b['input'] === 'string' ? b['input'] : messagesText(b['input']),
      ].join('\n'),
    maxTokens: (b) => num(b['max_output_tokens']),
    streams: (b) => b['stream'] === true,
  },
  {
    path: '/v1/messages',
    style: 'anthropic',
    promptText: (b) => [contentText(b['system'] ?? ''), messagesText(b['messages'])].join('\n'),
    maxTokens: (b) => num(b['max_tokens']),
    streams: (b) => b['stream'] === true,
  },
  {
    path: '/ollama/api/chat',
    style: 'ollama',
    promptText: (b) => messagesText(b['messages']),
    maxTokens: (b) => (isObj(b['options']) ? num(b['options']['num_predict']) : null),
    streams: (b) => b['stream'] !== false,
  },
  {
    path: '/ollama/api/generate',
    style: 'ollama',
    promptText: (b) => [contentText(b['system'] ?? ''), contentText(b['prompt'] ?? '')].join('\n'),
    maxTokens: (b) => (isObj(b['options']) ? num(b['options']['num_predict']) : null),
    streams: (b) => b['stream'] !== false,
  },
];

export const gatedEndpoint = (method: string, path: string): GatedEndpoint | null =>
  method === 'POST' ? (GATED.find((g) => g.path === path) ?? null) : null;

export type ErrorKind =
  | 'context_length_exceeded'
  | 'overloaded'
  | 'invalid_request'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden';

/** An error body in the endpoint's own style. */
export function errorBody(
  style: EndpointStyle,
  kind: ErrorKind,
  message: string,
  param: string | null = null,
): Json {
  if (style === 'anthropic') {
    const type =
      kind === 'overloaded'
        ? 'overloaded_error'
        : kind === 'unauthorized'
          ? 'authentication_error'
          : kind === 'forbidden'
            ? 'permission_error'
            : kind === 'payload_too_large'
              ? 'request_too_large'
              : 'invalid_request_error';
    return { type: 'error', error: { type, message } };
  }
  if (style === 'ollama') return { error: message };
  const type =
    kind === 'overloaded'
      ? 'server_error'
      : kind === 'unauthorized'
        ? 'authentication_error'
        : 'invalid_request_error';
  return { error: { message, type, param, code: kind } };
}
