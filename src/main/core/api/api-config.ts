import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { parseListen } from '../guard/guard-config.js';

export const ApiConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    listen: z
      .string()
      .refine((v) => parseListen(v) !== null, { message: 'must be HOST:PORT, e.g. 127.0.0.1:52417' })
      .default('127.0.0.1:52417'),
    /** Origins allowed to call the API from a browser (CORS); none by default. */
    corsOrigins: z.array(z.string().url()).default([]),
  })
  .strict();
export type ApiConfig = z.infer<typeof ApiConfigSchema>;

export const ClusterConfigSchema = z
  .object({
    /** Other nodes' exo-sentinel APIs, e.g. http://studio-2.local:52417 (EXO's topology adds the rest). */
    peers: z.array(z.string().url()).default([]),
    /** The token the peers expect (the same on every node, or leave null for loopback-only setups). */
    token: z.string().min(16).nullable().default(null),
    /** Port of exo-sentinel's API on nodes found through EXO's topology. */
    apiPort: z.number().int().min(1).max(65535).default(52417),
    timeoutMs: z.number().int().min(100).max(30_000).default(2000),
  })
  .strict();
export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;

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
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return token;
}
