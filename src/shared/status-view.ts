/**
 * `GET /api/v1/status` (and the app's `status` channel, which answers the same object): the daemon's live
 * view. The core builds it (annotated with this type), the dashboard, the tray and the CLI read it. Types
 * only; the core's own types for the parts are these or structurally the same.
 */
import type { GuardProfile } from './api-contracts.js';
import type { ReportRecord } from './reports.js';
import type { GuardMode, PostPanicHold, RiskState } from './risk.js';
import type { Sample } from './sample.js';

/** The machine, read once at start (`identity` meta key). */
export interface MachineIdentityView {
  platform: string;
  hostname: string;
  model: string | null;
  chip: string | null;
  memoryBytes: number | null;
  osVersion: string | null;
  osBuild: string | null;
  kernelVersion: string | null;
  kernelFamily: string | null;
  iogpuFamilyVersion: string | null;
}

export interface ExoShardView {
  kind: 'pipeline' | 'tensor' | 'cfg';
  runnerId: string;
  nodeId: string | null;
  startLayer: number;
  endLayer: number;
  nLayers: number;
  worldSize: number;
  deviceRank: number | null;
}

export interface ExoInstanceView {
  instanceId: string;
  kind: string;
  modelId: string | null;
  shards: ExoShardView[];
}

export interface ExoRunnerView {
  runnerId: string;
  /** EXO's status name: RunnerRunning, RunnerFailed, … */
  status: string;
  /** EXO's own error text for a failed runner. */
  errorMessage: string | null;
  diagnostics: string[];
  layersLoaded: number | null;
  totalLayers: number | null;
}

export interface ExoTaskView {
  taskId: string;
  kind: string;
  status: string;
  instanceId: string | null;
  commandId: string | null;
  model: string | null;
  maxOutputTokens: number | null;
  /** Σ length of the input message contents (the text itself is never kept). */
  inputChars: number;
  stream: boolean | null;
}

/** A failure state EXO is in: a failed runner, or an instance whose runners are gone. */
export type ExoFailureView =
  | { kind: 'runner-failed'; runnerId: string; message: string; diagnostics: string[]; signal: number | null }
  | { kind: 'runners-missing'; instanceId: string; modelId: string | null; missing: string[] };

export interface ExoNodeMemoryView {
  ramTotal: number | null;
  ramAvailable: number | null;
  swapTotal: number | null;
  swapAvailable: number | null;
}

export interface ExoNodeIdentityView {
  modelId: string | null;
  chipId: string | null;
  friendlyName: string | null;
  osVersion: string | null;
  osBuildVersion: string | null;
}

/** EXO as the daemon last polled it. */
export interface ExoView {
  url: string;
  reachable: boolean;
  /** Why not, when not reachable: down, timeout, HTTP error or garbage. */
  error: string | null;
  nodeId: string | null;
  checkedAt: number | null;
  lastReachableAt: number | null;
  /** Tasks not yet finished: the in-flight concurrency. */
  inFlight: number;
  instances: ExoInstanceView[];
  runners: ExoRunnerView[];
  tasks: ExoTaskView[];
  nodeMemory: Record<string, ExoNodeMemoryView>;
  nodeIdentities: Record<string, ExoNodeIdentityView>;
  failures: ExoFailureView[];
}

/** Who chose the guard's mode: a hand pin, the guard profile, the post-panic hold, the sleep/wake hold, the level. */
export type ModeSource = 'pin' | 'profile' | 'hold' | 'wake-hold' | 'level';

/** The sleep/wake hold as the guard sees it: why, and when it ends (null while the machine sleeps). */
export interface WakeHoldView {
  reason: string;
  until: number | null;
}

/** The sleep/wake hold as persisted, with its reason (absent when no hold is active). */
export interface WakeHoldStatusView extends WakeHoldView {
  since: number;
  wokeAt: number | null;
  via: 'power-event' | 'clock-gap';
}

/** The admission guard's address and load (null in the status when the guard is not running). */
export interface GuardAddressView {
  host: string;
  port: number;
  /** EXO's API the guard forwards to. */
  upstream: string;
}

export interface GuardStatusView extends GuardAddressView {
  inFlight: number;
  queued: number;
  mode: GuardMode;
  modeSource: ModeSource;
}

export interface DaemonInfoView {
  pid: number;
  version: string;
  startedAt: number;
  ticks: number;
  dataDir: string;
  platform: string;
}

/** Which readers the probe uses (`status --json`, `doctor --probes`). */
export interface ProbeDescription {
  backend: 'native' | 'command' | 'procfs';
  native: { loaded: boolean; version: string | null; error: string | null };
  /** Where each signal group is read from (e.g. `native:host_statistics64`, `command:vm_stat`). */
  sources: {
    memory: string;
    gpu: string;
    processes: string;
    processStats: string;
    pressureEvents: string;
  };
}

/** Panic counts (all time and the last 72 h, by kind), the latest one, and reports present but unreadable. */
export interface PanicSummary {
  total: number;
  last72h: number;
  byKind: Record<string, number>;
  byKind72h: Record<string, number>;
  latest: Pick<
    ReportRecord,
    'id' | 'kind' | 'panicTime' | 'mtime' | 'pid' | 'processName' | 'attribution'
  > | null;
  unreadable: Array<Pick<ReportRecord, 'id' | 'name' | 'mtime' | 'problem'>>;
}

export type StorageState = 'ok' | 'failing';

/** The timeline's write health. */
export interface StorageStatus {
  state: StorageState;
  /** E.g. "no space left on device at /path/timeline.db"; null when writes succeed. */
  message: string | null;
  path: string;
  /** Ticks held in memory, waiting to be written. */
  buffered: number;
  /** Ticks dropped (oldest first) because the buffer was full. */
  dropped: number;
  /** When writes started failing (epoch ms); null when ok. */
  since: number | null;
  /** Other storage problems that do not stop the timeline (the log file, the pidfile). */
  notes: string[];
}

export type ReloadTrigger = 'file' | 'SIGHUP' | 'api' | 'app';

/** What one reload did: keys only, never values (a value may be a token). */
export type ReloadOutcome =
  | {
      ok: true;
      trigger: ReloadTrigger;
      at: number;
      changed: string[];
      applied: string[];
      restartRequired: string[];
    }
  | { ok: false; trigger: ReloadTrigger; at: number; errors: string[] };

/** The configuration reloads' state. */
export interface ConfigReloadState {
  path: string;
  /** When the configuration in use was read (start or the last good reload). */
  loadedAt: number;
  reloads: number;
  /** Keys changed in the file that the running daemon takes only at its next start. */
  restartRequired: string[];
  /** The last reload refused (the previous configuration stayed); null once a later one succeeds. */
  error: { at: number; trigger: ReloadTrigger; errors: string[] } | null;
  last: ReloadOutcome | null;
}

/** `GET /api/v1/status`. */
export interface StatusView {
  time: number;
  identity: MachineIdentityView | null;
  sample: Sample | null;
  risk: RiskState;
  guardMode: GuardMode;
  /** A mode pinned by hand; null when the level (or the profile) chooses. */
  guardOverride: GuardMode | null;
  /** The guard profile in effect. */
  guardProfile: GuardProfile;
  guardModeSource: ModeSource;
  wakeHold: WakeHoldStatusView | null;
  hold: PostPanicHold | null;
  exo: ExoView;
  guard: GuardStatusView | null;
  daemon: DaemonInfoView;
  probes: ProbeDescription | null;
  panics: PanicSummary;
  storage: StorageStatus;
  /** The configuration reloads; null when the shell did not ask for reloads. */
  config: ConfigReloadState | null;
}
