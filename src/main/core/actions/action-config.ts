import { z } from 'zod/v3';

const level = z.enum(['ok', 'elevated', 'high', 'critical']);
const mode = z.enum(['open', 'serialise', 'refuse-new', 'cancel-newest']);

/** What each level does. Every action is recorded in the audit trail; `dryRun` records without doing. */
export const ActionConfigSchema = z
  .object({
    dryRun: z.boolean().default(false),
    notify: z
      .object({
        minLevel: level.default('elevated'),
        cooldownSeconds: z.number().min(0).max(86_400).default(600),
        /** A program to run on each notification, as an argument array (never a shell string). */
        command: z.array(z.string().min(1)).min(1).nullable().default(null),
      })
      .strict()
      .default({ minLevel: 'elevated', cooldownSeconds: 600, command: null }),
    guardModes: z
      .object({
        ok: mode.default('open'),
        elevated: mode.default('serialise'),
        high: mode.default('refuse-new'),
        critical: mode.default('cancel-newest'),
      })
      .strict()
      .default({ ok: 'open', elevated: 'serialise', high: 'refuse-new', critical: 'cancel-newest' }),
    unload: z
      .object({
        enabled: z.boolean().default(false),
        minLevel: level.default('critical'),
        cooldownSeconds: z.number().min(0).max(86_400).default(600),
      })
      .strict()
      .default({ enabled: false, minLevel: 'critical', cooldownSeconds: 600 }),
    postPanicHold: z.boolean().default(true),
    /** protect | balanced | observe (guard-profile.ts); `exo-sentinel guard profile` overrides it. */
    guardProfile: z.enum(['protect', 'balanced', 'observe']).default('protect'),
    /** `affected`: protect acts on platforms the advisory calls affected; `any`: everywhere. */
    guardProfilePlatforms: z.enum(['affected', 'any']).default('affected'),
  })
  .strict();

export type ActionConfig = z.infer<typeof ActionConfigSchema>;
