import type { TimelineEvent } from '../../../shared/events.js';
import { formatBytes } from '../util/format.js';

/** What the guard records of one gated request: never the prompt text. */
export interface GuardRecord {
  endpoint: string;
  decision: 'admit' | 'refuse' | 'cancelled';
  status: number;
  reason: string;
  /** A stable key for the reason (`level`, `queue-full`, `context`...), the refusal metric's label. */
  reasonKind: string;
  model?: string | null;
  promptTokensEstimated?: number;
  maxTokens?: number;
  kvBytesEstimated?: number | null;
  [k: string]: unknown;
}

/**
 * The allocation log. Every admitted (or cancelled) generation request is one `guard.request` event. Refusals
 * are aggregated per reason and endpoint per second: the first of each second is recorded in full, the rest are
 * counted and summed up in one `guard.refusals` event when the second closes, so a client that ignores
 * Retry-After cannot grow the database by more than a few events per second.
 */
export class AllocationLog {
  private readonly windows = new Map<string, { first: GuardRecord; count: number; since: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly emit: (e: TimelineEvent) => void,
    private readonly now: () => number = Date.now,
    private readonly windowMs = 1000,
  ) {}

  record(r: GuardRecord): void {
    if (r.decision !== 'refuse') {
      this.emit(this.event(r));
      return;
    }
    const key = `${r.endpoint}\u0000${r.reasonKind}\u0000${r.status}`;
    const w = this.windows.get(key);
    if (w) {
      w.count++;
      return;
    }
    this.windows.set(key, { first: r, count: 0, since: this.now() });
    this.emit(this.event(r));
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    this.timer.unref?.();
  }

  /** Closes every window: one summary event for each that counted more refusals than its first. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const t = this.now();
    for (const w of this.windows.values()) {
      if (w.count === 0) continue;
      this.emit({
        time: t,
        kind: 'guard.refusals',
        severity: 'warning',
        message: `${w.count} more ${w.first.endpoint} requests refused with ${w.first.status} in ${Math.max(1, Math.round((t - w.since) / 1000))} s — ${w.first.reasonKind}: ${w.first.reason}`,
        data: {
          endpoint: w.first.endpoint,
          reasonKind: w.first.reasonKind,
          status: w.first.status,
          count: w.count,
          since: w.since,
        },
      });
    }
    this.windows.clear();
  }

  private event(r: GuardRecord): TimelineEvent {
    const kv = typeof r.kvBytesEstimated === 'number' ? ` KV ≈${formatBytes(r.kvBytesEstimated)},` : '';
    const tokens =
      r.promptTokensEstimated !== undefined
        ? ` ≈${r.promptTokensEstimated}+${String(r.maxTokens)} tokens,`
        : '';
    return {
      time: this.now(),
      kind: 'guard.request',
      severity: r.decision === 'admit' ? 'info' : 'warning',
      message: `${r.decision} ${r.endpoint}${r.model ? ` ${r.model}` : ''}:${tokens}${kv} ${r.status} — ${r.reason}`,
      data: { ...r },
    };
  }
}
