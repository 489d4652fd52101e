/**
 * The endpoint families the guard gates: what each knows about its request bodies (prompt size, output
 * limit, streaming) and how each spells an error, before and during a stream. One module per family; this
 * one holds the shared types and the path → family registry. EXO's image endpoints are gated too, without
 * a prompt to measure (exo-images.ts).
 */
import { anthropicMessages } from './anthropic-messages.js';
import type { ErrorKind } from './error-kinds.js';
import { exoImages } from './exo-images.js';
import { ollamaChat, ollamaGenerate } from './ollama.js';
import { openaiChat } from './openai-chat.js';
import { openaiResponses } from './openai-responses.js';

export type Protocol = 'openai-chat' | 'openai-responses' | 'anthropic' | 'ollama' | 'exo-images';

export type { ErrorKind } from './error-kinds.js';
export { statusFor } from './error-kinds.js';

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

/** What every gated family has: its paths, and how it frames its streams and spells its errors. */
export interface FamilyStyle {
  protocol: Protocol;
  /** Canonical POST paths EXO serves for this family. */
  paths: readonly string[];
  /** How its streamed responses are framed. */
  streamFraming: 'sse' | 'ndjson';
  /** `status` is the HTTP status the error goes out with (statusFor(kind) unless the guard chose another). */
  errorBody(
    kind: ErrorKind,
    message: string,
    param?: string | null,
    status?: number,
  ): Record<string, unknown>;
  /** ONE complete frame, terminator included, for an error after the 200 headers are out. */
  streamErrorFrame(kind: ErrorKind, message: string): string;
}

/** A prompt-bearing family: judged on its estimated tokens as well as the mode. */
export interface EndpointFamily extends FamilyStyle {
  /** Never throws; walks the body iteratively within a node budget. */
  facts(body: Record<string, unknown>): FactsResult;
}

/** What the allocation log shows of an image request; null where the body does not say (or was not read). */
export interface ImageFacts {
  model: string | null;
  stream: boolean | null;
  images: number | null;
}

/**
 * A family with no prompt KV to estimate (EXO's image endpoints): admitted on the mode, the holds and the
 * queue alone, and never refused for what its body holds (EXO judges that).
 */
export interface ImageFamily extends FamilyStyle {
  /** Reads a parsed JSON body for the log, or nothing (null: a multipart body, or one that is not JSON). */
  describe(body: Record<string, unknown> | null, path: string): ImageFacts;
  /**
   * EXO sends no keep-alive on these streams and computes for as long as an image takes between frames: EXO's
   * silence mid-answer is held to the limit for the start of an answer, not to the stream-silence limit.
   */
  quietStream: true;
}

/** Any family the guard gates. */
export type GatedFamily = EndpointFamily | ImageFamily;

export const isImageFamily = (f: GatedFamily): f is ImageFamily => 'describe' in f;

/** Every prompt-bearing family; both Ollama endpoints share the protocol but not the body shape. */
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

/** The prompt-bearing family serving a canonical path (all are POST endpoints), or null for any other path. */
export function familyFor(path: string): EndpointFamily | null {
  return BY_PATH.get(path) ?? null;
}

/** Every family the guard gates at a canonical POST path: the prompt-bearing ones and EXO's image endpoints. */
export function gatedFamilyFor(path: string): GatedFamily | null {
  return BY_PATH.get(path) ?? (exoImages.paths.includes(path) ? exoImages : null);
}
