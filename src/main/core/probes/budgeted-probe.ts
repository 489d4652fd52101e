import type { GpuReading, MemoryReading } from '../../../shared/sample.js';
import type {
  MachineIdentity,
  PlatformProbe,
  ProbeDescription,
  ProbeReporter,
  ProcessEntry,
  ProcessStats,
} from './probe-types.js';

/** Milliseconds each reader may take before its result is no longer waited for. */
export interface ReaderBudgets {
  memoryMs: number;
  gpuMs: number;
  processesMs: number;
  statsMs: number;
}

export const DEFAULT_BUDGETS: ReaderBudgets = {
  memoryMs: 800,
  gpuMs: 6_000,
  processesMs: 6_000,
  statsMs: 8_000,
};

/**
 * One signal group's reader: runs at most one read at a time, keeps the last good reading, and never makes a
 * caller wait past its budget. A read past its budget is abandoned (its late result is dropped, the last
 * reading stands) and reported once; the next read starts only when it has settled, so a hung command cannot
 * pile up more of itself.
 */
export class BudgetedReader<T> {
  private latest: T;
  private have = false;
  private inflight: Promise<void> | null = null;
  private startedAt = 0;
  private run = 0;
  private abandoned = -1;
  /** Reads that overran their budget, for status and tests. */
  overruns = 0;

  constructor(
    readonly name: string,
    private readonly budgetMs: number,
    initial: T,
    private readonly reporter: ProbeReporter,
    private readonly now: () => number = Date.now,
  ) {
    this.latest = initial;
  }

  private start(read: () => Promise<T>): void {
    const run = ++this.run;
    this.startedAt = this.now();
    this.inflight = read().then(
      (value) => {
        if (this.abandoned === run) return;
        this.latest = value;
        this.have = true;
      },
      (e: unknown) => this.reporter.failed(this.name, (e as Error).message ?? String(e)),
    );
    void this.inflight.finally(() => {
      if (this.run === run) this.inflight = null;
    });
  }

  private overrun(): void {
    if (this.abandoned === this.run) return;
    this.abandoned = this.run;
    this.overruns++;
    this.reporter.failed(
      this.name,
      `over its ${this.budgetMs} ms budget: abandoned, the last reading stands`,
    );
  }

  private async within(remainingMs: number): Promise<void> {
    const pending = this.inflight;
    if (!pending) return;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      pending.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), Math.max(0, remainingMs));
      }),
    ]);
    clearTimeout(timer);
    if (late) this.overrun();
  }

  /** Waits for a fresh reading, at most the budget; else the last one. */
  async fresh(read: () => Promise<T>): Promise<T> {
    if (!this.inflight) this.start(read);
    await this.within(this.budgetMs - (this.now() - this.startedAt));
    return this.latest;
  }

  /**
   * Starts a read in the background when asked (and none is running) and returns the last reading at once;
   * only before the very first reading does it wait, at most the budget.
   */
  async background(refresh: boolean, read: () => Promise<T>): Promise<T> {
    if ((refresh || !this.have) && !this.inflight) this.start(read);
    if (!this.have) await this.within(this.budgetMs - (this.now() - this.startedAt));
    else if (this.inflight && this.now() - this.startedAt > this.budgetMs) this.overrun();
    return this.latest;
  }
}

/**
 * The command readers (macOS without the addon) decoupled per signal group: the 1 s memory reading never waits
 * behind `ps`, `top`, `footprint`, `ioreg` or an MLX python — each of those runs on the slow cadence in the
 * background within its own budget, and the tick takes whatever each last gave.
 */
export class BudgetedProbe implements PlatformProbe {
  readonly platform: 'darwin' | 'linux';
  private readonly memory: BudgetedReader<MemoryReading>;
  private readonly gpu: BudgetedReader<GpuReading>;
  private readonly processes: BudgetedReader<ProcessEntry[]>;
  private readonly stats: BudgetedReader<Map<number, ProcessStats>>;

  constructor(
    private readonly inner: PlatformProbe,
    reporter: ProbeReporter,
    emptyMemory: MemoryReading,
    emptyGpu: GpuReading,
    budgets: ReaderBudgets = DEFAULT_BUDGETS,
    private readonly describeAs?: () => ProbeDescription,
    now: () => number = Date.now,
  ) {
    this.platform = inner.platform;
    this.memory = new BudgetedReader('reader.memory', budgets.memoryMs, emptyMemory, reporter, now);
    this.gpu = new BudgetedReader('reader.gpu', budgets.gpuMs, emptyGpu, reporter, now);
    this.processes = new BudgetedReader<ProcessEntry[]>(
      'reader.processes',
      budgets.processesMs,
      [],
      reporter,
      now,
    );
    this.stats = new BudgetedReader('reader.process-stats', budgets.statsMs, new Map(), reporter, now);
  }

  get spawnCount(): number {
    return this.inner.spawnCount;
  }

  /** Reads that overran their budget, per reader. */
  get overruns(): Record<string, number> {
    return Object.fromEntries(
      [this.memory, this.gpu, this.processes, this.stats].map((r) => [r.name, r.overruns]),
    );
  }

  readMemory(slow: boolean): Promise<MemoryReading> {
    return this.memory.fresh(() => this.inner.readMemory(slow));
  }

  readGpu(slow: boolean): Promise<GpuReading> {
    return this.gpu.background(slow, () => this.inner.readGpu(true));
  }

  listProcesses(slow: boolean): Promise<ProcessEntry[]> {
    return this.processes.background(slow, () => this.inner.listProcesses(true));
  }

  readProcessStats(entries: ProcessEntry[], slow: boolean): Promise<Map<number, ProcessStats>> {
    return this.stats.background(slow, () => this.inner.readProcessStats(entries, true));
  }

  identity(): Promise<MachineIdentity> {
    return this.inner.identity();
  }

  describe(): ProbeDescription {
    return (
      this.describeAs?.() ??
      this.inner.describe?.() ?? {
        backend: 'command',
        native: { loaded: false, version: null, error: null },
        sources: {
          memory: 'command',
          gpu: 'command',
          processes: 'command',
          processStats: 'command',
          pressureEvents: 'none',
        },
      }
    );
  }
}
