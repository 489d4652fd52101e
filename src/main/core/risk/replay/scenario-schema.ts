import { z } from 'zod/v3';

/**
 * A scenario: a synthetic timeline for `exo-sentinel replay --scenario` and `backtest`, described as
 * segments the loader expands into ticks (so a 24 h workload is a few lines). Within a segment a value is
 * either constant (`70`) or a linear ramp (`[60, 93]` from the segment's start to its end); a value left
 * out carries over from where the previous segment ended. Memory figures are GiB (1024³ bytes).
 */

const DURATION_RE = /^\d+(?:\.\d+)?(?:ms|s|m|h|d)$/;
export const DurationSchema = z
  .string()
  .regex(DURATION_RE, { message: 'must be a duration like 500ms, 90s, 15m, 2h or 1d' });

/** A constant, or `[from, to]`: a linear ramp over the segment. */
const ramp = (min: number, max: number) =>
  z.union([
    z.number().min(min).max(max),
    z.tuple([z.number().min(min).max(max), z.number().min(min).max(max)]),
  ]);

/** Timeline event kinds a scenario may place; the ones the risk context reads (risk-context.ts). */
export const SCENARIO_EVENT_KINDS = [
  'exo.wired-limit-set',
  'exo.kv-evicted',
  'exo.model-load',
  'exo.instance-added',
  'exo.instance-removed',
  'exo.restarted',
  'power.wake',
] as const;

export const ScenarioEventSchema = z
  .object({
    kind: z.enum(SCENARIO_EVENT_KINDS),
    /** Offset from the segment's start (default 0s). */
    at: DurationSchema.optional(),
    /** Repeat every this long from `at` until the segment ends. */
    every: DurationSchema.optional(),
    note: z.string().optional(),
  })
  .strict();

export const MemorySpecSchema = z
  .object({
    /** Wired memory (vm_stat wire_count × page size). */
    wiredGiB: ramp(0, 4096),
    /** IOAccelerator "In use system memory". */
    gpuInUseGiB: ramp(0, 4096),
    /** kern.memorystatus_level: percent of memory available. */
    freePercent: ramp(0, 100),
    swapUsedGiB: ramp(0, 4096),
    /** kern.memorystatus_vm_pressure_level: 1 normal, 2 warn, 4 critical. */
    pressure: z.union([z.literal(1), z.literal(2), z.literal(4)]),
  })
  .partial()
  .strict();

export const ExoSpecSchema = z
  .object({
    reachable: z.boolean(),
    /** Requests in flight (EXO's unfinished tasks). */
    inFlight: z.number().int().min(0).max(1000),
    /** Model instances with a shard on this node. */
    instances: z.number().int().min(0).max(100),
    /** The largest in-flight prompt, in tokens (null: none). */
    promptTokens: z.number().int().safe().min(0).nullable(),
    /** KV cache the in-flight requests may still add on this node (null: not estimated). */
    kvInFlightGiB: z.union([ramp(0, 4096), z.null()]),
  })
  .partial()
  .strict();

export const SegmentSchema = z
  .object({
    name: z.string().min(1),
    duration: DurationSchema,
    /** The machine sleeps for the whole segment: no ticks; a `power.wake` event at its end. */
    sleep: z.boolean().optional(),
    memory: MemorySpecSchema.optional(),
    exo: ExoSpecSchema.optional(),
    events: z.array(ScenarioEventSchema).optional(),
  })
  .strict();

/** Segments repeated `repeat` times (e.g. 3 min of generation then 2 min idle, 96 times: 8 h of agent traffic). */
export const SegmentGroupSchema = z
  .object({
    name: z.string().min(1),
    repeat: z.number().int().min(1).max(100_000),
    segments: z.array(SegmentSchema).min(1),
  })
  .strict();

export const ScenarioSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, { message: 'must be kebab-case (a-z, 0-9, "-", ".")' }),
    kind: z.enum(['incident', 'healthy']),
    description: z.string().min(1),
    source: z
      .object({
        /** Where the facts come from (issues, PRs, knowledge files). */
        refs: z.array(z.string().min(1)).min(1),
        /** What the sources state. */
        known: z.array(z.string().min(1)),
        /** What the scenario fills in (figures, timings) and why. */
        assumed: z.array(z.string().min(1)),
      })
      .strict(),
    machine: z
      .object({
        chip: z.string().min(1),
        ramGiB: z.number().positive().max(4096),
        /** The Metal working-set ceiling (recommendedMaxWorkingSetSize). */
        ceilingGiB: z.number().positive().max(4096),
        swapTotalGiB: z.number().min(0).max(4096).default(0),
        osBuild: z.string().optional(),
        iogpuFamily: z.string().optional(),
      })
      .strict(),
    /** Wall-clock start (ISO 8601); default 2026-01-01T00:00:00Z. */
    start: z
      .string()
      .datetime({ offset: true })
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/, {
        message: 'must be like 2026-01-01T00:00:00Z or 2026-01-01T09:00:00+09:00',
      })
      // The patterns let offsets like +24:00 through, which no clock reads.
      .refine((s) => Number.isFinite(Date.parse(s)), { message: 'must be a time a clock can read' })
      .optional(),
    /** Seconds between ticks (the daemon's default is 1; long healthy runs may use a coarser step). */
    tickSeconds: z.number().min(0.1).max(60).default(1),
    /** IOGPU panics on this machine before the start, in hours ago (the recent-panic signal). */
    priorPanicsHoursAgo: z.array(z.number().finite().min(0)).default([]),
    /** An incident counts as warned when the level is high or above this many seconds before the panic. */
    warnBySeconds: z.number().min(0).max(86_400).default(30),
    /** Why `warnBySeconds` differs from 30 (what the signals allow). */
    warnByReason: z.string().min(1).optional(),
    segments: z.array(z.union([SegmentSchema, SegmentGroupSchema])).min(1),
    /** An incident ends in a panic at the end of the last segment. */
    panic: z
      .object({
        kind: z.enum(['completeMemory', 'iogpuSibling', 'watchdogTimeout', 'other']),
        note: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.kind === 'incident' && !s.panic)
      ctx.addIssue({ code: 'custom', path: ['panic'], message: 'an incident needs a panic' });
    if (s.kind === 'healthy' && s.panic)
      ctx.addIssue({ code: 'custom', path: ['panic'], message: 'a healthy scenario has no panic' });
    if (s.warnBySeconds !== 30 && !s.warnByReason)
      ctx.addIssue({
        code: 'custom',
        path: ['warnByReason'],
        message: 'say why warnBySeconds is not 30 (what the signals allow)',
      });
  });

export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Segment = z.infer<typeof SegmentSchema>;
