import { createParser, type EventSourceParser } from 'eventsource-parser';

/**
 * Reads EXO's answer as it passes (the bytes themselves are forwarded untouched) for what it tells the guard:
 * the real prompt size from prefill progress (before the big allocations finish), the peak memory from the
 * generation stats, and EXO's command id (what `/v1/cancel/{id}` takes). EXO reports prefill progress in two
 * forms: the SSE comment `: prefill_progress {"PrefillProgressChunk":{…}}` and an `event: prefill_progress`
 * event; both are read. SSE goes through a real SSE parser, NDJSON line by line, both after a streaming UTF-8
 * decoder, with bounded buffers.
 */
export interface StreamFacts {
  promptTokens: number | null;
  processedTokens: number | null;
  peakMemoryBytes: number | null;
  commandId: string | null;
  error: string | null;
}

type Json = Record<string, unknown>;
const MAX_BUFFER_CHARS = 1024 * 1024;
/** How much of a skimmed stream's end is kept (the stats, usage and error frames are a few hundred bytes). */
const TAIL_BYTES = 64 * 1024;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const count = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;

function parseJson(text: string): Json | null {
  if (text.length > MAX_BUFFER_CHARS) return null;
  try {
    const v: unknown = JSON.parse(text);
    return isObj(v) ? v : null;
  } catch {
    return null;
  }
}

export class StreamObserver {
  readonly facts: StreamFacts = {
    promptTokens: null,
    processedTokens: null,
    peakMemoryBytes: null,
    commandId: null,
    error: null,
  };
  private readonly decoder = new TextDecoder('utf-8');
  private sse: EventSourceParser | null;
  private pendingLine = '';
  /**
   * Once prefill is over and the command id known, only the end of the stream can still tell something (the
   * generation stats, the usage, an error frame): the observer then keeps the last bytes and reads them at the
   * end, instead of parsing every token frame (it costs the guard ~4x less CPU on a fast stream).
   */
  private skimming = false;
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;
  private skimDropped = false;
  /** The SSE parser's buffer overflowed: it takes nothing more (see `feed`). */
  private overflowed = false;

  constructor(
    framing: 'sse' | 'ndjson',
    private readonly onPrefill: (total: number, processed: number) => void = () => {},
    private readonly maxBufferChars = MAX_BUFFER_CHARS,
  ) {
    this.sse = framing === 'sse' ? this.parser() : null;
  }

  push(chunk: Buffer): void {
    if (this.skimming) {
      this.tail.push(chunk);
      this.tailBytes += chunk.length;
      while (this.tailBytes - this.tail[0]!.length >= TAIL_BYTES) {
        this.tailBytes -= this.tail.shift()!.length;
        this.skimDropped = true;
      }
      return;
    }
    const text = this.decoder.decode(chunk, { stream: true });
    if (this.sse) {
      this.feed(text);
      return;
    }
    const all = this.pendingLine + text;
    const lines = all.split('\n');
    this.pendingLine = lines.pop() ?? '';
    if (this.pendingLine.length > MAX_BUFFER_CHARS) this.pendingLine = '';
    for (const line of lines) if (line.trim()) this.ndjson(line);
  }

  /** The stream ended: what was skimmed is read now (from its first whole frame on). */
  end(): void {
    if (!this.skimming) return;
    this.skimming = false;
    const raw = Buffer.concat(this.tail);
    this.tail.length = 0;
    if (!this.skimDropped) {
      // Nothing was dropped: the parser resumes exactly where it stopped (mid-frame included).
      this.push(raw);
      if (this.sse) this.feed('\n\n');
      else if (this.pendingLine.trim()) this.ndjson(this.pendingLine);
      return;
    }
    const framing = this.sse ? 'sse' : 'ndjson';
    const sep = framing === 'sse' ? raw.indexOf('\n\n') : raw.indexOf('\n');
    if (sep < 0) return;
    const text = new TextDecoder('utf-8').decode(raw.subarray(sep + (framing === 'sse' ? 2 : 1)));
    if (this.sse) {
      this.sse = this.parser();
      this.overflowed = false;
      this.feed(text);
      this.feed('\n\n');
    } else {
      this.pendingLine = '';
      for (const line of `${text}\n`.split('\n')) if (line.trim()) this.ndjson(line);
    }
  }

  /**
   * Feeds the SSE parser. A line (or one event's data) longer than its buffer ends the parser, which would
   * throw on the next feed: the rest of the stream is then skimmed like a long generation, and its end read
   * from its first whole frame on by a fresh parser.
   */
  private feed(text: string): void {
    if (!this.sse || this.overflowed) return;
    this.sse.feed(text);
    if (this.overflowed) {
      this.skimming = true;
      this.skimDropped = true;
    }
  }

  private parser(): EventSourceParser {
    return createParser({
      maxBufferSize: this.maxBufferChars,
      onError: (e) => {
        if (e.type === 'max-buffer-size-exceeded') this.overflowed = true;
      },
      onComment: (c) => this.comment(c),
      onEvent: (e) => this.event(e.event ?? 'message', e.data, e.id),
    });
  }

  private prefill(p: unknown): void {
    const chunk = isObj(p) && isObj(p['PrefillProgressChunk']) ? p['PrefillProgressChunk'] : p;
    if (!isObj(chunk)) return;
    const total = count(chunk['total_tokens']);
    if (total === null) return;
    this.facts.promptTokens = total;
    this.facts.processedTokens = count(chunk['processed_tokens']);
    this.onPrefill(total, this.facts.processedTokens ?? 0);
  }

  private stats(s: Json | null): void {
    const peak = s?.['peak_memory_usage'];
    if (isObj(peak) && count(peak['inBytes']) !== null) this.facts.peakMemoryBytes = count(peak['inBytes']);
    if (this.facts.promptTokens === null) this.facts.promptTokens = count(s?.['prompt_tokens']);
  }

  private comment(text: string): void {
    if (text.startsWith('prefill_progress ')) this.prefill(parseJson(text.slice('prefill_progress '.length)));
    else if (text.startsWith('generation_stats '))
      this.stats(parseJson(text.slice('generation_stats '.length)));
  }

  private event(type: string, data: string, id: string | undefined): void {
    if (type === 'prefill_progress') this.prefill(parseJson(data));
    else if (type === 'generation_stats') this.stats(parseJson(data));
    else this.message(data, id);
  }

  private message(data: string, id: string | undefined): void {
    if (id && this.facts.commandId === null) this.facts.commandId = id;
    if (data === '[DONE]') return;
    // Parse only the frames that can tell something new: the first (command id), errors, usage.
    const wanted =
      this.facts.commandId === null ||
      data.includes('"error"') ||
      (this.facts.promptTokens === null && data.includes('_tokens"'));
    if (wanted) this.data(parseJson(data));
    // The first token: prefill is over. From here only the stream's end can tell something new.
    if (this.facts.commandId !== null) this.skimming = true;
  }

  private data(d: Json | null): void {
    if (!d) return;
    if (this.facts.commandId === null) {
      const nested = isObj(d['message']) ? d['message'] : isObj(d['response']) ? d['response'] : null;
      const id =
        typeof d['id'] === 'string'
          ? d['id']
          : nested && typeof nested['id'] === 'string'
            ? nested['id']
            : null;
      if (id) this.facts.commandId = id;
    }
    const err = d['error'];
    if (isObj(err) && typeof err['message'] === 'string') this.facts.error = err['message'];
    else if (typeof err === 'string') this.facts.error = err;
    const usage = isObj(d['usage'])
      ? d['usage']
      : isObj(d['message']) && isObj(d['message']['usage'])
        ? d['message']['usage']
        : null;
    if (usage && this.facts.promptTokens === null)
      this.facts.promptTokens = count(usage['prompt_tokens']) ?? count(usage['input_tokens']);
  }

  private ndjson(line: string): void {
    if (line.includes('prefill_progress') || line.includes('PrefillProgressChunk')) {
      const d = parseJson(line);
      this.prefill(d?.['prefill_progress'] ?? d);
      return;
    }
    const wanted = line.includes('"error"') || line.includes('prompt_eval_count');
    if (!wanted) {
      if (line.includes('"message"') || line.includes('"response"')) this.skimming = true;
      return;
    }
    const d = parseJson(line);
    if (!d) return;
    if (typeof d['error'] === 'string') this.facts.error = d['error'];
    if (this.facts.promptTokens === null) this.facts.promptTokens = count(d['prompt_eval_count']);
  }
}
