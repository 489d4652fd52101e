import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../config/atomic-file.js';
import { parseListen } from '../guard/guard-config.js';

/** A host name or address as it appears in a `Host` header, without the port (IPv6 in brackets or not). */
const hostName = z
  .string()
  .regex(
    /^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\.?)$/,
    {
      message: 'must be a host name or address without a port, e.g. studio-1.local',
    },
  );

export const ApiConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    listen: z
      .string()
      .refine((v) => parseListen(v) !== null, { message: 'must be HOST:PORT, e.g. 127.0.0.1:52417' })
      .default('127.0.0.1:52417'),
    /** Origins allowed to call the API from a browser (CORS); none by default. */
    corsOrigins: z.array(z.string().url()).default([]),
    /**
     * Extra names this API answers to in the `Host` header, besides loopback and the listen address (and, on a
     * wildcard listen address, this machine's own names and addresses). Anything else is refused (421), so a
     * web page cannot reach the API through DNS rebinding.
     */
    allowedHosts: z.array(hostName).default([]),
  })
  .strict();
export type ApiConfig = z.infer<typeof ApiConfigSchema>;

/**
 * The API's bearer token: generated on first run, kept in the data directory with mode 0600. Needed by
 * clients whenever the API listens on anything but loopback.
 */
export function loadOrCreateToken(path: string): string {
  if (existsSync(path)) {
    const t = readFileSync(path, 'utf8').trim();
    if (t.length >= 16) return t;
  }
  const token = randomBytes(24).toString('base64url');
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${token}\n`, 0o600);
  return token;
}
