/**
 * `exo-sentinel --smoke-test[=FILE]`: the packaged app starts for real (tray, daemon, dashboard window, an IPC
 * round trip through the preload bridge, a notification attempt), writes a JSON verdict and quits — for the
 * macOS CI job on the unsigned build and for anyone who wants to check a build. This module is the part that
 * needs no Electron: the flag, running the checks with time limits, and the verdict.
 */

/**
 * The smoke run's config.json (in its fresh data directory): the guard and the API on ports the system picks,
 * so the run never collides with an installed copy already listening on 52416/52417.
 */
export const SMOKE_CONFIG = {
  guard: { listen: '127.0.0.1:0' },
  api: { listen: '127.0.0.1:0' },
} as const;

/** The verdict file: `--smoke-test=FILE`, or `defaultFile` for a bare `--smoke-test`; null when not asked for. */
export function smokeTestTarget(argv: readonly string[], defaultFile: string): string | null {
  for (const a of argv) {
    if (a === '--smoke-test') return defaultFile;
    if (a.startsWith('--smoke-test=')) {
      const file = a.slice('--smoke-test='.length);
      return file === '' ? defaultFile : file;
    }
  }
  return null;
}

export interface SmokeCheck {
  name: string;
  ok: boolean;
  ms: number;
  /** What was seen (on success) or what went wrong. */
  detail: string;
}

/** A check answers with what it saw; throwing (or taking longer than its limit) fails it. */
export type SmokeStep = [name: string, run: () => Promise<string>, timeoutMs: number];

export interface SmokeVerdict {
  ok: boolean;
  app: string;
  version: string;
  electron: string | null;
  platform: string;
  arch: string;
  startedAt: string;
  durationMs: number;
  checks: SmokeCheck[];
  failed: string[];
}

/**
 * Runs the checks in order, each with its limit. A failed check does not stop the ones after it (the verdict
 * lists everything that was wrong), except that a check listed in `needs` of a failed one is skipped.
 */
export async function runSmokeChecks(
  steps: readonly SmokeStep[],
  now: () => number,
  needs: Readonly<Record<string, readonly string[]>> = {},
): Promise<SmokeCheck[]> {
  const out: SmokeCheck[] = [];
  for (const [name, run, timeoutMs] of steps) {
    const missing = (needs[name] ?? []).filter((n) => !out.find((c) => c.name === n)?.ok);
    if (missing.length > 0) {
      out.push({ name, ok: false, ms: 0, detail: `skipped: needs ${missing.join(', ')}` });
      continue;
    }
    const t0 = now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const detail = await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      out.push({ name, ok: true, ms: now() - t0, detail });
    } catch (e) {
      out.push({ name, ok: false, ms: now() - t0, detail: e instanceof Error ? e.message : String(e) });
    } finally {
      clearTimeout(timer);
    }
  }
  return out;
}

/** The verdict: ok only when every check passed. */
export function smokeVerdict(
  checks: readonly SmokeCheck[],
  meta: Omit<SmokeVerdict, 'ok' | 'checks' | 'failed' | 'durationMs'>,
  endedAt: number,
): SmokeVerdict {
  const failed = checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  return {
    ok: checks.length > 0 && failed.length === 0,
    ...meta,
    durationMs: endedAt - Date.parse(meta.startedAt),
    checks: [...checks],
    failed,
  };
}

/**
 * The notification attempt's outcome as a check result. A banner shown passes; on an unsigned or ad-hoc build
 * macOS refuses every banner (`failed`), which passes only if the alert reached the menu bar instead.
 */
export function notificationOutcome(
  state: 'unknown' | 'shown' | 'failed' | 'unsupported',
  alertRaised: boolean,
): string {
  if (state === 'shown') return 'banner shown';
  if ((state === 'failed' || state === 'unsupported') && alertRaised)
    return `banner ${state} (expected for an unsigned build); the alert is in the menu bar instead`;
  if (state === 'unknown') throw new Error('the banner neither showed nor failed');
  throw new Error(`banner ${state} and no menu-bar alert was raised`);
}

/** Waits until `probe` returns a non-null value, checking every `everyMs`; throws after `limitMs`. */
export async function waitFor<T>(
  probe: () => T | null,
  what: string,
  limitMs: number,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const v = probe();
    if (v !== null) return v;
    if (Date.now() >= until) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
