import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type SmallFileText = { ok: true; text: string } | { ok: false; code: string; message: string };

const failure = (e: unknown): SmallFileText => {
  const code = (e as NodeJS.ErrnoException).code ?? 'error';
  return { ok: false, code, message: code };
};

/**
 * A small file's text, read without ever holding the event loop or growing without bound: opened
 * non-blocking (a FIFO put where the file was cannot wait for a writer), read only when a regular file (a
 * link to /dev/zero or another device is refused) and only up to `maxBytes` (a file that grows while read is
 * refused, not followed). Links to regular files are followed. ENOENT is its own code (absent is often
 * normal to the caller); a file that cannot be used is `ENOTREG` or `EFBIG`.
 */
export function readSmallFile(path: string, maxBytes: number): SmallFileText {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return failure(e);
  }
  try {
    return readOpened(fd, maxBytes);
  } finally {
    closeSync(fd);
  }
}

function readOpened(fd: number, maxBytes: number): SmallFileText {
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, code: 'ENOTREG', message: 'not a regular file' };
    size = st.size;
  } catch (e) {
    return failure(e);
  }
  const tooLarge = { ok: false, code: 'EFBIG', message: `larger than ${maxBytes} bytes` } as const;
  if (size > maxBytes) return tooLarge;
  // One byte more than allowed: a file that grew since the stat is seen to be too large.
  const buf = Buffer.alloc(maxBytes + 1);
  let got = 0;
  try {
    for (let n = 1; n > 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, got);
  } catch (e) {
    return failure(e);
  }
  if (got > maxBytes) return tooLarge;
  return { ok: true, text: buf.subarray(0, got).toString('utf8') };
}
