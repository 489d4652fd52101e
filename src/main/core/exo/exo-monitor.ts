import type { ExoApiClient } from './exo-api-client.js';
import {
  detectFailures,
  type ExoInstance,
  type ExoNodeIdentity,
  type ExoNodeMemory,
  type ExoRunner,
  type ExoTask,
  type FailureState,
  parseInstances,
  parseNodeIdentities,
  parseNodeMemory,
  parseRunners,
  parseTasks,
} from './exo-state-parser.js';
import { StatePacing } from './state-pacing.js';

/** What the watchdog knows of EXO right now. Plain data: it goes into `status --json` and the API. */
export interface ExoSnapshot {
  url: string;
  reachable: boolean;
  /** Why not, when not: down, timeout, HTTP error or garbage. */
  error: string | null;
  nodeId: string | null;
  checkedAt: number | null;
  lastReachableAt: number | null;
  instances: ExoInstance[];
  runners: ExoRunner[];
  tasks: ExoTask[];
  /** Tasks not yet finished: EXO deletes finished ones, so this is the in-flight concurrency. */
  inFlight: number;
  nodeMemory: Record<string, ExoNodeMemory>;
  nodeIdentities: Record<string, ExoNodeIdentity>;
  failures: FailureState[];
  /** State keys read less often than every poll because their answers are large: key → seconds apart. */
  paced?: Record<string, number>;
}

export interface MonitorEvent {
  kind: string;
  severity: 'debug' | 'info' | 'warning' | 'error' | 'critical';
  message: string;
  data?: Record<string, unknown>;
}

const ACTIVE_TASK = new Set(['Pending', 'Running']);

export function emptySnapshot(url: string): ExoSnapshot {
  return {
    url,
    reachable: false,
    error: 'not checked yet',
    nodeId: null,
    checkedAt: null,
    lastReachableAt: null,
    instances: [],
    runners: [],
    tasks: [],
    inFlight: 0,
    nodeMemory: {},
    nodeIdentities: {},
    failures: [],
  };
}

const failureKey = (f: FailureState): string =>
  f.kind === 'runner-failed' ? `failed:${f.runnerId}` : `missing:${f.instanceId}:${f.missing.join(',')}`;

/**
 * Polls EXO (node_id + five `/state` sub-paths, at most once per call, calls ≤ 1 Hz) and reports what
 * changed as events: reachable/unreachable, restarts (a new node id), instances added/removed, runner
 * status changes and failure states.
 */
export class ExoMonitor {
  private snap: ExoSnapshot;
  private inFlightPoll: Promise<ExoSnapshot> | null = null;

  constructor(
    private readonly client: ExoApiClient,
    private readonly now: () => number = Date.now,
  ) {
    this.snap = emptySnapshot(client.baseUrl);
  }

  get snapshot(): ExoSnapshot {
    return this.snap;
  }

  /** Starts a poll unless one is running; resolves with its events. */
  async poll(): Promise<MonitorEvent[]> {
    if (this.inFlightPoll) return [];
    const before = this.snap;
    this.inFlightPoll = this.fetch();
    try {
      this.snap = await this.inFlightPoll;
    } finally {
      this.inFlightPoll = null;
    }
    return diffSnapshots(before, this.snap);
  }

  /** The state read per key: parsed, and when it may be asked again (state-pacing.ts). */
  private readonly state = new StatePacing(() => this.now());

  private async fetch(): Promise<ExoSnapshot> {
    const at = this.now();
    const id = await this.client.nodeId();
    if (!id.ok) {
      this.state.forget();
      return { ...this.snap, reachable: false, error: id.error, checkedAt: at, tasks: [], inFlight: 0 };
    }
    // A new node id is a new EXO process: what was kept of the old one's state (a paced key) is not its.
    if (this.snap.nodeId !== null && id.value !== this.snap.nodeId) this.state.forget();
    // A large answer that failed (garbage, an error page) is not fetched again every poll either.
    const waiting = this.state.failureWaiting();
    if (waiting)
      return {
        ...this.snap,
        reachable: false,
        error: waiting,
        nodeId: id.value,
        checkedAt: at,
        tasks: [],
        inFlight: 0,
      };
    // Keys whose last answer was small are asked together (a slow EXO costs one round trip, not five);
    // the others one at a time, so at most one large answer (≤ 16 MiB) and its parse are held at once.
    const due = STATE_KEYS.filter((key) => this.state.due(key));
    const together = due.filter((key) => this.state.small(key));
    const alone = due.filter((key) => !this.state.small(key));
    const answers = await Promise.all(
      together.map(async (key) => [key, await this.client.state(key)] as const),
    );
    for (const key of alone) {
      if (answers.some(([, r]) => !r.ok)) break;
      answers.push([key, await this.client.state(key)] as const);
    }
    for (const [key, r] of answers) {
      if (!r.ok) {
        this.state.failed(key, r.error, r.bytes ?? 0);
        return {
          ...this.snap,
          reachable: false,
          error: r.error,
          nodeId: id.value,
          checkedAt: at,
          tasks: [],
          inFlight: 0,
        };
      }
      this.state.read(key, PARSERS[key](r.value), r.bytes ?? 0);
    }
    const instances = this.state.value('instances', [] as ExoInstance[]);
    const runners = this.state.value('runners', [] as ExoRunner[]);
    const taskList = this.state.value('tasks', [] as ExoTask[]);
    return {
      url: this.client.baseUrl,
      reachable: true,
      error: null,
      nodeId: id.value,
      checkedAt: at,
      lastReachableAt: at,
      instances,
      runners,
      tasks: taskList,
      inFlight: taskList.filter((t) => ACTIVE_TASK.has(t.status)).length,
      nodeMemory: this.state.value('nodeMemory', {} as Record<string, ExoNodeMemory>),
      nodeIdentities: this.state.value('nodeIdentities', {} as Record<string, ExoNodeIdentity>),
      failures: detectFailures(instances, runners),
      paced: this.state.paced(),
    };
  }
}

/** The `/state` keys the monitor reads, and what each becomes. */
const STATE_KEYS = ['nodeMemory', 'nodeIdentities', 'instances', 'runners', 'tasks'] as const;
const PARSERS: Record<(typeof STATE_KEYS)[number], (v: unknown) => unknown> = {
  nodeMemory: parseNodeMemory,
  nodeIdentities: parseNodeIdentities,
  instances: parseInstances,
  runners: parseRunners,
  tasks: parseTasks,
};

export function diffSnapshots(a: ExoSnapshot, b: ExoSnapshot): MonitorEvent[] {
  const out: MonitorEvent[] = [];
  if (b.reachable && !a.reachable)
    out.push({
      kind: 'exo.reachable',
      severity: 'info',
      message: `EXO answers at ${b.url} (node ${b.nodeId})`,
      data: { nodeId: b.nodeId },
    });
  if (!b.reachable && (a.reachable || a.checkedAt === null)) {
    out.push({
      kind: 'exo.unreachable',
      severity: a.reachable ? 'warning' : 'info',
      message: `EXO does not answer at ${b.url}: ${b.error}`,
      data: { error: b.error },
    });
  }
  if (a.nodeId && b.nodeId && a.nodeId !== b.nodeId) {
    out.push({
      kind: 'exo.restarted',
      severity: 'warning',
      message: `EXO restarted: node id ${a.nodeId} → ${b.nodeId}`,
      data: { previous: a.nodeId, nodeId: b.nodeId },
    });
  }
  if (!b.reachable) return out;
  out.push(...pacingEvents(a.paced ?? {}, b.paced ?? {}));
  const before = new Map(a.instances.map((i) => [i.instanceId, i]));
  const after = new Map(b.instances.map((i) => [i.instanceId, i]));
  // On first contact the instances were placed before we looked: present, not a load we saw happen.
  const firstContact = a.checkedAt === null;
  for (const [id, i] of after) {
    if (before.has(id)) continue;
    out.push({
      kind: firstContact ? 'exo.instance-present' : 'exo.instance-added',
      severity: 'info',
      message: `instance ${id} of ${i.modelId} ${firstContact ? 'is placed' : 'placed'} (${i.kind}, ${i.shards.length} shard${i.shards.length === 1 ? '' : 's'})`,
      data: { instanceId: id, modelId: i.modelId, kind: i.kind },
    });
  }
  for (const [id, i] of before)
    if (!after.has(id) && a.reachable)
      out.push({
        kind: 'exo.instance-removed',
        severity: 'info',
        message: `instance ${id} of ${i.modelId} removed`,
        data: { instanceId: id, modelId: i.modelId },
      });
  const prevStatus = new Map(a.runners.map((r) => [r.runnerId, r.status]));
  for (const r of b.runners) {
    const p = prevStatus.get(r.runnerId);
    if (p === r.status) continue;
    if (r.status === 'RunnerFailed') continue; // reported as a failure below, with its message
    out.push({
      kind: 'exo.runner-status',
      severity: 'info',
      message: `runner ${r.runnerId}: ${p ?? 'new'} → ${r.status}${r.layersLoaded !== null ? ` (${r.layersLoaded}/${r.totalLayers} layers)` : ''}`,
      data: { runnerId: r.runnerId, from: p ?? null, to: r.status },
    });
  }
  const had = new Set(a.failures.map(failureKey));
  for (const f of b.failures) {
    if (had.has(failureKey(f))) continue;
    if (f.kind === 'runner-failed') {
      out.push({
        kind: 'exo.runner-failed',
        severity: 'error',
        message: `runner ${f.runnerId} failed: ${f.message}${f.diagnostics.length ? ` (${f.diagnostics.join('; ')})` : ''}`,
        data: { ...f },
      });
    } else {
      out.push({
        kind: 'exo.runners-missing',
        severity: 'error',
        message: `instance ${f.instanceId} (${f.modelId}) has no runner for ${f.missing.length} shard(s): requests to it will hang`,
        data: { ...f },
      });
    }
  }
  return out;
}

/** A key starting or ending to be read less often (its answers grew past, or fell back under, the free size). */
function pacingEvents(a: Record<string, number>, b: Record<string, number>): MonitorEvent[] {
  const out: MonitorEvent[] = [];
  for (const [key, seconds] of Object.entries(b))
    if (!(key in a))
      out.push({
        kind: 'exo.state-paced',
        severity: 'info',
        message: `EXO's /state/${key} answers are large: read every ${seconds} s instead of every poll`,
        data: { key, seconds },
      });
  for (const key of Object.keys(a))
    if (!(key in b))
      out.push({
        kind: 'exo.state-paced',
        severity: 'info',
        message: `EXO's /state/${key} is read every poll again`,
        data: { key, seconds: 0 },
      });
  return out;
}
