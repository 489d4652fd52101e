/**
 * The payload each IPC invoke channel accepts (the dashboard window → main), as zod schemas: main validates
 * every message with these before the backend sees it. Anything else is refused. Uses zod: main imports this,
 * the preload and the renderer import only ./ipc.js (their bundles stay free of zod).
 */
import { z } from 'zod/v3';
import { GuardChoice, GuardProfileSchema } from './guard-schemas.js';
import type { IpcInvokeChannel } from './ipc.js';

const time = z.number().int().safe().nonnegative();

export const IPC_SCHEMAS = {
  status: z.undefined(),
  timeline: z.object({ from: time, to: time }).strict(),
  events: z
    .object({
      kind: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/),
      from: time,
      before: z.number().int().safe().positive().optional(),
    })
    .strict(),
  panics: z.object({ before: z.number().int().safe().positive().optional() }).strict().optional(),
  panicReport: z.object({ id: z.number().int().safe().positive() }).strict(),
  cluster: z.undefined(),
  advisory: z.undefined(),
  config: z.undefined(),
  configSchema: z.undefined(),
  saveConfig: z.record(z.string(), z.unknown()),
  /** `{set: {dotted.key: value}, unset: [dotted.key]}`; the keys are checked against the schema in main. */
  patchConfig: z
    .object({
      set: z
        .record(z.string().max(600), z.unknown())
        .refine((o) => Object.keys(o).length <= 256, { message: 'at most 256 keys' })
        .optional(),
      unset: z.array(z.string().max(600)).max(256).optional(),
    })
    .strict(),
  ack: z.undefined(),
  setGuardMode: z.object({ mode: GuardChoice }).strict(),
  guardProfile: z.undefined(),
  setGuardProfile: z.object({ profile: GuardProfileSchema }).strict(),
} satisfies Record<IpcInvokeChannel, z.ZodType>;

/** What a channel's handler receives once its payload is validated (`auto` already turned into null, …). */
export type IpcRequest<C extends IpcInvokeChannel> = z.output<(typeof IPC_SCHEMAS)[C]>;
