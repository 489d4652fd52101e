import { z } from 'zod/v3';

/**
 * Points each IOGPU trigger adds to the score. Calibrated on the scenario corpus (test/scenarios,
 * `exo-sentinel backtest`); evidence in knowledge/panics.md §7-9 and the README's calibration table.
 */
export const TriggerWeightsSchema = z
  .object({
    /**
     * EXO (or another MLX server) wired the Metal working set. The largest multiplier: the mlx#3186 rig
     * panicked 3/3 with the wired limit and 0/10 over 4.2 h without it (same concurrency and churn).
     */
    wiredLimit: z.number().int().min(0).max(10).default(2),
    /**
     * Two or more requests in flight: two streams panicked in 102-108 s (mlx#3186), streams admitted
     * mid-batch (mlx-lm#1666), two concurrent agents (omlx#557); the sequential replay ran 111 min clean.
     * With the wired limit this alone reaches high (2 + 2).
     */
    concurrency: z.number().int().min(0).max(10).default(2),
    /**
     * KV-cache evictions or model loads/unloads in the last 2 min (buffer churn). Only 1: the mlx#3186
     * sequential replay had the same eviction churn and ran 111 min without a panic; churn multiplies
     * concurrency, it is not a trigger alone.
     */
    churn: z.number().int().min(0).max(10).default(1),
    /** A prompt above `promptTokensPerGb`: raises the volume, not sufficient (knowledge/panics.md §7, medium). */
    longPrompt: z.number().int().min(0).max(10).default(1),
    /**
     * A wake from sleep within `wakeWindowSeconds` while GPU memory is held (the wired limit active, or
     * most memory wired): 2 of 3 panics came right after a wake in omlx#978 (weak, n = 1), so with the
     * wired limit a wake alone reaches high and new requests wait out the window.
     */
    wake: z.number().int().min(0).max(10).default(2),
    /** An IOGPU panic on this machine in the last 72 h: the strongest predictor (omlx#435 4 in 1 h, mlx#3346 9 in 6 days). */
    recentPanic: z.number().int().min(0).max(10).default(3),
    /**
     * The GPU's recovery counter went up within `gpuRecoveryWindowSeconds` (IOAccelerator
     * PerformanceStatistics `recoveryCount`: the driver reset a hung GPU). A recovery is the GPU already
     * failing: GPU hangs precede the watchdog panics (exo#1939; mlx#3267 display-on hang → panic in ~11 min;
     * EXO's `RunnerMetalGpuTimeout` runner diagnostic), and a reset tears down and re-creates the GPU's
     * memory mappings — the prepare/complete bookkeeping the completeMemory assertion checks — while MLX
     * holds its buffers wired. No public report ties an increment to a completeMemory panic, so it is
     * weighted to reach elevated alone (3 = scoreElevated) and high with the wired limit active
     * (2 + 3 = 5 ≥ scoreHigh 4), never critical without another trigger.
     */
    gpuRecovery: z.number().int().min(0).max(10).default(3),
  })
  .strict();

/**
 * Thresholds, each default with its evidence (knowledge/panics.md §8-9; README "Calibration").
 * Hysteresis: a level is left only when the value is past the threshold by the margin for `minDwellSeconds`.
 */
export const RiskThresholdsSchema = z
  .object({
    /**
     * GPU in use (and the runners' footprint, and wired memory) against the Metal ceiling
     * (recommendedMaxWorkingSetSize = max_rec). From MLX's allocator, not from a panic (no public number
     * ties GPU in use to the completeMemory panic, and the mlx#3186 rig ran near the ceiling both ways):
     * 0.95 is MLX's GC limit (min(0.95 × max_rec, block limit): past it MLX frees its cache, i.e. churn);
     * 1.0 is past the working set Apple recommends; 1.25 is about MLX's block limit min(1.5 × max_rec,
     * 0.95 × RAM) = 1.27 × max_rec when max_rec is 75 % of RAM, where allocations start to fail.
     */
    gpuElevated: z.number().min(0.1).max(1.5).default(0.95),
    gpuSoft: z.number().min(0.1).max(1.5).default(1),
    gpuHard: z.number().min(0.1).max(1.5).default(1.25),
    /** Wired memory of RAM: warn ≥ 80 %, ≥ 90 % (knowledge/panics.md §9; exo#1972's 93 % wired before its panic). */
    wiredElevated: z.number().min(0.1).max(1).default(0.8),
    wiredHigh: z.number().min(0.1).max(1).default(0.9),
    /**
     * Free memory (kern.memorystatus_level): exhaustion, the watchdog-panic class (MTPLX#456 ~11-12 MB free,
     * mlx-examples#517 swap 75.9/77 GB); oMLX's soft/hard 0.85/0.95 of its ceiling leave 10-15 % free.
     */
    freeElevated: z.number().min(0).max(100).default(20),
    freeHigh: z.number().min(0).max(100).default(10),
    freeCritical: z.number().min(0).max(100).default(5),
    /** Swap growth in 5 min (exhaustion in progress; heuristic). */
    swapGrowthBytes: z
      .number()
      .finite()
      .min(0)
      .default(1024 ** 3),
    /** Swap used of total: "swap > 80 %" in the OOM/watchdog gauge (knowledge/panics.md §9). */
    swapUsedHigh: z.number().min(0).max(1).default(0.8),
    /**
     * Score levels. Elevated at 3, not 2: the wired limit alone (every EXO node with a model loaded) stays
     * ok — serialising for it is a guard profile's choice, not a level; with one more trigger it is elevated.
     * High at 4: the wired limit with concurrency (mlx#3186, mlx-lm#1666, omlx#557), or with a wake (omlx#978).
     */
    scoreElevated: z.number().int().min(1).max(20).default(3),
    scoreHigh: z.number().int().min(1).max(20).default(4),
    scoreCritical: z.number().int().min(1).max(20).default(6),
    /**
     * Points the score must fall below a level's threshold to leave it (on top of the dwell). 0: the
     * score's inputs are already windowed (churn 2 min, wake 10 min) and the dwell holds the level; a margin
     * of 1 kept every node with the wired limit (+2) at elevated for good after any trigger (2 + 1 ≥ 3).
     */
    scoreHysteresis: z.number().int().min(0).max(5).default(0),
    weights: TriggerWeightsSchema.default(TriggerWeightsSchema.parse({})),
    /** A long prompt for the trigger score: tokens per GB of RAM (cM contexts: 0.3K-4.8K tokens/GB). */
    promptTokensPerGb: z.number().finite().min(1).default(1000),
    /**
     * How long a GPU recovery counts (the counter is read at the slow probe's cadence; 10 min like a wake:
     * a heuristic, no report gives how long after a GPU reset a panic came).
     */
    gpuRecoveryWindowSeconds: z.number().min(0).max(86_400).default(600),
    /** How long after a wake the wake trigger counts (omlx#978: panics "right after" a wake; 10 min). */
    wakeWindowSeconds: z.number().min(0).max(86_400).default(600),
    /** Characters per token for prompt sizes read from EXO's tasks (a conservative 3). */
    charsPerToken: z.number().min(1).max(10).default(3),
    hysteresisRatio: z.number().min(0).max(0.5).default(0.05),
    hysteresisPercent: z.number().min(0).max(50).default(5),
    minDwellSeconds: z.number().min(0).max(3600).default(30),
  })
  .strict();

export type RiskThresholds = z.infer<typeof RiskThresholdsSchema>;
export const DEFAULT_THRESHOLDS: RiskThresholds = RiskThresholdsSchema.parse({});
