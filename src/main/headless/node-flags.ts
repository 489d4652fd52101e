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
 *   optimisers, 82.7 MiB without, CPU 0.80 → 0.50 % of a core (noise-level). `--lite-mode` saves 3.6 MiB
 *   more (79.1) but also drops Sparkplug: the guard then served small requests at 0.06x of direct against
 *   0.2-0.3x, so the guard would pay for it; without the optimisers it stays at 0.22x (bench/guard.bench.ts).
 *
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
