import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface LoopDelay {
  /** perf_hooks' event-loop delay histogram: its maximum, in ms. */
  eldMaxMs: number;
  /** The longest a 10 ms timer fired late, in ms (the same thing measured by hand). */
  timerLateMaxMs: number;
  /**
   * The most CPU time the main thread spent between two firings of that timer, in ms: how long code held
   * the loop, without the time the process merely waited for a core (on a loaded machine the two delays
   * above include it).
   */
  cpuHeldMaxMs: number;
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

/** Measures how long the event loop is held from now until `stop()`. */
export function watchLoopDelay(): { stop(): LoopDelay } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let late = 0;
  let held = 0;
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    late = Math.max(late, now - last - 10);
    last = now;
    held = Math.max(held, cpuMs(process.threadCpuUsage(lastCpu)));
    lastCpu = process.threadCpuUsage();
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      h.disable();
      return { eldMaxMs: h.max / 1e6, timerLateMaxMs: late, cpuHeldMaxMs: held };
    },
  };
}
