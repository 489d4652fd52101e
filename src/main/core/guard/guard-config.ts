import { z } from 'zod/v3';
import { hostName } from '../util/host-name.js';
import { urlText } from '../util/url-text.js';

/** `HOST:PORT` (IPv6 as `[::1]:PORT`). */
export function parseListen(value: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 0 || port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}

export const isLoopback = (host: string): boolean => /^(127\.\d+\.\d+\.\d+|localhost|::1)$/.test(host);

const listen = z
  .string()
  .refine((v) => parseListen(v) !== null, { message: 'must be HOST:PORT, e.g. 127.0.0.1:52416' });

export const GuardConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    listen: listen.default('127.0.0.1:52416'),
    /** Required when listening on anything but loopback: clients send `Authorization: Bearer <token>`. */
    token: z.string().min(16).nullable().default(null),
    /**
     * Extra names the guard answers to in the `Host` header, besides loopback and the listen address (and, on
     * a wildcard listen address, this machine's own names and addresses). Anything else is refused (421), so a
     * web page cannot drive EXO through the guard by rebinding its own name to 127.0.0.1.
     */
    allowedHosts: z.array(hostName).max(64).default([]),
    /**
     * Web origins whose pages may call EXO through the guard (EXO itself answers any origin). None by default:
     * a browser's request from another site is refused (403), so a web page cannot run generations, read
     * EXO's state or unload its models through the guard. Requests that are not from a browser, and EXO's own
     * dashboard reached through the guard, are not affected.
     */
    corsOrigins: z.array(urlText).max(64).default([]),
    /** Prompt + max_tokens above this is refused with 413; null = the model's own context length. */
    contextCap: z.number().int().safe().min(256).nullable().default(null),
    /** Request bodies above this are refused with 413 before being read whole. */
    maxBodyBytes: z
      .number()
      .int()
      .safe()
      .min(1024)
      .default(32 * 1024 * 1024),
    queue: z
      .object({
        max: z.number().int().min(0).max(1000).default(16),
        timeoutSeconds: z.number().min(1).max(3600).default(120),
      })
      .strict()
      .default({ max: 16, timeoutSeconds: 120 }),
    /** Connections held open at once (each streaming client holds one); Node closes any beyond it at once. */
    maxConnections: z.number().int().min(16).max(65_536).default(1024),
    /** All request bodies being read or waiting in the queue at once, bytes: past it new bodies get 503. */
    maxBufferedBodyBytes: z
      .number()
      .int()
      .safe()
      .min(1024 * 1024)
      .default(256 * 1024 * 1024),
    /** How long EXO may take to start its answer (a non-streamed generation answers only at its end). */
    upstreamHeadersSeconds: z.number().min(1).max(86_400).default(1800),
    /**
     * How long a generation answer from EXO may stay silent (EXO sends a keep-alive every 10 s), and how long
     * a client may take nothing of an answer that waits for it before it is dropped (cancelled in EXO).
     */
    upstreamIdleSeconds: z.number().min(1).max(3600).default(120),
    /** Request headers above this many bytes are answered 431 by the HTTP parser. */
    maxHeaderBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(32 * 1024),
    /** An extra PEM CA bundle to trust for an https:// EXO URL (the system's roots are trusted already). */
    upstreamCaFile: z.string().min(1).nullable().default(null),
    /** Model loads are refused this long after the last load or unload (back-to-back loads are a trigger). */
    loadCooldownSeconds: z.number().min(0).max(3600).default(120),
    /**
     * The sleep/wake hold: no new generation request from the sleep notice until this long after the wake
     * (0 = off). Evidence and assumptions in actions/wake-hold.ts: omlx#978 panics right after a wake, no
     * report says how long after; 120 s covers the reconnect burst after the wake.
     */
    wakeHoldSeconds: z.number().int().min(0).max(3600).default(120),
    /** Base Retry-After for 503 refusals; ±20 % jitter is added so clients do not retry in step. */
    retryAfterSeconds: z.number().int().min(1).max(3600).default(30),
  })
  .strict();

export type GuardConfig = z.infer<typeof GuardConfigSchema>;
