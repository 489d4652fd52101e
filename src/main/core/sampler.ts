import type { ProcessReading, Sample } from '../../shared/sample.js';
import { type ClassifierOptions, classifyProcesses, runnerKey } from './exo/process-classifier.js';
import { type ProcessChange, ProcessTracker } from './exo/process-tracker.js';
import { WatchAdmission } from './exo/watch-admission.js';
import { limitWatched } from './exo/watch-limit.js';
import type { PlatformProbe, ProcessEntry } from './probes/probe-types.js';

export interface TickResult {
  sample: Sample;
  changes: ProcessChange[];
  /** The watched processes' table rows, for the pid map. */
  watched: Array<{ entry: ProcessEntry; role: ProcessReading['role'] }>;
  /** Processes that matched but were left out: more than MAX_WATCHED did (watch-limit.ts). */
  leftOut: number;
  /** New processes that matched but wait for a later tick: more started than are taken a minute (watch-admission.ts). */
  deferred: number;
  /** Wall time of the probe work, ms. */
  durationMs: number;
}

/** Takes one reading: memory, GPU, the process table → EXO's processes and their stats. */
export class Sampler {
  private readonly tracker = new ProcessTracker();
  /**
   * pid:start of the runners of the last reading: a runner whose EXO main died keeps its Metal memory, and
   * keeps its role while the same process (same pid and start time) lives.
   */
  private runners: ReadonlySet<string> = new Set();
  private admission: WatchAdmission | null = null;

  constructor(
    private readonly probe: PlatformProbe,
    private readonly classifierOptions: () => ClassifierOptions,
  ) {}

  async tick(time: number, slow: boolean): Promise<TickResult> {
    const started = performance.now();
    const [memory, gpu, entries] = await Promise.all([
      this.probe.readMemory(slow),
      this.probe.readGpu(slow),
      this.probe.listProcesses(slow),
    ]);
    const roles = classifyProcesses(entries, { ...this.classifierOptions(), knownRunners: this.runners });
    const matched = entries
      .filter((e) => roles.has(e.pid))
      .map((entry) => ({ entry, role: roles.get(entry.pid)! }));
    const { kept, leftOut } = limitWatched(matched, (e) => this.tracker.knows(e));
    // A token only for a process that would be watched: one the limit leaves out takes none.
    this.admission ??= new WatchAdmission(time);
    const { admitted: watched, deferred } = this.admission.admit(kept, (e) => this.tracker.knows(e), time);
    // Every runner classified, watched or not yet (left for a later tick): an orphan keeps its role either way.
    this.runners = new Set(
      matched.flatMap((w) => {
        const k = w.role === 'exo-runner' ? runnerKey(w.entry) : null;
        return k === null ? [] : [k];
      }),
    );
    const stats = await this.probe.readProcessStats(
      watched.map((w) => w.entry),
      slow,
    );
    const processes: ProcessReading[] = watched.map(({ entry, role }) => {
      const s = stats.get(entry.pid);
      return {
        pid: entry.pid,
        ppid: entry.ppid,
        role,
        startTime: entry.startTime,
        rss: s?.rss ?? null,
        physFootprint: s?.physFootprint ?? null,
        cpuPercent: s?.cpuPercent ?? null,
        threads: s?.threads ?? null,
      };
    });
    const changes = this.tracker.update(watched, matched);
    const withCeiling = this.probe.ceiling ? this.probe.ceiling.resolve(gpu, memory, watched) : gpu;
    return {
      sample: { time, memory, gpu: withCeiling, processes, exo: { reachable: null, inFlight: null } },
      changes,
      watched,
      leftOut,
      deferred,
      durationMs: performance.now() - started,
    };
  }
}
