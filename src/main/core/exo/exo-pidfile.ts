import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readSmallFile } from '../util/small-file.js';

/** A pidfile holds a number and a newline; anything far larger is not EXO's. */
const MAX_PIDFILE_BYTES = 64;

/** Where EXO writes its pidfile: `$EXO_HOME` (relative to ~) or ~/.exo. */
export function exoHome(env: NodeJS.ProcessEnv = process.env): string {
  const rel = env['EXO_HOME'];
  return rel ? join(homedir(), rel) : join(homedir(), '.exo');
}

const parsePid = (text: string): number | null => {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
};

/**
 * Reads ~/.exo/exo.pid. EXO holds a lock on it while running: it is only read, never opened for
 * writing or locked (taking the lock would block EXO's start).
 */
export function readExoPidfile(path: string = join(exoHome(), 'exo.pid')): number | null {
  // Read as a small regular file only: a FIFO or /dev/zero put there cannot hold the tick.
  const read = readSmallFile(path, MAX_PIDFILE_BYTES);
  return read.ok ? parsePid(read.text) : null;
}

/**
 * EXO's pidfile for a reader asking every tick: the file is stat'ed (no exception when it is missing, the
 * common case on a machine without EXO) and read again only when its inode, size or modification time
 * changed. The path is fixed when it is made (~ is resolved once).
 */
export class ExoPidfileWatch {
  readonly path: string;
  private key = '';
  private pid: number | null = null;

  constructor(path?: string) {
    this.path = path ?? join(exoHome(), 'exo.pid');
  }

  current(): number | null {
    let key: string;
    try {
      const st = statSync(this.path, { throwIfNoEntry: false });
      key = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '';
    } catch {
      key = ''; // not a directory on the way, permission: as missing
    }
    if (key === this.key) return this.pid;
    this.key = key;
    this.pid = key === '' ? null : readExoPidfile(this.path);
    return this.pid;
  }
}
