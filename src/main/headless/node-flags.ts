/**
 * Node flags the daemon runs with (npm start, the login agent, the CLI's shebang).
 *
 * - `--max-semi-space-size=1`: V8's young generation grows to 16 MiB semi-spaces by default, and start-up
 *   (module loading, the first report scan) fills it: peak RSS 86 → 78 MiB (Node 20) at 2 MiB. At 1 MiB,
 *   Node 26, two daemons of each watching a fake EXO side by side for 60 s: peak RSS 71.1-71.2 → 68.7-68.8
 *   MiB, steady RSS (68.6-69.0) and CPU (0.42-0.45 % of a core) unchanged; the guard's bench the same
 *   (small requests 0.11x of direct either way, added TTFB p50 0.51-0.56 ms against 0.60).
 * - `--no-turbofan --no-maglev`: V8's optimising compilers off; the interpreter and its baseline compiler
 *   (Sparkplug) stay. The daemon is idle nearly all the time (about a millisecond of JavaScript per 1 s
 *   tick), so optimised code buys little while compiling it costs memory. Measured on Node 26 (Linux x64,
 *   2 cores, idle daemon, 20 s after an 8 s warm-up, one after the other): peak RSS 92.5 MiB with the
 *   optimisers, 82.7 MiB without, CPU 0.80 → 0.50 % of a core (noise-level).
 *   Sparkplug stays because the guard needs it under load. Measured without it (`--no-sparkplug`): idle peak
 *   RSS −0.8 to −1.0 MiB (64.4-64.7 → 63.6-63.7, two daemons of each side by side for 90 s) and the same idle
 *   CPU, but with 200 clients streaming through the guard at once (bench/guard-load.bench.ts, 30 s, the same
 *   day) the guard added 13.2 ms to the first byte at p50 instead of 4.6 and completed 5 % fewer streams.
 *   `--lite-mode` (no JIT at all) saves 2.4 MiB for 17 % more idle CPU and the guard's long streams at 0.74
 *   of direct, and `--optimize-for-size` 0.9-1.1 MiB for 13 % more idle CPU (36-38 → 42-43 clock ticks in
 *   90 s, two daemons of each side by side): not taken either.
 * - `--enable-experimental-regexp-engine`: lets configured process patterns run on V8's linear-time engine
 *   (`core/util/linear-regexp.ts`), which otherwise sets it at the first pattern through `node:v8`; given
 *   here, the daemon never loads that module and its profilers (peak RSS 69.7-70.3 → 69.5-69.7 MiB, three
 *   idle daemons each, one after the other).
 *
 * They have to be process flags: `v8.setFlagsFromString` after start-up does not shrink the heap's
 * reservations nor undo compiled code.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--no-turbofan',
  '--no-maglev',
  '--enable-experimental-regexp-engine',
];
