/**
 * node:crypto, loaded when first needed. Loading it brings in OpenSSL's bindings and node's whole crypto layer
 * (webcrypto, keys, X.509, ciphers): +2.2 MiB of RSS on Node 26 for a process that already has an HTTP server
 * and SQLite open (Linux x64, measured). The idle daemon needs none of it: its random bytes come from the
 * kernel, and a constant-time compare, a hash or an HMAC loads the module when a token-bearing request, a
 * signed cluster read or a report scan first asks for one.
 */
import type * as Crypto from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

export const nodeCrypto = (): typeof Crypto => process.getBuiltinModule('node:crypto');

/**
 * `n` bytes from the kernel's random generator (/dev/urandom on Linux and macOS: the same source OpenSSL seeds
 * from), without loading node:crypto; through node:crypto when the device cannot be read (a chroot without
 * /dev, a sandbox).
 */
export function randomBytesFromOs(n: number, device = '/dev/urandom'): Buffer {
  const bytes = Buffer.alloc(n);
  let fd: number;
  try {
    fd = openSync(device, 'r');
  } catch {
    return nodeCrypto().randomBytes(n);
  }
  try {
    for (let got = 0; got < n; ) {
      const read = readSync(fd, bytes, got, n - got, null);
      if (read <= 0) return nodeCrypto().randomBytes(n);
      got += read;
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/**
 * Whether a secret someone sent is the one we hold, in time that does not depend on where they differ. A
 * different length answers at once: lengths are not secret (tokens have a fixed length).
 */
export function sameSecret(given: Buffer, want: Buffer): boolean {
  return given.length === want.length && nodeCrypto().timingSafeEqual(given, want);
}
