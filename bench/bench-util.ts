import { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));

export function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}

export const fmt = (n: number, digits = 3): string => n.toFixed(digits);

/** Counts every asynchronous child process created here (spawn, execFile, exec and fork all go through
 * ChildProcess#spawn). The probes never use the synchronous variants. */
export function countSpawns(): { readonly count: number } {
  const counter = { count: 0 };
  // ChildProcess#spawn is internal (not in the typings) but is what spawn, execFile, exec and fork call.
  const proto = ChildProcess.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
  const original = proto.spawn;
  proto.spawn = function (this: unknown, ...args: unknown[]) {
    counter.count++;
    return original.apply(this, args);
  };
  return counter;
}

export function saveResult(name: string, result: unknown): string {
  const path = join(benchDir, 'results', `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
