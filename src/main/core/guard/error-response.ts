import type { ServerResponse } from 'node:http';
import {
  type EndpointFamily,
  type ErrorKind,
  type FamilyStyle,
  familyFor,
  statusFor,
} from './endpoints/endpoint-family.js';

/** EXO's own error envelope is OpenAI's: the style for paths that are no family's. */
const DEFAULT_STYLE = familyFor('/v1/chat/completions')!;

/** The style for a path that is not gated: Ollama's under /ollama/, OpenAI's elsewhere. */
export const styleForPath = (path: string): EndpointFamily =>
  path.startsWith('/ollama/') ? familyFor('/ollama/api/chat')! : DEFAULT_STYLE;

export interface ErrorOptions {
  status?: number;
  param?: string | null;
  retryAfter?: number | null;
  close?: boolean;
}

/** An error answer in the client's protocol; once the answer has begun, the connection is closed instead. */
export function sendError(
  res: ServerResponse,
  family: FamilyStyle,
  kind: ErrorKind,
  message: string,
  opts: ErrorOptions = {},
): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  const status = opts.status ?? statusFor(kind);
  const body = JSON.stringify(family.errorBody(kind, message, opts.param ?? null, status));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(opts.retryAfter ? { 'retry-after': String(opts.retryAfter) } : {}),
    ...(opts.close ? { connection: 'close' } : {}),
  });
  res.end(body);
}
