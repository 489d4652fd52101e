import { finiteNumber } from '../util/finite.js';
import { linearOf } from '../util/linear-regexp.js';

/**
 * Lines of EXO's loguru log (~/.exo/exo_log/exo.log):
 *   [ 2026-06-22 14:03:11.512 | INFO     | exo.worker.engines.mlx.cache:add_kv_cache:269 ] KV cache added: 1200 tokens
 * Each recognised message becomes a timeline event; everything else is ignored.
 */
export interface ExoLogEvent {
  /** Epoch ms, read as local time (EXO logs local time without an offset). */
  time: number | null;
  level: string;
  kind: string;
  severity: 'debug' | 'info' | 'warning' | 'error';
  message: string;
  data: Record<string, unknown>;
}

/** Characters of a line read: the messages recognised are short; a longer line is read as its start. */
const MAX_LINE = 4096;

// Every pattern runs on the linear-time engine (which has no `i` flag: a first letter either case instead):
// a line is whatever a program of EXO's user appends.
const LINE = linearOf(
  /^\[\s*(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?\s*\|\s*(\w+)\s*\|\s*([^\]]*?)\s*\]\s?(.*)$/,
);

const SIGNAL = linearOf(/signal=(\d+)/);

interface Rule {
  re: RegExp;
  kind: string;
  severity: ExoLogEvent['severity'];
  data: (m: RegExpExecArray) => Record<string, unknown>;
}

const RULES: Rule[] = (
  [
    {
      re: /Wired limit set to (.+?)\.?\s*$/,
      kind: 'exo.wired-limit-set',
      severity: 'info',
      data: (m) => ({ limit: m[1] }),
    },
    {
      re: /[Cc]lose to the maximum recommended size/,
      kind: 'exo.model-near-limit',
      severity: 'warning',
      data: () => ({}),
    },
    {
      re: /KV cache evicted LRU entry \((\d+) tokens\)/,
      kind: 'exo.kv-evicted',
      severity: 'info',
      data: (m) => ({ tokens: finiteNumber(m[1]) }),
    },
    {
      re: /KV cache added: (\d+) tokens/,
      kind: 'exo.kv-added',
      severity: 'debug',
      data: (m) => ({ tokens: finiteNumber(m[1]) }),
    },
    {
      re: /KV cache updated \(index (\d+)\): (\d+) tokens/,
      kind: 'exo.kv-updated',
      severity: 'debug',
      data: (m) => ({ index: finiteNumber(m[1]), tokens: finiteNumber(m[2]) }),
    },
    { re: /Starting prefill/, kind: 'exo.prefill-started', severity: 'debug', data: () => ({}) },
    {
      re: /Runner terminated with (.+?)\s*$/,
      kind: 'exo.runner-terminated',
      severity: 'error',
      data: (m) => ({
        detail: m[1],
        signal: finiteNumber(SIGNAL.exec(m[1]!)?.[1]),
      }),
    },
    {
      re: /[Rr]unner (?:[Ff]ailed|[Cc]rashed)\b(.*)$/,
      kind: 'exo.runner-failed',
      severity: 'error',
      data: (m) => ({ detail: m[1]!.trim() }),
    },
    // The load message's wording is not documented; these match "Loading model …" / "Loaded model …".
    {
      re: /\b([Ll]oading|[Ll]oaded) [Mm]odel\b[:\s]*(.*)$/,
      kind: 'exo.model-load',
      severity: 'info',
      data: (m) => ({ phase: m[1]!.toLowerCase(), detail: m[2] }),
    },
    {
      re: /^Starting node (\S+)/,
      kind: 'exo.node-started',
      severity: 'info',
      data: (m) => ({ nodeId: m[1] }),
    },
  ] satisfies Rule[]
).map((r) => ({ ...r, re: linearOf(r.re) }));

export function parseExoLogLine(line: string): ExoLogEvent | null {
  const m = LINE.exec((line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line).trimEnd());
  if (!m) return null;
  const msg = m[10]!;
  for (const rule of RULES) {
    const r = rule.re.exec(msg);
    if (!r) continue;
    const t = new Date(
      +m[1]!,
      +m[2]! - 1,
      +m[3]!,
      +m[4]!,
      +m[5]!,
      +m[6]!,
      m[7] ? Number(m[7].padEnd(3, '0')) : 0,
    ).getTime();
    return {
      time: Number.isNaN(t) ? null : t,
      level: m[8]!,
      kind: rule.kind,
      severity: rule.severity,
      message: msg.slice(0, 300),
      data: { ...rule.data(r), source: m[9] },
    };
  }
  return null;
}
