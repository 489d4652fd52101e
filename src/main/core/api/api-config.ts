import { z } from 'zod/v3';
import { parseListen } from '../guard/guard-config.js';
import { hostName } from '../util/host-name.js';
import { urlText } from '../util/url-text.js';

export const ApiConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    listen: z
      .string()
      .refine((v) => parseListen(v) !== null, { message: 'must be HOST:PORT, e.g. 127.0.0.1:52417' })
      .default('127.0.0.1:52417'),
    /** Origins allowed to call the API from a browser (CORS); none by default. */
    corsOrigins: z.array(urlText).default([]),
    /**
     * Extra names this API answers to in the `Host` header, besides loopback and the listen address (and, on a
     * wildcard listen address, this machine's own names and addresses). Anything else is refused (421), so a
     * web page cannot reach the API through DNS rebinding.
     */
    allowedHosts: z.array(hostName).default([]),
  })
  .strict();
export type ApiConfig = z.infer<typeof ApiConfigSchema>;
