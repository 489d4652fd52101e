import { z } from 'zod';

/**
 * Thresholds with defaults from the evidence (knowledge/panics.md §8-9): GPU soft 0.85 / hard 0.95 of the
 * Metal ceiling (oMLX's enforcer), wired ≥ 80 % / 90 % of RAM, the IOGPU trigger score (≥ 2 / 4 / 6).
 * Hysteresis: a level is left only when the value is past the threshold by the margin for `minDwellSeconds`.
 */
export const RiskThresholdsSchema = z
  .object({
    gpuElevated: z.number().min(0.1).max(1).default(0.75),
    gpuSoft: z.number().min(0.1).max(1).default(0.85),
    gpuHard: z.number().min(0.1).max(1.5).default(0.95),
    wiredElevated: z.number().min(0.1).max(1).default(0.8),
    wiredHigh: z.number().min(0.1).max(1).default(0.9),
    freeElevated: z.number().min(0).max(100).default(20),
    freeHigh: z.number().min(0).max(100).default(10),
    freeCritical: z.number().min(0).max(100).default(5),
    swapGrowthBytes: z
      .number()
      .min(0)
      .default(1024 ** 3),
    swapUsedHigh: z.number().min(0).max(1).default(0.8),
    scoreElevated: z.number().int().min(1).max(20).default(2),
    scoreHigh: z.number().int().min(1).max(20).default(4),
    scoreCritical: z.number().int().min(1).max(20).default(6),
    /** A long prompt for the trigger score: tokens per GB of RAM (cM contexts: 0.3K-4.8K tokens/GB). */
    promptTokensPerGb: z.number().min(1).default(1000),
    /** Characters per token for prompt sizes read from EXO's tasks (a conservative 3). */
    charsPerToken: z.number().min(1).max(10).default(3),
    hysteresisRatio: z.number().min(0).max(0.5).default(0.05),
    hysteresisPercent: z.number().min(0).max(50).default(5),
    minDwellSeconds: z.number().min(0).max(3600).default(30),
  })
  .strict();

export type RiskThresholds = z.infer<typeof RiskThresholdsSchema>;
export const DEFAULT_THRESHOLDS: RiskThresholds = RiskThresholdsSchema.parse({});
