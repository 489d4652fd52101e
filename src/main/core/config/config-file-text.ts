import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** A configuration file is a few KiB; one far larger is not one (and is never read whole). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export type ConfigFileText = { ok: true; text: string } | { ok: false; code: string; message: string };

/**
 * The configuration file's text, read without ever holding the event loop or growing without bound: opened
 * non-blocking (a FIFO put where the file was cannot wait for a writer), only a regular file is read (a link
 * to /dev/zero or a device is refused), and at most `MAX_CONFIG_BYTES` (a file that grows while read is
 * refused, not followed). A link to a regular file is read (dotfile managers link config files). ENOENT is
 * its own code: an absent file means the defaults to the callers.
 */
export function readConfigText(path: string, maxBytes = MAX_CONFIG_BYTES): ConfigFileText {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, code, message: code };
  }
  try {
    return readOpened(fd, maxBytes);
  } finally {
    closeSync(fd);
  }
}

function readOpened(fd: number, maxBytes: number): ConfigFileText {
  let size: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, code: 'ENOTREG', message: 'not a regular file' };
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, code, message: code };
  }
  const tooLarge = { ok: false, code: 'EFBIG', message: `larger than ${maxBytes} bytes` } as const;
  if (size > maxBytes) return tooLarge;
  // One byte more than allowed: a file that grew since the stat is seen to be too large.
  const buf = Buffer.alloc(maxBytes + 1);
  let got = 0;
  try {
    for (let n = 1; n > 0 && got < buf.length; got += n) n = readSync(fd, buf, got, buf.length - got, got);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, code, message: code };
  }
  if (got > maxBytes) return tooLarge;
  return { ok: true, text: buf.subarray(0, got).toString('utf8') };
}
