/**
 * Reads EXO's SSE stream as it passes (the bytes themselves are forwarded untouched): `: prefill_progress
 * {…total_tokens…}` gives the real prompt size before the big allocations finish, `: generation_stats`
 * the peak memory, and the `id` of `data:` chunks is EXO's command id (what /v1/cancel takes).
 */
export interface SseFacts {
  promptTokens: number | null;
  processedTokens: number | null;
  peakMemoryBytes: number | null;
  commandId: string | null;
  error: string | null;
}

export class SseObserver {
  private buffer = '';
  readonly facts: SseFacts = {
    promptTokens: null,
    processedTokens: null,
    peakMemoryBytes: null,
    commandId: null,
    error: null,
  };

  constructor(private readonly onPrefill: (total: number, processed: number) => void = () => {}) {}

  push(chunk: Buffer): void {
    const text = this.buffer + chunk.toString('utf8');
    let start = 0;
    let i = text.indexOf('\n', start);
    while (i >= 0) {
      if (i > start)
        this.line(
          i > start && text.charCodeAt(i - 1) === 13 ? text.slice(start, i - 1) : text.slice(start, i),
        );
      start = i + 1;
      i = text.indexOf('\n', start);
    }
    this.buffer = text.length - start > 1024 * 1024 ? '' : text.slice(start);
  }

  private json(text: string): Record<string, unknown> | null {
    try {
      const v: unknown = JSON.parse(text);
      return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  private line(line: string): void {
    if (line.startsWith(': prefill_progress ')) {
      const p = this.json(line.slice(': prefill_progress '.length))?.['PrefillProgressChunk'] as
        | Record<string, unknown>
        | undefined;
      if (p && typeof p['total_tokens'] === 'number') {
        this.facts.promptTokens = p['total_tokens'] as number;
        this.facts.processedTokens =
          typeof p['processed_tokens'] === 'number' ? (p['processed_tokens'] as number) : null;
        this.onPrefill(this.facts.promptTokens, this.facts.processedTokens ?? 0);
      }
    } else if (line.startsWith(': generation_stats ')) {
      const s = this.json(line.slice(': generation_stats '.length));
      const peak = s?.['peak_memory_usage'] as { inBytes?: unknown } | undefined;
      if (typeof peak?.inBytes === 'number') this.facts.peakMemoryBytes = peak.inBytes;
      if (typeof s?.['prompt_tokens'] === 'number' && this.facts.promptTokens === null)
        this.facts.promptTokens = s['prompt_tokens'] as number;
    } else if (line.startsWith('data: ') && line !== 'data: [DONE]') {
      // Parse only the chunks that can tell something new: the first (command id), errors, the usage.
      const wanted =
        this.facts.commandId === null ||
        line.includes('"error"') ||
        (this.facts.promptTokens === null && line.includes('"usage"'));
      if (!wanted) return;
      const d = this.json(line.slice(6));
      if (d && typeof d['id'] === 'string' && this.facts.commandId === null)
        this.facts.commandId = d['id'] as string;
      const err = d?.['error'] as { message?: unknown } | undefined;
      if (err && typeof err.message === 'string') this.facts.error = err.message;
      const usage = d?.['usage'] as { prompt_tokens?: unknown } | undefined;
      if (typeof usage?.prompt_tokens === 'number' && this.facts.promptTokens === null)
        this.facts.promptTokens = usage.prompt_tokens;
    }
  }
}
