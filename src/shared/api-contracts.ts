/**
 * What the daemon's API (and the app's IPC, which answers the same) returns to a reader: the dashboard
 * reads these, never untyped keys. Types only; the core builds the values.
 */
import type { TimelineEvent } from './events.js';
import type { ReportRecord } from './reports.js';
import type { GuardMode, PostPanicHold, RiskLevel, RiskReason } from './risk.js';
import type { Sample } from './sample.js';

/** How the guard reads the evidence: protect, balanced (the level alone), observe (record only). */
export const GUARD_PROFILES = ['protect', 'balanced', 'observe'] as const;
export type GuardProfile = (typeof GUARD_PROFILES)[number];

export type {
  ConfigReloadState,
  DaemonInfoView,
  ExoFailureView,
  ExoInstanceView,
  ExoRunnerView,
  ExoShardView,
  ExoTaskView,
  ExoView,
  GuardAddressView,
  GuardStatusView,
  MachineIdentityView,
  ModeSource,
  PanicSummary,
  ProbeDescription,
  ReloadOutcome,
  ReloadTrigger,
  StatusView,
  StorageState,
  StorageStatus,
  WakeHoldStatusView,
  WakeHoldView,
} from './status-view.js';

/** One minute of the per-minute roll-up; `values` keyed by the store's column names. */
export interface MinuteRowView {
  time: number;
  count: number;
  values: Partial<
    Record<
      'mem_total' | 'mem_usable' | 'mem_wired' | 'free_percent' | 'gpu_in_use' | 'gpu_ceiling' | string,
      { min: number | null; avg: number | null; max: number | null }
    >
  >;
  /** The highest risk level of the minute (0 ok … 3 critical). */
  riskLevelMax: number | null;
}

/**
 * Ranges up to 6 h read the 1 s samples; longer ranges read the per-minute roll-ups. One limit for the API,
 * the CLI's `timeline` and the dashboard's range picker.
 */
export const RAW_LIMIT_MS = 6 * 3_600_000;

/** `GET /api/v1/timeline`: raw samples (ranges up to 6 h) or per-minute roll-ups, one bounded page. */
export interface TimelinePageView {
  from: number;
  to: number;
  resolution: 'raw' | 'minute';
  samples?: Sample[];
  minutes?: MinuteRowView[];
  truncated: boolean;
  next: number | null;
}

/** A list page, newest first: `next` is the cursor for older items (null: none). */
export interface ListPage<T> {
  items: T[];
  truncated: boolean;
  next: number | null;
}

export type EventView = TimelineEvent & { id: number };
export type ReportView = ReportRecord;

export interface ClusterRowView {
  host: string;
  reachable: boolean;
  error: string | null;
  level: RiskLevel | null;
  reasons: RiskReason[];
  memory: { total: number | null; freePercent: number | null; wired: number | null };
  gpu: { inUseBytes: number | null; ceilingBytes: number | null };
  panics72h: number | null;
  /** The node's address (null: this host) and how it became a row: this host, `cluster.peers`, or EXO's topology. */
  url: string | null;
  source: 'self' | 'configured' | 'exo-topology';
}

export interface ClusterView {
  rows: ClusterRowView[];
}

export interface AdvisoryView {
  platform: {
    verdict: string;
    summary: string;
    builds?: Array<{ macos: string; build: string; sources: string[] }>;
  };
  models: Array<{ model: string; kind: string; hardware: string; workload: string; source: string }>;
}

export interface ConfigView {
  /** The configuration with every secret masked (`••••` and the last four characters). */
  config: Record<string, unknown>;
  path: string;
}

/** A JSON Schema node, as much of it as the Settings form reads. */
export interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  format?: string;
  /** A secret: never served, shown as set or not set. */
  writeOnly?: boolean;
  'x-secret'?: boolean;
  /** Only the configuration file sets it (a program to run). */
  'x-file-only'?: boolean;
  /** A running daemon takes it only at its next start. */
  'x-restart-required'?: boolean;
}

/** A change to some keys of the stored configuration (PATCH /api/v1/config). */
export interface ConfigPatch {
  /** Dotted keys and their new values. */
  set?: Record<string, unknown>;
  /** Dotted keys removed from the file (their defaults apply again). */
  unset?: string[];
}

/** What a configuration write answered. */
export interface ConfigSaveResult {
  ok: boolean;
  /** Why it was refused, one line per problem, each naming its key (`config: "intervalSeconds" is …`). */
  errors: string[];
  /** Keys the running daemon took at once. */
  applied: string[];
  /** Keys saved that the running daemon takes only at its next start. */
  restartRequired: string[];
}

/** `PUT /api/v1/guard/mode`: the mode in force after the pin (null pin: the level chooses again). */
export interface GuardModeResult {
  guardMode: GuardMode;
  guardOverride: GuardMode | null;
}

/** `GET /api/v1/guard/profile`: the profile in effect (chosen by hand, else configured). */
export interface GuardProfileView {
  profile: GuardProfile;
  configured: GuardProfile;
  profiles: readonly GuardProfile[];
}

/** `PUT /api/v1/guard/profile`. */
export interface GuardProfileChoice {
  profile: GuardProfile;
  configured: GuardProfile;
  changed: boolean;
  guardMode: GuardMode;
}

/** `POST /api/v1/ack`: the post-panic hold that ended, null when none was active. */
export interface AckResult {
  ended: PostPanicHold | null;
}

/** One directory of `POST /api/v1/panics/scan`. */
export interface PanicScanDirView {
  dir: string;
  names: readonly string[];
  files: number;
  /** The reports this scan added to the ledger (each report is added once, ever). */
  added: ReportRecord[];
  error: string | null;
  /** Present only when the scan reached a limit: what it left for the next scan. */
  limited?: PanicScanLimited;
}

/** A scan's limits reached (an outsider may fill a report directory: one scan takes in a bounded part). */
export interface PanicScanLimited {
  /** Report names not looked at (the read budget was spent): the next scan goes on from there. */
  deferred: number;
  /** Report names past the listing cap, not looked at. */
  unlisted: number;
  /** Report files read per directory per scan, at most. */
  maxReads: number;
  /** Report names listed per directory, at most. */
  maxNames: number;
}

/** `POST /api/v1/panics/scan`: `found` report files seen, `new` of them added now. */
export interface PanicScanView {
  found: number;
  new: number;
  results: PanicScanDirView[];
}
