import { z } from 'zod/v3';
import { ActionConfigSchema } from '../actions/action-config.js';
import { NotificationsConfigSchema } from '../actions/notifications-config.js';
import { ApiConfigSchema } from '../api/api-config.js';
import { ClusterConfigSchema } from '../cluster/cluster-config.js';
import { DEFAULT_MLX_SERVER_PATTERNS } from '../exo/process-classifier.js';
import { GuardConfigSchema, isLoopback, parseListen } from '../guard/guard-config.js';
import { RiskThresholdsSchema } from '../risk/risk-thresholds.js';
import { linearRegExp } from '../util/linear-regexp.js';
import { urlText } from '../util/url-text.js';

/**
 * A pattern the daemon runs over every process's command line, which any local user can write: it must compile
 * for V8's linear-time engine (linear-regexp.ts), so no line can make it backtrack.
 */
const regex = z
  .string()
  .max(1024)
  .superRefine((s, ctx) => {
    const r = linearRegExp(s);
    if (!r.ok) ctx.addIssue({ code: 'custom', message: r.problem });
  });

/** The daemon's configuration file (config.json). Unknown keys are errors; `$schema` is allowed for editors. */
export const ConfigSchema = z
  .object({
    $schema: z
      .string()
      .max(2048)
      .optional()
      .describe(
        'where an editor finds this JSON Schema (`exo-sentinel config schema`); ignored by the daemon',
      ),
    intervalSeconds: z.number().min(0.1).max(60).default(1).describe('cheap probes (memory, EXO processes)'),
    slowIntervalSeconds: z.number().min(1).max(600).default(5).describe('expensive probes (ioreg, ps, top)'),
    retention: z
      .object({
        rawDays: z.number().min(0.01).max(365).default(2),
        minuteDays: z.number().min(1).max(3650).default(30),
      })
      .strict()
      .default({ rawDays: 2, minuteDays: 30 }),
    gpu: z
      .object({
        ceilingBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullable().default(null),
        mlxPython: z.string().min(1).nullable().default(null),
      })
      .strict()
      .default({ ceilingBytes: null, mlxPython: null }),
    watch: z
      .object({
        mlxServerPatterns: z.array(regex).max(64).default(DEFAULT_MLX_SERVER_PATTERNS),
        exoPidfile: z.string().min(1).nullable().default(null),
      })
      .strict()
      .default({ mlxServerPatterns: DEFAULT_MLX_SERVER_PATTERNS, exoPidfile: null }),
    reports: z
      .object({
        dirs: z.array(z.string().min(1)).nullable().default(null).describe('null = the platform default'),
        rescanSeconds: z.number().min(5).max(3600).default(60),
      })
      .strict()
      .default({ dirs: null, rescanSeconds: 60 }),
    exo: z
      .object({
        url: urlText
          .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' })
          .default('http://127.0.0.1:52415'),
        pollSeconds: z.number().min(1).max(60).default(1),
        timeoutMs: z.number().int().min(100).max(30_000).default(2000),
        /** EXO's home (~/.exo, or $EXO_HOME): its log, pidfile and models. */
        home: z.string().min(1).nullable().default(null),
      })
      .strict()
      .default({ url: 'http://127.0.0.1:52415', pollSeconds: 1, timeoutMs: 2000, home: null }),
    guard: GuardConfigSchema.default(GuardConfigSchema.parse({})),
    api: ApiConfigSchema.default(ApiConfigSchema.parse({})),
    cluster: ClusterConfigSchema.default(ClusterConfigSchema.parse({})),
    risk: RiskThresholdsSchema.default(RiskThresholdsSchema.parse({})),
    actions: ActionConfigSchema.default(ActionConfigSchema.parse({})),
    notifications: NotificationsConfigSchema.default(NotificationsConfigSchema.parse({})),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  })
  .strict()
  // The guard relays to EXO: beyond loopback it takes only clients with its token. Checked here, so a file,
  // a reload, an API write and `config validate` all refuse what would stop the daemon at its next start.
  .superRefine((c, ctx) => {
    const at = parseListen(c.guard.listen);
    if (at && !isLoopback(at.host) && !c.guard.token)
      ctx.addIssue({
        code: 'custom',
        path: ['guard', 'token'],
        message: `needed when guard.listen (${c.guard.listen}) is not loopback: 16+ characters that clients send`,
      });
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
