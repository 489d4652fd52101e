import type { PostPanicHold } from '../../../shared/risk.js';
import type { Sample } from '../../../shared/sample.js';
import type { ExoSnapshot } from '../exo/exo-monitor.js';
import type { InFlightEstimate } from '../exo/in-flight-kv.js';
import type { RiskInputs } from './risk-signals.js';

const CHURN_WINDOW_MS = 120_000;
const SWAP_WINDOW_MS = 300_000;
/** How long GPU recoveries are counted for the reason's text (the signal's own window is a threshold). */
const RECOVERY_MEMORY_MS = 3_600_000;

/** Remembers the recent history the judgement needs: evictions, model changes, wakes, swap five minutes ago. */
export class RiskContext {
  private evictions: number[] = [];
  private modelChanges: number[] = [];
  private swap: Array<{ time: number; used: number }> = [];
  private lastWake: number | null = null;
  private wiredLimit = false;
  /** The GPU's recovery counter at the last reading that had one, and when it last went up. */
  private recoveryCount: number | null = null;
  private lastRecovery: number | null = null;
  private recoveries: number[] = [];

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
    // A GPU recovery (hang and reset) shows as the counter going up between two readings; a lower value is
    // a reboot or a new GPU node, not a recovery. The first reading only sets the baseline.
    const rc = sample.gpu.recoveryCount ?? null;
    if (rc !== null) {
      if (this.recoveryCount !== null && rc > this.recoveryCount) {
        this.lastRecovery = now;
        for (let i = 0; i < Math.min(rc - this.recoveryCount, 100); i++) this.recoveries.push(now);
      }
      this.recoveryCount = rc;
    }
    this.recoveries = this.recoveries.filter((t) => now - t <= RECOVERY_MEMORY_MS);
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
        lastGpuRecovery: this.lastRecovery,
        gpuRecoveries1h: this.recoveries.length,
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
