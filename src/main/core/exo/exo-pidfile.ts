import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where EXO writes its pidfile: `$EXO_HOME` (relative to ~) or ~/.exo. */
export function exoHome(env: NodeJS.ProcessEnv = process.env): string {
  const rel = env['EXO_HOME'];
  return rel ? join(homedir(), rel) : join(homedir(), '.exo');
}

/**
 * Reads ~/.exo/exo.pid. EXO holds a lock on it while running: it is only read, never opened for
 * writing or locked (taking the lock would block EXO's start).
 */
export function readExoPidfile(path: string = join(exoHome(), 'exo.pid')): number | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}
