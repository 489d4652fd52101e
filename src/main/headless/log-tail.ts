import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Where a read of a file ended: which file (inode) and the byte offset, for following on from there. */
export interface FilePlace {
  ino: number;
  pos: number;
}

/** The last `n` lines of a file, reading backwards in chunks (never more than `maxBytes` of it). */
export function lastLines(path: string, n: number, maxBytes = 64 * 1024 * 1024): string[] {
  return tail(path, n, maxBytes).lines;
}

/** The last `n` lines and the place they end, so a follower misses nothing written after the read. */
export function tail(
  path: string,
  n: number,
  maxBytes = 64 * 1024 * 1024,
): { lines: string[]; end: FilePlace } {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const size = st.size;
    const end = { ino: st.ino, pos: size };
    if (n <= 0) return { lines: [], end };
    const chunk = 64 * 1024;
    let pos = size;
    let buf = Buffer.alloc(0);
    let newlines = 0;
    while (pos > 0 && newlines <= n && size - pos < maxBytes) {
      const len = Math.min(chunk, pos);
      pos -= len;
      const part = Buffer.alloc(len);
      readSync(fd, part, 0, len, pos);
      for (const b of part) if (b === 0x0a) newlines++;
      buf = Buffer.concat([part, buf]);
    }
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    // The first piece may be the tail of a longer line when reading stopped mid-file.
    if (pos > 0) lines.shift();
    return { lines: lines.slice(-n), end };
  } finally {
    closeSync(fd);
  }
}

export interface Follower {
  stop(): void;
}

/**
 * Follows a log file as `tail -F` does: new lines as they are appended; when the file is rotated (renamed
 * to .1 and a new one started) the rest of the old file is read, then the new one from its start; a file
 * truncated in place is read again from its start. Polls every `everyMs` (no watch: works on every file
 * system and survives the file missing for a while). Given `from` (where an earlier read of the same file
 * ended), it goes on from there, so lines written between that read and this call are not lost; a file
 * replaced in between is read from its start.
 */
export function followFile(
  path: string,
  onLines: (lines: string[]) => void,
  onNote: (note: string) => void,
  everyMs = 250,
  from?: FilePlace,
): Follower {
  let fd: number | null = null;
  let ino = -1;
  let pos = 0;
  let partial = '';
  // Bytes are decoded across reads: a character split at a 64 KiB boundary is not two U+FFFD.
  let decoder = new StringDecoder('utf8');
  const open = (fromStart: boolean): void => {
    try {
      fd = openSync(path, 'r');
      const s = fstatSync(fd);
      ino = s.ino;
      pos = fromStart ? 0 : s.size;
      if (!fromStart && from) pos = from.ino === s.ino && from.pos <= s.size ? from.pos : 0;
    } catch {
      fd = null;
    }
  };
  const drain = (): void => {
    if (fd === null) return;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, pos);
      if (got <= 0) break;
      pos += got;
      const text = partial + decoder.write(buf.subarray(0, got));
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      // A line never ends is kept to 1 MiB.
      if (partial.length > 1024 * 1024) partial = partial.slice(-1024 * 1024);
      if (lines.length) onLines(lines);
    }
  };
  open(false);
  const tick = (): void => {
    try {
      if (fd === null) {
        open(true);
        if (fd !== null) onNote(`${path} appeared`);
      } else {
        drain();
        let now: ReturnType<typeof statSync> | null = null;
        try {
          now = statSync(path);
        } catch {
          now = null;
        }
        if (!now || now.ino !== ino) {
          // Rotated: the old file is read to its end above; the new one from its start.
          closeSync(fd);
          fd = null;
          partial += decoder.end();
          if (partial) onLines([partial]);
          partial = '';
          decoder = new StringDecoder('utf8');
          open(true);
          if (fd !== null) onNote(`${path} was rotated; following the new file`);
          drain();
        } else if (now.size < pos) {
          pos = 0;
          partial = '';
          decoder = new StringDecoder('utf8');
          onNote(`${path} was truncated; reading it from the start`);
          drain();
        }
      }
    } catch (e) {
      onNote(`cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const timer = setInterval(tick, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
