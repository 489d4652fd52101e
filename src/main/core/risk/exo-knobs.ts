/**
 * EXO's own settings that bear on the IOGPU panic, each with what it costs. Only what EXO really has
 * (knowledge/exo.md §2.4, §3.3, §3.6, EXO main at b5375f8): `EXO_MAX_CONCURRENT_REQUESTS` (default 8,
 * concurrent sequences per runner), `--no-batch` / `EXO_NO_BATCH` (no continuous batching) and
 * `EXO_MEMORY_THRESHOLD` (the prefix cache evicts above it; default by RAM). All are read once when EXO
 * starts: a change needs a restart of EXO.
 */

export type KnobSource = 'argv' | 'environment' | 'default' | 'unknown';

export interface ExoKnob {
  name: 'EXO_MAX_CONCURRENT_REQUESTS' | 'EXO_NO_BATCH' | 'EXO_MEMORY_THRESHOLD';
  /** The value EXO runs with, when it can be read; null = unknown. */
  current: string | null;
  /** Where `current` comes from: EXO's argv, its environment, EXO's default (environment read, key absent). */
  source: KnobSource;
  /** EXO's value when nothing sets it. */
  defaultValue: string;
  advised: string;
  /** EXO already runs with the advised value (null: unknown). */
  atAdvised: boolean | null;
  why: string;
  cost: string;
  /** How to set it when EXO runs from source; EXO.app: Settings → Advanced → custom environment variables. */
  command: string;
}

/** What the shell could read of the running EXO main process. */
export interface ExoProcessFacts {
  /** The main process's argv (the daemon's process map records it); null when no EXO process was found. */
  argv: string[] | null;
  /**
   * The three keys from EXO's environment where it could be read (Linux `/proc/PID/environ`, macOS
   * `ps -E`); null = not readable.
   */
  env: Partial<
    Record<'EXO_MAX_CONCURRENT_REQUESTS' | 'EXO_NO_BATCH' | 'EXO_MEMORY_THRESHOLD', string>
  > | null;
}

const GiB = 1024 ** 3;

/** EXO's default prefix-cache threshold by RAM (`cache.py:35-48`): ≥128 GB 0.85, ≥64 0.80, ≥32 0.75, else 0.70. */
export function exoDefaultMemoryThreshold(ramBytes: number | null): number | null {
  if (ramBytes === null || !(ramBytes > 0)) return null;
  const gb = ramBytes / GiB;
  return gb >= 128 ? 0.85 : gb >= 64 ? 0.8 : gb >= 32 ? 0.75 : 0.7;
}

/**
 * The threshold to advise: 0.15 below EXO's default, never under 0.5. A heuristic — no public measurement
 * ties a value to the panic; exo#1972 panicked with 93 % wired, much of it KV left in the prefix cache by an
 * earlier long-context evaluation, which EXO only evicts when a new entry is added above the threshold.
 */
export function advisedMemoryThreshold(ramBytes: number | null): number | null {
  const d = exoDefaultMemoryThreshold(ramBytes);
  return d === null ? null : Math.max(0.5, Math.round((d - 0.15) * 100) / 100);
}

/** Only short, printable values are shown: anything else from an outside process is "unreadable". */
const shown = (v: string | undefined): string | undefined =>
  v === undefined ? undefined : /^[\x20-\x7e]{0,32}$/.test(v) ? v : '(unreadable value)';

/** Parses NUL-separated `/proc/PID/environ` text, keeping only EXO's three knobs (never anything else). */
export function knobsFromEnviron(text: string): NonNullable<ExoProcessFacts['env']> {
  const out: NonNullable<ExoProcessFacts['env']> = {};
  for (const entry of text.slice(0, 1024 * 1024).split('\0')) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const key = entry.slice(0, eq);
    if (key === 'EXO_MAX_CONCURRENT_REQUESTS' || key === 'EXO_NO_BATCH' || key === 'EXO_MEMORY_THRESHOLD')
      out[key] = shown(entry.slice(eq + 1));
  }
  return out;
}

const KNOB_IN_PS = /(?:^|\s)(EXO_MAX_CONCURRENT_REQUESTS|EXO_NO_BATCH|EXO_MEMORY_THRESHOLD)=(\S*)/g;

/** Variables every launched process has: without one, `ps` showed no environment (another user's process). */
const ANY_ENVIRONMENT = /(?:^|\s)(PATH|HOME|USER|LOGNAME|TMPDIR|SHELL)=/;

/**
 * macOS `ps -E -ww -o command= -p PID`: the command line followed by the environment the process started
 * with, space-separated (only for the user's own processes). Only EXO's three knobs are kept (never another
 * variable); a value with spaces cannot be told apart and is cut at the first one. No environment shown
 * (empty output, or another user's process): null, unknown — never "not set".
 */
export function knobsFromPsEnvironment(text: string): ExoProcessFacts['env'] {
  const line = text.slice(0, 1024 * 1024).trim();
  if (!line || !ANY_ENVIRONMENT.test(line)) return null;
  const out: NonNullable<ExoProcessFacts['env']> = {};
  for (const m of line.matchAll(KNOB_IN_PS)) {
    const key = m[1] as keyof NonNullable<ExoProcessFacts['env']>;
    if (!(key in out)) out[key] = shown(m[2]);
  }
  return out;
}

const truthy = (v: string): boolean => !/^(|0|false|no|off)$/i.test(v.trim());

/** The three knobs: EXO's current value where readable (else unknown), the advised value and its cost. */
export function exoKnobs(facts: ExoProcessFacts, ramBytes: number | null): ExoKnob[] {
  const env = facts.env;
  const fromEnv = (
    key: ExoKnob['name'],
    fallback: string,
  ): { current: string | null; source: KnobSource } => {
    if (env === null) return { current: null, source: 'unknown' };
    const v = env[key];
    return v === undefined ? { current: fallback, source: 'default' } : { current: v, source: 'environment' };
  };

  const conc = fromEnv('EXO_MAX_CONCURRENT_REQUESTS', '8');
  const noBatchArg = facts.argv?.includes('--no-batch') ?? false;
  const batch = noBatchArg ? { current: 'on', source: 'argv' as const } : fromEnv('EXO_NO_BATCH', 'off');
  if (batch.source === 'environment' && batch.current !== null)
    batch.current = truthy(batch.current) ? `on (${batch.current})` : `off (${batch.current})`;
  const defThreshold = exoDefaultMemoryThreshold(ramBytes);
  const advThreshold = advisedMemoryThreshold(ramBytes);
  const mem = fromEnv('EXO_MEMORY_THRESHOLD', defThreshold === null ? 'by RAM' : String(defThreshold));

  const concN = conc.current === null ? null : Number(conc.current);
  const memN = mem.current === null ? null : Number(mem.current);
  return [
    {
      name: 'EXO_MAX_CONCURRENT_REQUESTS',
      ...conc,
      defaultValue: '8',
      advised: '1',
      atAdvised: concN === null ? null : concN === 1,
      why: 'one sequence per runner at a time: concurrency with cache churn under the wired limit is the best-evidenced trigger (mlx#3186: two streams panicked 3/3 within 108 s; the same session one request at a time ran 111 min clean). It lowers the risk, it does not remove it: panics are reported at concurrency 1 too (omlx#978, omlx#1265). Unlike the guard, it holds for clients that do not go through it',
      cost: 'throughput: concurrent requests wait their turn inside EXO (time to first token grows with the queue)',
      command: 'EXO_MAX_CONCURRENT_REQUESTS=1 uv run exo',
    },
    {
      name: 'EXO_NO_BATCH',
      current: batch.current,
      source: batch.source,
      defaultValue: 'off',
      advised: 'on',
      atAdvised: batch.current === null ? null : batch.current.startsWith('on'),
      why: 'no continuous batching: a stream admitted into a running batch is a reported trigger (mlx-lm#1666: 3 panics in a day with prompt/decode concurrency 2; vmlx#11 with continuous batching)',
      cost: 'throughput: requests run one after another instead of sharing decode steps',
      command: 'uv run exo --no-batch',
    },
    {
      name: 'EXO_MEMORY_THRESHOLD',
      ...mem,
      defaultValue:
        defThreshold === null
          ? 'by RAM: 0.85 (≥128 GB), 0.80 (≥64), 0.75 (≥32), 0.70'
          : `${defThreshold} for this RAM`,
      advised: advThreshold === null ? 'the default minus 0.15' : String(advThreshold),
      atAdvised: memN === null || advThreshold === null || Number.isNaN(memN) ? null : memN <= advThreshold,
      why: 'a lower prefix-cache threshold keeps less KV left over from earlier requests (exo#1972: 93 % wired, mostly residual KV of a long-context evaluation, before its panic); EXO only evicts when a new entry is added above it. The value is a heuristic: no public measurement ties one to the panic',
      cost: 'fewer prefix-cache hits (repeated prompts are prefilled again: slower time to first token), and evictions (with mx.clear_cache) come sooner: run it with one request at a time',
      command: `EXO_MEMORY_THRESHOLD=${advThreshold ?? 0.6} uv run exo`,
    },
  ];
}
