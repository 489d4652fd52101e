import type { PostPanicHold } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import type { InFlightEstimate } from '../exo/in-flight-kv.js';
import type { RiskInputs } from './risk-signals.js';

const CHURN_WINDOW_MS = 120_000;
const SWAP_WINDOW_MS = 300_000;

/** Remembers the recent history the judgement needs: evictions, model changes, wakes, swap five minutes ago. */
export class RiskContext {
  private evictions: number[] = [];
  private modelChanges: number[] = [];
  private swap: Array<{ time: number; used: number }> = [];
  private lastWake: number | null = null;
  private wiredLimit = false;

  /** Feeds a timeline event (from EXO's log, EXO's state or the shell's power events). */
  observe(kind: string, time: number): void {
    if (kind === 'exo.kv-evicted') this.evictions.push(time);
    else if (kind === 'exo.instance-added' || kind === 'exo.instance-removed' || kind === 'exo.model-load')
      this.modelChanges.push(time);
    else if (kind === 'exo.wired-limit-set') this.wiredLimit = true;
    else if (kind === 'exo.restarted' || kind === 'exo.node-started' || kind === 'exo.log-rotated')
      this.wiredLimit = false;
    else if (kind === 'power.wake') this.lastWake = time;
  }

  get wiredLimitActive(): boolean {
    return this.wiredLimit;
  }

  inputs(
    now: number,
    sample: Sample,
    exo: ExoSnapshot,
    kv: InFlightEstimate,
    iogpuPanics72h: number,
    hold: PostPanicHold | null,
  ): RiskInputs {
    this.evictions = this.evictions.filter((t) => now - t <= CHURN_WINDOW_MS);
    this.modelChanges = this.modelChanges.filter((t) => now - t <= CHURN_WINDOW_MS);
    if (sample.memory.swapUsed !== null) this.swap.push({ time: now, used: sample.memory.swapUsed });
    while (this.swap.length > 1 && now - this.swap[1]!.time >= SWAP_WINDOW_MS) this.swap.shift();
    const old = this.swap[0];
    const ceiling = sample.gpu.ceilingBytes;
    const inUse = sample.gpu.inUseBytes;
    return {
      now,
      sample,
      exo: {
        reachable: exo.reachable,
        inFlight: exo.reachable ? exo.inFlight : 0,
        largestPromptTokens: kv.largestPromptTokens,
        wiredLimitActive: this.wiredLimit && exo.instances.length > 0,
      },
      recent: {
        evictions: this.evictions.length,
        modelChanges: this.modelChanges.length,
        lastWake: this.lastWake,
        swapUsed5mAgo: old && now - old.time >= SWAP_WINDOW_MS - 1000 ? old.used : null,
      },
      iogpuPanics72h,
      hold,
      kv: {
        inFlightBytes: kv.kvBytes > 0 ? kv.kvBytes : null,
        headroomBytes: ceiling !== null && inUse !== null ? Math.max(0, ceiling - inUse) : null,
      },
    };
  }
}
