/**
 * EXO's image endpoints (src/exo/api/main.py): `POST /v1/images/generations` and `/bench/images/generations`
 * take JSON (ImageGenerationTaskParams: prompt, model, n, size, stream, partial_images, …);
 * `/v1/images/edits` and `/bench/images/edits` take multipart/form-data (the `image` file and form fields).
 * EXO answers JSON `{"created", "data": [{"b64_json" | "url", "revised_prompt"}]}` only once the images are
 * made (the bench twins add `generation_stats` and `power_usage`); with `stream` and `partial_images > 0`
 * (never on /bench/) an SSE stream of `data: {"type": "partial" | "final", …}` frames ending in
 * `data: [DONE]`, with no keep-alive and no command id: the guard cannot call EXO's /v1/cancel/{id} for an
 * image, it ends one by closing its connection to EXO (EXO's handler then cancels the task).
 * Errors are EXO's HTTPException envelope, `{"error": {"message", "type": <HTTP reason>, "param", "code": <status>}}`.
 * There is no prompt KV to estimate: the guard gates these on the mode, the holds and the queue alone.
 */
import type { ImageFamily } from './endpoint-family.js';
import { type ErrorKind, statusFor } from './error-kinds.js';
import { readModel } from './prompt-counter.js';

type Json = Record<string, unknown>;

/** Python's HTTPStatus phrases (EXO runs on Python 3.13: 413 is "Content Too Large"). */
const REASON: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** EXO's error envelope (api/main.py `http_exception_handler`). */
export function exoError(
  status: number,
  message: string,
  param: string | null = null,
): { error: { message: string; type: string; param: string | null; code: number } } {
  return { error: { message, type: REASON[status] ?? 'Error', param, code: status } };
}

const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;

export const exoImages: ImageFamily = {
  protocol: 'exo-images',
  paths: ['/v1/images/generations', '/bench/images/generations', '/v1/images/edits', '/bench/images/edits'],
  streamFraming: 'sse',
  quietStream: true,
  describe: (body: Json | null, path: string) => {
    if (!body) return { model: null, stream: null, images: null };
    const model = readModel(body);
    // EXO streams only with stream and partial_images > 0, and never on /bench/ (it forces both off).
    const partials = count(body['partial_images']) ?? 0;
    const stream = !path.startsWith('/bench/') && body['stream'] === true && partials > 0;
    const n = body['n'] === undefined || body['n'] === null ? 1 : count(body['n']);
    return { model, stream, images: n };
  },
  errorBody: (kind: ErrorKind, message: string, param?: string | null, status?: number) =>
    exoError(status ?? statusFor(kind), message, param ?? null),
  // EXO's own error frame on an image stream is a `data:` event with this envelope; the dashboard and
  // openai-python's Stream read `error.message` from it.
  streamErrorFrame: (kind, message) => `data: ${JSON.stringify(exoError(statusFor(kind), message))}\n\n`,
};
