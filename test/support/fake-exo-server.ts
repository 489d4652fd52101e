import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fixture } from './fixtures.js';

/**
 * A fake EXO node for tests (never shipped). It serves the shapes in test/fixtures/exo: `/node_id`,
 * `/state` and its sub-paths (camelCase, tagged unions, `{"inBytes"}`), chat completions streamed with EXO's
 * frame sequence (`: keep-alive`, `: prefill_progress`, `data:` chunks whose id is the command id, the
 * final usage, `: generation_stats`, `[DONE]`), `/v1/cancel/{id}`, `DELETE /instance/{id}`, and the image
 * endpoints with EXO's answers (api/main.py: JSON at the end, or with `stream` and `partial_images` an SSE
 * stream of partial and final images with no id and no keep-alive; edits as multipart). While it
 * "processes" tokens it allocates and touches real memory, so the Linux probes see it grow. It can be
 * told to be slow, to drop connections, to answer garbage, to go down and to come back (a new node id,
 * as a restarted EXO has), and it writes EXO-format log lines.
 */

type Json = Record<string, unknown>;

export interface FakeExoOptions {
  port?: number;
  /** EXO's log file to append to (loguru format). */
  logPath?: string | null;
  /** Bytes allocated per processed prompt token (default 64 KiB). */
  bytesPerToken?: number;
  /** Prefill speed, tokens per second (default 20 000). */
  prefillTokensPerSecond?: number;
  /** Delay between generated tokens, ms (default 20; 0 streams as fast as it can). */
  tokenIntervalMs?: number;
  /** At most this many generated tokens per request (default 8). */
  maxGeneratedTokens?: number;
  /** Serve https with this key and certificate (PEM) instead of http. */
  tls?: { key: string; cert: string } | null;
  /** How long one image request works, ms (default 200; `x-fake-image-ms` overrides it per request). */
  imageMs?: number;
}

/** The image model the fake has an instance of (EXO refuses image requests for any other with 404). */
export const FAKE_IMAGE_MODEL = 'exolabs/FLUX.1-schnell';

/** One image request as the fake worked it: exactly the bytes it answered, and whether the client left. */
export interface FakeImageTask {
  path: string;
  start: number;
  end: number | null;
  aborted: boolean;
  sent: Buffer[];
}

export interface FakeExoControl {
  url: string;
  port: number;
  state: Json;
  nodeId: string;
  /** Requests seen, by method and path (the guard tests check what reached EXO). */
  requests: Array<{
    method: string;
    path: string;
    rawPath: string;
    body: string;
    at: number;
    headers: Record<string, unknown>;
  }>;
  cancelled: string[];
  /** Exactly the bytes a chat response carried, by command id. */
  response(commandId: string): Buffer | undefined;
  /** When each chat response started and ended, by command id. */
  timings: Map<string, { start: number; end: number | null }>;
  /** Image requests that passed validation, in arrival order. */
  images: FakeImageTask[];
  setMode(mode: 'normal' | 'slow' | 'drop' | 'garbage'): void;
  down(): Promise<void>;
  /** Listens again on the same port, as a restarted EXO: new node id. */
  up(): Promise<void>;
  /** Replaces one sub-tree of the state (e.g. runners failing). */
  set(key: string, value: unknown): void;
  log(level: string, message: string): void;
  heldBytes(): number;
  /** Bytes of bulk stream frames (x-fake-stream-bytes) written so far, all requests together. */
  bulkBytesSent(): number;
  close(): Promise<void>;
}

const newNodeId = (): string =>
  Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');

/** The endpoint family a decoded path belongs to (the generation endpoints EXO serves). */
function familyOf(path: string): 'chat' | 'anthropic' | 'responses' | 'ollama' | null {
  if (['/v1/chat/completions', '/bench/chat/completions', '/ollama/v1/chat/completions'].includes(path))
    return 'chat';
  if (path === '/v1/messages') return 'anthropic';
  if (path === '/v1/responses') return 'responses';
  if (path === '/ollama/api/chat' || path === '/ollama/api/generate') return 'ollama';
  return null;
}

/** EXO's image endpoints (all POST). */
const IMAGE_PATHS = [
  '/v1/images/generations',
  '/bench/images/generations',
  '/v1/images/edits',
  '/bench/images/edits',
];

function sseTranscript(): string[] {
  const api = JSON.parse(fixture('exo/api-control-and-stream.json')) as Json;
  return api[
    'POST /v1/chat/completions stream=true  SSE transcript (one list item per SSE frame)'
  ] as string[];
}

export async function startFakeExo(options: FakeExoOptions = {}): Promise<FakeExoControl> {
  const base = JSON.parse(fixture('exo/state-2node-ring-pipeline-running.json')) as Json;
  const state: Json = { ...base, tasks: {} };
  const modelId = 'mlx-community/Qwen3-Coder-Next-4bit';
  let nodeId = Object.keys(base['nodeMemory'] as Json)[0]!;
  let mode: 'normal' | 'slow' | 'drop' | 'garbage' = 'normal';
  const requests: FakeExoControl['requests'] = [];
  const cancelled: string[] = [];
  const responses = new Map<string, Buffer[]>();
  const timings = new Map<string, { start: number; end: number | null }>();
  const inFlight = new Map<string, { abort: () => void }>();
  const held = new Set<Buffer>();
  const bytesPerToken = options.bytesPerToken ?? 64 * 1024;
  const prefillRate = options.prefillTokensPerSecond ?? 20_000;
  const tokenMs = options.tokenIntervalMs ?? 20;
  const transcript = sseTranscript();
  let bulkSent = 0;

  const log = (level: string, message: string): void => {
    if (!options.logPath) return;
    const d = new Date();
    const p = (n: number, w = 2): string => String(n).padStart(w, '0');
    const ts = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
    mkdirSync(dirname(options.logPath), { recursive: true });
    appendFileSync(options.logPath, `[ ${ts} | ${level.padEnd(8)} | exo.fake:handler:1 ] ${message}\n`);
  };

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const notFound = (res: ServerResponse, message: string): void =>
    json(res, 404, { error: { message, type: 'Not Found', param: null, code: 404 } });

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => resolve(''));
    });

  /** Allocates and touches real memory for `tokens` tokens (the "KV cache" of this request). */
  const allocate = (tokens: number): Buffer => {
    const b = Buffer.alloc(Math.min(tokens * bytesPerToken, 512 * 1024 * 1024), 7);
    held.add(b);
    return b;
  };

  async function chat(req: IncomingMessage, res: ServerResponse, body: string, path: string): Promise<void> {
    let parsed: Json;
    try {
      parsed = JSON.parse(body) as Json;
    } catch {
      return json(res, 400, {
        error: { message: 'Invalid JSON', type: 'Bad Request', param: null, code: 400 },
      });
    }
    if (parsed['model'] !== modelId)
      return notFound(res, `No instance found for model ${String(parsed['model'])}`);
    const family = familyOf(path);
    const messages = Array.isArray(parsed['messages'])
      ? (parsed['messages'] as Json[])
      : Array.isArray(parsed['input'])
        ? (parsed['input'] as Json[])
        : [{ role: 'user', content: String(parsed['input'] ?? parsed['prompt'] ?? '') }];
    const promptChars = messages.reduce(
      (n, m) => n + (typeof m['content'] === 'string' ? (m['content'] as string).length : 0),
      0,
    );
    // A test can make the real prompt size differ from what the text suggests (x-fake-prompt-tokens).
    const forced = Number(req.headers['x-fake-prompt-tokens']);
    const promptTokens =
      Number.isFinite(forced) && forced > 0 ? forced : Math.max(1, Math.ceil(promptChars / 4));
    const maxField =
      parsed['max_tokens'] ??
      parsed['max_output_tokens'] ??
      (parsed['options'] as Json | undefined)?.['num_predict'];
    const maxTokens = typeof maxField === 'number' ? maxField : 8;
    const prefillAsEvent = req.headers['x-fake-prefill-form'] === 'event';
    const bulkBytes = Number(req.headers['x-fake-stream-bytes'] ?? 0);
    const genTokens = Math.min(maxTokens, options.maxGeneratedTokens ?? 8);
    const commandId = crypto.randomUUID();
    const taskId = crypto.randomUUID();
    const instanceId = Object.keys(state['instances'] as Json)[0] ?? null;
    (state['tasks'] as Json)[taskId] = {
      TextGeneration: {
        taskId,
        taskStatus: 'Running',
        instanceId,
        commandId,
        taskParams: {
          model: modelId,
          input: messages.map((m) => ({ role: m['role'], content: m['content'] })),
          max_output_tokens: parsed['max_tokens'] ?? null,
          stream: parsed['stream'] === true,
        },
        errorType: null,
        errorMessage: null,
      },
    };
    log('INFO', 'Starting prefill');
    let aborted = false;
    let kv: Buffer | null = null;
    const finish = (): void => {
      delete (state['tasks'] as Json)[taskId];
      inFlight.delete(commandId);
      if (kv) held.delete(kv);
    };
    inFlight.set(commandId, {
      abort: () => {
        aborted = true;
        res.destroy();
      },
    });
    res.on('close', () => {
      if (!res.writableEnded) {
        aborted = true;
        if (!cancelled.includes(commandId)) cancelled.push(commandId);
      }
      finish();
    });
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const stream = family === 'ollama' ? parsed['stream'] !== false : parsed['stream'] === true;
    const sent: Buffer[] = [];
    responses.set(commandId, sent);
    const timing = { start: Date.now(), end: null as number | null };
    timings.set(commandId, timing);
    const write = (s: string, end = false): void => {
      sent.push(Buffer.from(s));
      if (end) res.end(s);
      else res.write(s);
    };
    /** Waits for the client to take what was written (EXO's server honours backpressure too). */
    const drained = (): Promise<void> =>
      res.writableNeedDrain && !aborted
        ? new Promise((r) => {
            res.once('drain', () => r());
            res.once('close', () => r());
          })
        : Promise.resolve();
    if (stream) {
      res.writeHead(200, {
        'content-type': family === 'ollama' ? 'application/x-ndjson' : 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      if (family !== 'ollama') write(`${transcript[0]}\n\n`);
      if (family === 'anthropic')
        write(
          `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: commandId, type: 'message', role: 'assistant', model: modelId, content: [] } })}\n\n`,
        );
      if (family === 'responses')
        write(
          `event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response: { id: commandId, status: 'in_progress' } })}\n\n`,
        );
    }
    const progressFrame = (done: number): string => {
      const p = {
        PrefillProgressChunk: { model: modelId, processed_tokens: done, total_tokens: promptTokens },
      };
      if (family === 'ollama')
        return `${JSON.stringify({ model: modelId, prefill_progress: p.PrefillProgressChunk, done: false })}\n`;
      return prefillAsEvent
        ? `event: prefill_progress\ndata: ${JSON.stringify(p)}\n\n`
        : `: prefill_progress ${JSON.stringify(p)}\n\n`;
    };
    const tokenFrame = (content: string, last: boolean, usage: Json): string => {
      if (family === 'anthropic')
        return `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: content } })}\n\n`;
      if (family === 'responses')
        return `event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', delta: content })}\n\n`;
      if (family === 'ollama')
        return `${JSON.stringify({ model: modelId, message: { role: 'assistant', content }, done: last, ...(last ? { prompt_eval_count: promptTokens, eval_count: genTokens } : {}) })}\n`;
      const chunk = {
        id: commandId,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: modelId,
        choices: [
          { index: 0, delta: { role: 'assistant', content }, ...(last ? { finish_reason: 'stop' } : {}) },
        ],
        ...(last ? { usage } : {}),
      };
      return `data: ${JSON.stringify(chunk)}\n\n`;
    };
    // Prefill in 4096-token steps, reporting progress as EXO does; the memory grows with each step.
    for (let done = 0; done < promptTokens && !aborted; ) {
      const step = Math.min(4096, promptTokens - done);
      done += step;
      if (kv) held.delete(kv);
      kv = allocate(done);
      // EXO's Claude, Responses and Ollama adapters skip PrefillProgressChunk: only chat streams carry it.
      if (stream && family === 'chat') write(progressFrame(done));
      await sleep(Math.max(1, (step / prefillRate) * 1000));
    }
    const created = Math.floor(Date.now() / 1000);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: genTokens,
      total_tokens: promptTokens + genTokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    const words: string[] = [];
    for (let i = 0; i < genTokens && !aborted; i++) {
      if (tokenMs > 0) await sleep(tokenMs);
      else if (i % 64 === 63) await new Promise((r) => setImmediate(r));
      const content = i === 0 ? 'Here' : ` w${i}`;
      words.push(content);
      if (!stream || aborted) continue;
      write(tokenFrame(content, i === genTokens - 1, usage));
      await drained();
    }
    // A bulk stream (x-fake-stream-bytes): as fast as the client takes it, never faster.
    if (stream && bulkBytes > 0) {
      const frame = `data: ${JSON.stringify({ id: commandId, object: 'chat.completion', choices: [{ index: 0, delta: { content: 'x'.repeat(16 * 1024) } }] })}\n\n`;
      for (let sentBytes = 0; sentBytes < bulkBytes && !aborted; sentBytes += frame.length) {
        bulkSent += frame.length;
        if (!res.write(frame)) await drained();
      }
    }
    if (aborted) return;
    const peak = (kv?.length ?? 0) + 1024 ** 3;
    if (stream) {
      const stats = {
        prompt_tps: prefillRate,
        generation_tps: tokenMs > 0 ? 1000 / tokenMs : null,
        prompt_tokens: promptTokens,
        generation_tokens: genTokens,
        peak_memory_usage: { inBytes: peak },
        prefix_cache_hit: 'none',
      };
      if (family === 'ollama') write('', true);
      else {
        write(`: generation_stats ${JSON.stringify(stats)}\n\n`);
        if (family === 'anthropic') write(`event: message_stop\ndata: {"type":"message_stop"}\n\n`, true);
        else if (family === 'responses')
          write(
            `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response: { id: commandId, status: 'completed' } })}\n\n`,
            true,
          );
        else write('data: [DONE]\n\n', true);
      }
    } else {
      const text = JSON.stringify({
        id: commandId,
        object: 'chat.completion',
        created,
        model: modelId,
        choices: [
          { index: 0, message: { role: 'assistant', content: words.join('') }, finish_reason: 'stop' },
        ],
        usage,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      write(text, true);
    }
    timing.end = Date.now();
    log('INFO', `KV cache added: ${promptTokens} tokens`);
  }

  const images: FakeImageTask[] = [];
  /** FastAPI's 422 for a body that does not validate (not EXO's envelope: EXO leaves these to FastAPI). */
  const unprocessable = (res: ServerResponse, loc: string, type = 'missing', msg = 'Field required'): void =>
    json(res, 422, { detail: [{ type, loc: ['body', loc], msg, input: null }] });

  /** The text fields of a multipart/form-data body (the file part is only checked for). */
  const formFields = (req: IncomingMessage, body: string): Map<string, string> | null => {
    const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(String(req.headers['content-type'] ?? ''));
    if (!m) return null;
    const fields = new Map<string, string>();
    for (const part of body.split(`--${m[1] ?? m[2]}`)) {
      const head =
        /^\r\nContent-Disposition: form-data; name="([^"]+)"(; filename="[^"]*")?[\s\S]*?\r\n\r\n/i.exec(
          part,
        );
      if (!head) continue;
      fields.set(head[1]!, head[2] ? '<file>' : part.slice(head[0].length).replace(/\r\n$/, ''));
    }
    return fields;
  };

  /** Python's json.dumps with its default separators (", " and ": "), as EXO writes its image frames. */
  const pyJson = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(pyJson).join(', ')}]`
      : v !== null && typeof v === 'object'
        ? `{${Object.entries(v as Json)
            .map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`)
            .join(', ')}}`
        : JSON.stringify(v);

  /** A base64 "image" of about `bytes` characters (a real 1x1 PNG when small). */
  const PNG_1X1 =
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==';
  const b64Image = (bytes: number, seed: number): string =>
    bytes <= PNG_1X1.length
      ? PNG_1X1
      : Buffer.alloc(Math.ceil((bytes * 3) / 4), seed & 0xff)
          .fill(`image ${seed} `)
          .toString('base64');

  async function image(req: IncomingMessage, res: ServerResponse, body: string, path: string): Promise<void> {
    const bench = path.startsWith('/bench/');
    const edits = path.endsWith('/edits');
    let fields: Map<string, unknown>;
    if (edits) {
      const form = formFields(req, body);
      if (!form) return unprocessable(res, 'image');
      for (const required of ['image', 'prompt', 'model'])
        if (!form.has(required)) return unprocessable(res, required);
      fields = new Map<string, unknown>([
        ['model', form.get('model')],
        ['n', Number(form.get('n') ?? 1)],
        ['stream', ['true', '1', 'yes'].includes(String(form.get('stream') ?? 'false').toLowerCase())],
        [
          'partial_images',
          /^\d+$/.test(form.get('partial_images') ?? '') ? Number(form.get('partial_images')) : 0,
        ],
        ['response_format', form.get('response_format') ?? 'b64_json'],
      ]);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return unprocessable(res, '0', 'json_invalid', 'JSON decode error');
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        return unprocessable(res, 'prompt');
      for (const required of ['prompt', 'model'])
        if (typeof (parsed as Json)[required] !== 'string') return unprocessable(res, required);
      fields = new Map(Object.entries(parsed as Json));
    }
    const model = String(fields.get('model'));
    if (model !== FAKE_IMAGE_MODEL) return notFound(res, `No instance found for model ${model}`);
    const n = typeof fields.get('n') === 'number' ? (fields.get('n') as number) : 1;
    const partials =
      typeof fields.get('partial_images') === 'number' ? (fields.get('partial_images') as number) : 0;
    const stream = !bench && fields.get('stream') === true && partials > 0;
    const urls = fields.get('response_format') === 'url';
    const workMs = Number(req.headers['x-fake-image-ms'] ?? options.imageMs ?? 200);
    const imageBytes = Number(req.headers['x-fake-image-bytes'] ?? 0);
    const task: FakeImageTask = { path, start: Date.now(), end: null, aborted: false, sent: [] };
    images.push(task);
    // A diffusion model's activations: real memory held while the image is made.
    const work = Buffer.alloc(8 * 1024 * 1024, 3);
    held.add(work);
    res.on('close', () => {
      held.delete(work);
      if (!res.writableEnded) task.aborted = true;
    });
    const step = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const write = (text: string, end = false): void => {
      task.sent.push(Buffer.from(text));
      if (end) res.end(text);
      else res.write(text);
    };
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      const gap = workMs / (partials + 1);
      for (let i = 0; i < n && !task.aborted; i++) {
        for (let k = 0; k < partials && !task.aborted; k++) {
          await step(gap / n);
          if (task.aborted) break;
          const data = { b64_json: urls ? null : b64Image(imageBytes, i * 16 + k) };
          write(
            `data: ${pyJson({ type: 'partial', image_index: i, partial_index: k, total_partials: partials, format: 'png', data })}\n\n`,
          );
        }
        await step(gap / n);
        if (task.aborted) break;
        const data = urls
          ? { url: `http://${req.headers.host}/v1/images/${crypto.randomUUID()}` }
          : { b64_json: b64Image(imageBytes, i * 16 + 15) };
        write(`data: ${pyJson({ type: 'final', image_index: i, format: 'png', data })}\n\n`);
      }
      if (task.aborted) return;
      write('data: [DONE]\n\n', true);
      task.end = Date.now();
      return;
    }
    // EXO collects the whole answer before it sends a byte (a JSONResponse, not a stream).
    await step(workMs);
    if (task.aborted || res.destroyed) return;
    const data = Array.from({ length: n }, (_, i) => ({
      b64_json: urls ? null : b64Image(imageBytes, i),
      url: urls ? `http://${req.headers.host}/v1/images/${crypto.randomUUID()}` : null,
      revised_prompt: null,
    }));
    const answer: Json = { created: Math.floor(Date.now() / 1000), data };
    if (bench) {
      answer['generation_stats'] = {
        seconds_per_step: workMs / 1000 / 4,
        total_generation_time: workMs / 1000,
        num_inference_steps: 4,
        num_images: n,
        image_width: 1024,
        image_height: 1024,
        peak_memory_usage: { inBytes: 12 * 1024 ** 3 },
      };
      answer['power_usage'] = {
        elapsed_seconds: workMs / 1000,
        nodes: [],
        total_avg_sys_power_watts: 0,
        total_energy_joules: 0,
        prefill_seconds: null,
        generation_seconds: null,
        prefill_energy_joules: null,
        generation_energy_joules: null,
        prefill_avg_sys_power_watts: null,
        generation_avg_sys_power_watts: null,
      };
    }
    const text = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    write(text, true);
    task.end = Date.now();
  }

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const body = req.method === 'GET' ? '' : await readBody(req);
    // Routes on the percent-decoded path, as EXO's server (Starlette on hypercorn) does.
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    requests.push({
      method: req.method ?? 'GET',
      path,
      rawPath: req.url ?? '',
      body,
      at: Date.now(),
      headers: { ...req.headers },
    });
    if (mode === 'drop') return void req.socket.destroy();
    if (mode === 'slow') await new Promise((r) => setTimeout(r, 5000));
    if (mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end('<html>502 Bad Gateway</html>');
    }
    if (req.method === 'GET' && path === '/node_id') return json(res, 200, nodeId);
    if (req.method === 'GET' && path === '/state') return json(res, 200, state);
    if (req.method === 'GET' && path.startsWith('/state/')) {
      let cur: unknown = state;
      for (const seg of path.slice('/state/'.length).split('/')) {
        if (cur === null || typeof cur !== 'object' || !(seg in (cur as Json)))
          return notFound(res, `unable to find path '${path.slice(7)}' in state json`);
        cur = (cur as Json)[seg];
      }
      return json(res, 200, cur);
    }
    if (req.method === 'POST' && familyOf(path) !== null) return chat(req, res, body, path);
    if (req.method === 'POST' && IMAGE_PATHS.includes(path)) return image(req, res, body, path);
    const cancel = /^\/v1\/cancel\/(.+)$/.exec(path);
    if (req.method === 'POST' && cancel) {
      const id = decodeURIComponent(cancel[1]!);
      const t = inFlight.get(id);
      if (!t) return notFound(res, 'Command not found or already completed');
      cancelled.push(id);
      t.abort();
      return json(res, 200, { message: 'Command cancelled.', command_id: id });
    }
    // Newer EXO: live-migrates an instance's layers between pipeline ranks; with dry_run, only the plan.
    const rebalance = /^\/instance\/([^/]+)\/rebalance(\/preview)?$/.exec(path);
    if (rebalance && req.method === (rebalance[2] ? 'GET' : 'POST')) {
      const id = rebalance[1]!;
      if (!(id in (state['instances'] as Json))) return notFound(res, 'Instance not found');
      const dry =
        rebalance[2] !== undefined ||
        ['1', 'on', 't', 'true', 'y', 'yes'].includes(
          (url.searchParams.getAll('dry_run').at(-1) ?? 'false').toLowerCase(),
        );
      return json(res, 200, {
        message: dry ? 'Rebalancing would move 1 layer boundaries.' : 'Live layer migration started.',
        instance_id: id,
        node_layers: { a: 30, b: 34 },
        command_id: dry ? null : crypto.randomUUID(),
        steps: 1,
        dry_run: dry,
        current_layers: { a: 32, b: 32 },
        current_compute_ms_per_token: 41.2,
        projected_compute_ms_per_token: 39.8,
        projected_compute_speedup: 0.034,
      });
    }
    const del = /^\/instance\/(.+)$/.exec(path);
    if (req.method === 'DELETE' && del) {
      const id = decodeURIComponent(del[1]!);
      const instances = state['instances'] as Json;
      if (!(id in instances)) return notFound(res, 'Instance not found');
      const inst = Object.values(instances[id] as Json)[0] as Json;
      for (const r of Object.keys(((inst['shardAssignments'] as Json)['runnerToShard'] as Json) ?? {}))
        delete (state['runners'] as Json)[r];
      delete instances[id];
      return json(res, 200, {
        message: 'Command received.',
        command_id: crypto.randomUUID(),
        instance_id: id,
      });
    }
    if (req.method === 'POST' && (path === '/place_instance' || path === '/instance')) {
      const api = JSON.parse(fixture('exo/api-control-and-stream.json')) as Json;
      state['instances'] = base['instances'];
      state['runners'] = base['runners'];
      log('INFO', 'Wired limit set to 96.00 GB.');
      return json(res, 200, api['POST /place_instance  200']);
    }
    return notFound(res, `Not Found: ${path}`);
  };

  const makeServer = (): Server =>
    options.tls
      ? (createHttpsServer(options.tls, (req, res) => void handler(req, res)) as unknown as Server)
      : createServer((req, res) => void handler(req, res));
  let server: Server = makeServer();
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listen(options.port ?? 0);
  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      for (const t of inFlight.values()) t.abort();
      server.closeAllConnections();
      server.close(() => resolve());
    });

  const control: FakeExoControl = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    state,
    get nodeId() {
      return nodeId;
    },
    requests,
    cancelled,
    response: (id) => {
      const parts = responses.get(id);
      return parts ? Buffer.concat(parts) : undefined;
    },
    timings,
    images,
    setMode: (m) => {
      mode = m;
    },
    down: closeServer,
    up: async () => {
      nodeId = newNodeId();
      server = makeServer();
      await listen(port);
      log('INFO', `Starting node ${nodeId}`);
    },
    set: (key, value) => {
      state[key] = value;
    },
    log,
    heldBytes: () => [...held].reduce((n, b) => n + b.length, 0),
    bulkBytesSent: () => bulkSent,
    close: closeServer,
  };
  log('INFO', `Starting node ${nodeId}`);
  log('INFO', 'Wired limit set to 96.00 GB.');
  return control;
}
