import { z } from 'zod/v3';
import { urlText } from '../util/url-text.js';

/** `cluster`: how this node asks the other nodes' exo-sentinel for their status (`exo-sentinel cluster`). */
export const ClusterConfigSchema = z
  .object({
    /** Other nodes' exo-sentinel APIs, e.g. http://studio-2.local:52417 (EXO's topology adds the rest). */
    peers: z.array(urlText).default([]),
    /** The token the peers expect (the same on every node, or leave null for loopback-only setups). */
    token: z.string().min(16).nullable().default(null),
    /** Port of exo-sentinel's API on nodes found through EXO's topology. */
    apiPort: z.number().int().min(1).max(65535).default(52417),
    timeoutMs: z.number().int().min(100).max(30_000).default(2000),
  })
  .strict();
export type ClusterConfig = z.infer<typeof ClusterConfigSchema>;
