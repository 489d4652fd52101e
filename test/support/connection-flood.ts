import { connect, type Socket } from 'node:net';

/**
 * A local client holding `count` connections to the API that never finish a request (they send `partial`,
 * or nothing), opening a new one whenever the server closes one and re-opening each every `reopenMs` (to
 * stay ahead of the headers timeout). Tests only.
 */
export interface ConnectionFlood {
  /** Connections opened so far (the first `count` included). */
  opened: () => number;
  /** Connections open now. */
  open: () => number;
  stop: () => void;
}

export function holdConnections(
  port: number,
  count: number,
  { partial = '', reopenMs = 10_000 }: { partial?: string; reopenMs?: number } = {},
): ConnectionFlood {
  const live = new Set<Socket>();
  let opened = 0;
  let stopped = false;
  const openOne = (): void => {
    if (stopped) return;
    opened++;
    const s = connect(port, '127.0.0.1');
    live.add(s);
    s.on('error', () => undefined);
    if (partial) s.on('connect', () => s.write(partial));
    const timer = setTimeout(() => s.destroy(), reopenMs);
    s.on('close', () => {
      clearTimeout(timer);
      live.delete(s);
      // A closed connection is opened again on the next turn (not inside the close handler's stack).
      if (!stopped) setImmediate(openOne);
    });
  };
  for (let i = 0; i < count; i++) openOne();
  return {
    opened: () => opened,
    open: () => live.size,
    stop: () => {
      stopped = true;
      for (const s of live) s.destroy();
    },
  };
}

export interface PollResult {
  total: number;
  ok: number;
  /** Failure messages and how often each came. */
  errors: Record<string, number>;
  /** Slowest answered request, ms. */
  slowestMs: number;
}

/** GET `url` every `gapMs` for `durationMs` (each with a `timeoutMs` limit), counting 200s. */
export async function pollFor(
  url: string,
  durationMs: number,
  { gapMs = 100, timeoutMs = 2000 }: { gapMs?: number; timeoutMs?: number } = {},
): Promise<PollResult> {
  const result: PollResult = { total: 0, ok: 0, errors: {}, slowestMs: 0 };
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    result.total++;
    const t = performance.now();
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      await r.arrayBuffer();
      if (r.status === 200) result.ok++;
      else result.errors[`status ${r.status}`] = (result.errors[`status ${r.status}`] ?? 0) + 1;
      result.slowestMs = Math.max(result.slowestMs, performance.now() - t);
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      const key = err.cause?.code ?? err.name;
      result.errors[key] = (result.errors[key] ?? 0) + 1;
    }
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return result;
}
