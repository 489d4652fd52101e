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
    this.buffer += chunk.toString('utf8');
    if (this.buffer.length > 4 * 1024 * 1024) this.buffer = this.buffer.slice(-1024 * 1024);
    let i = this.buffer.indexOf('\n');
    while (i >= 0) {
      const line = this.buffer.slice(0, i).replace(/\r$/, '');
      this.buffer = this.buffer.slice(i + 1);
      this.line(line);
      i = this.buffer.indexOf('\n');
    }
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
