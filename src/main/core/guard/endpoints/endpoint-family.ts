/**
 * The endpoint families the guard gates: what each knows about its request bodies (prompt size, output
 * limit, streaming) and how each spells an error, before and during a stream. One module per family; this
 * one holds the shared types and the path → family registry.
 */
import { anthropicMessages } from './anthropic-messages.js';
import { ollamaChat, ollamaGenerate } from './ollama.js';
import { openaiChat } from './openai-chat.js';
import { openaiResponses } from './openai-responses.js';

export type Protocol = 'openai-chat' | 'openai-responses' | 'anthropic' | 'ollama';

export type ErrorKind =
  | 'context_length_exceeded'
  | 'overloaded'
  | 'invalid_request'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'upstream_unavailable'
  | 'internal';

export interface PromptFacts {
  model: string | null;
  /** Estimated prompt tokens: text, fixed image/file/audio costs and template overhead. */
  promptTokens: number;
  /** The requested output limit; null = not given (EXO's default applies). */
  maxTokens: number | null;
  stream: boolean;
  images: number;
}

export type FactsResult = { ok: true; facts: PromptFacts } | { ok: false; param: string; message: string };

export interface EndpointFamily {
  protocol: Protocol;
  /** Canonical POST paths EXO serves for this family. */
  paths: readonly string[];
  /** How its streamed responses are framed. */
  streamFraming: 'sse' | 'ndjson';
  /** Never throws; walks the body iteratively within a node budget. */
  facts(body: Record<string, unknown>): FactsResult;
  errorBody(kind: ErrorKind, message: string, param?: string | null): Record<string, unknown>;
  /** ONE complete frame, terminator included, for an error after the 200 headers are out. */
  streamErrorFrame(kind: ErrorKind, message: string): string;
}

const STATUS: Readonly<Record<ErrorKind, number>> = {
  context_length_exceeded: 400,
  invalid_request: 400,
  payload_too_large: 413,
  overloaded: 503,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  upstream_unavailable: 502,
  internal: 500,
};

/** The HTTP status each kind of refusal is answered with, whatever the protocol. */
export const statusFor = (kind: ErrorKind): number => STATUS[kind];

/** Every gated family; both Ollama endpoints share the protocol but not the body shape. */
export const FAMILIES: readonly EndpointFamily[] = [
  openaiChat,
  openaiResponses,
  anthropicMessages,
  ollamaChat,
  ollamaGenerate,
];

const BY_PATH: ReadonlyMap<string, EndpointFamily> = new Map(
  FAMILIES.flatMap((f) => f.paths.map((p) => [p, f] as const)),
);

/** The family serving a canonical path (all of them are POST endpoints), or null for any other path. */
export function familyFor(path: string): EndpointFamily | null {
  return BY_PATH.get(path) ?? null;
}
