import type {
  AckResult,
  GuardModeResult,
  GuardProfileChoice,
  GuardProfileView,
  PanicScanView,
} from '../../../shared/api-contracts.js';
import type { ReportRecord } from '../../../shared/reports.js';
import type { GuardMode } from '../../../shared/risk.js';
import type { AuditStore } from '../actions/audit-store.js';
import type { GuardProfile } from '../actions/guard-profile.js';
import { acknowledgeHold } from '../actions/post-panic-hold.js';
import {
  type ActionsPage,
  actionsPage,
  type EventsPage,
  eventsPage,
  type ReportsPage,
  reportsPage,
  type TimelinePage,
  timelineJson,
  timelinePage,
} from '../api/bounded-queries.js';
import type { ClusterRow } from '../cluster/cluster-view.js';
import { configJsonSchema } from '../config/config-json-schema.js';
import { patchedConfig } from '../config/config-patch.js';
import type { ConfigReloadState, ReloadOutcome, ReloadTrigger } from '../config/config-reload.js';
import type { Config } from '../config/config-schema.js';
import { type ClientSaveResult, maskConfig, saveClientConfig } from '../config/config-update.js';
import { withFileLock } from '../config/config-writer.js';
import type { ScanResult } from '../panics/report-scan.js';
import { buildCrashReport } from '../report/report-builder.js';
import type { assessPlatform, modelEvidence } from '../risk/platform-advisory.js';
import type { ReportStore } from '../store/report-store.js';
import type { TimelineStore } from '../store/timeline-store.js';

/** What `/api/v1/status` returns: the daemon's live view (typed in src/shared/api-contracts.ts). */
export type ServiceStatus = import('../../../shared/status-view.js').StatusView;

export interface Advisory {
  platform: ReturnType<typeof assessPlatform>;
  models: ReturnType<typeof modelEvidence>;
}

/** The guard's controls, as the daemon's guard decision exposes them. */
export interface GuardControls {
  pin(mode: GuardMode | null, by: string): GuardModeResult;
  profile(): GuardProfileView;
  chooseProfile(profile: GuardProfile, by: string): GuardProfileChoice;
}

/** The parts of a running daemon the service answers from; the composition root passes them in. */
export interface ServiceParts {
  timeline: TimelineStore;
  reports: ReportStore;
  audit: AuditStore;
  now: () => number;
  status: () => ServiceStatus;
  /** The configuration in use (after reloads). */
  config: () => Config;
  /** The configuration file (asked each time: an old one may move to the platform's place). */
  configPath: () => string;
  /** The daemon's reloads; absent: a saved file applies at the next start. */
  configReload?: {
    state(): ConfigReloadState | null;
    reload(trigger: ReloadTrigger): ReloadOutcome | null;
  };
  /** Absent: no guard decision to steer (a bare API in tests). */
  guard?: GuardControls;
  advisory?: () => Advisory;
  cluster?: () => Promise<{ rows: ClusterRow[] }>;
  /**
   * Scans the report directories now (the configured ones, or `dirs` with pasted copies too); the daemon's
   * events for new reports follow as with its own scans.
   */
  scan?: (dirs?: string[]) => ScanResult[] | Promise<ScanResult[]>;
}

export type PanicReportResult =
  | { ok: true; markdown: string }
  | { ok: false; reason: 'not-found' | 'not-a-panic'; message: string };

export type ConfigSaveResult =
  | {
      ok: true;
      saved: string;
      config: Config;
      /** Applied at once by a daemon that reloads. */
      reloaded: boolean;
      applied: string[];
      restartRequired: string[];
      reloadErrors?: string[];
    }
  | { ok: false; reason: 'refused' | 'needs-token' | 'invalid' | 'write-failed'; errors: string[] };

/** Raised when a feature the shell asks for is not part of this service (no guard, no scan). */
export class ServiceUnavailable extends Error {}

/**
 * One typed facade over a running daemon: what the HTTP API, the app's IPC and (through the API) the CLI
 * may read and change. Shells never reach the store, the report ledger, the audit or the risk internals;
 * every read here is a bounded page and every change is audited under the name of who asked (`by`).
 */
export class SentinelService {
  private scanning: Promise<PanicScanView> | null = null;

  constructor(private readonly parts: ServiceParts) {}

  status(): ServiceStatus {
    return this.parts.status();
  }

  /** One bounded page of the range (raw samples up to 6 h, else per-minute roll-ups). */
  timeline(q: {
    from: number;
    to: number;
    resolution?: 'raw' | 'minute' | 'auto' | undefined;
    limit?: number | undefined;
  }): Promise<TimelinePage> {
    return timelinePage(this.parts.timeline, q);
  }

  /** The same page as JSON text in pieces, for a streamed HTTP answer. */
  timelineJson(q: {
    from: number;
    to: number;
    resolution?: 'raw' | 'minute' | 'auto' | undefined;
    limit?: number | undefined;
  }): AsyncIterable<string> {
    return timelineJson(this.parts.timeline, q);
  }

  events(q: {
    from: number;
    to: number;
    kind?: string | undefined;
    before?: number | undefined;
    limit?: number | undefined;
  }): Promise<EventsPage> {
    return eventsPage(this.parts.timeline, q);
  }

  panics(q: { before?: number | undefined; limit?: number | undefined } = {}): ReportsPage {
    return reportsPage(this.parts.reports, q);
  }

  panic(id: number): ReportRecord | null {
    return this.parts.reports.get(id);
  }

  /** The crash report (Markdown) of an ingested kernel panic. */
  panicReport(id: number): PanicReportResult {
    const r = this.parts.reports.get(id);
    if (!r) return { ok: false, reason: 'not-found', message: `no report with id ${id}` };
    if (r.category !== 'panic' || r.status !== 'ingested')
      return { ok: false, reason: 'not-a-panic', message: `report ${id} is not a readable kernel panic` };
    return {
      ok: true,
      markdown: buildCrashReport(r, this.parts.timeline, this.parts.reports, this.parts.now()),
    };
  }

  /**
   * Scans the report directories now. One scan at a time: a call while one runs gets that scan's answer
   * (scans of other directories wait for it, then run).
   */
  async scanPanics(dirs?: string[]): Promise<PanicScanView> {
    const scan = this.parts.scan;
    if (!scan) throw new ServiceUnavailable('this daemon does not scan report directories');
    while (this.scanning) {
      const running = this.scanning;
      if (!dirs) return running;
      await running.catch(() => undefined);
    }
    const run = (async (): Promise<PanicScanView> => {
      // Off the caller's turn: the HTTP answer for a joined call and the tick are not held up by the call itself.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const results = await scan(dirs);
      return {
        found: results.reduce((n, r) => n + r.files, 0),
        new: results.reduce((n, r) => n + r.added.length, 0),
        results: results.map((r) => ({ ...r })),
      };
    })();
    this.scanning = run;
    try {
      return await run;
    } finally {
      this.scanning = null;
    }
  }

  /** The audit trail, newest first, a page at a time. */
  actions(q: {
    from: number;
    to: number;
    before?: number | undefined;
    limit?: number | undefined;
  }): ActionsPage {
    return actionsPage(this.parts.audit, q);
  }

  /** Ends the post-panic hold (the person has seen the panic). */
  ack(by: string): AckResult {
    return { ended: acknowledgeHold(this.parts.timeline, this.parts.audit, this.parts.now(), by) };
  }

  /** Pins the guard's mode; null follows the level (and the profile) again. Applied at once. */
  setGuardMode(mode: GuardMode | null, by: string): GuardModeResult {
    return this.guard().pin(mode, by);
  }

  guardProfile(): GuardProfileView {
    return this.guard().profile();
  }

  setGuardProfile(profile: GuardProfile, by: string): GuardProfileChoice {
    return this.guard().chooseProfile(profile, by);
  }

  get hasGuardProfile(): boolean {
    return this.parts.guard !== undefined;
  }

  get canScan(): boolean {
    return this.parts.scan !== undefined;
  }

  advisory(): Advisory | Record<string, never> {
    return this.parts.advisory?.() ?? {};
  }

  cluster(): Promise<{ rows: ClusterRow[] }> {
    return this.parts.cluster?.() ?? Promise.resolve({ rows: [] });
  }

  /** The configuration in use, secrets masked, with where it lives and the reload state. */
  config(): { config: Config; path: string; reload: ConfigReloadState | null } {
    return {
      config: maskConfig(this.parts.config()),
      path: this.parts.configPath(),
      reload: this.parts.configReload?.state() ?? null,
    };
  }

  configSchema(): ReturnType<typeof configJsonSchema> {
    return configJsonSchema();
  }

  /** Reads the configuration file now; null when this daemon does not reload. */
  reloadConfig(trigger: ReloadTrigger): ReloadOutcome | null {
    return this.parts.configReload?.reload(trigger) ?? null;
  }

  /**
   * Validates and writes a client's configuration (masked secrets kept, program fields refused), then
   * applies it at once when the daemon reloads; what waits for a restart is listed.
   */
  saveConfig(input: unknown, trigger: ReloadTrigger, owner = true): ConfigSaveResult {
    const path = this.parts.configPath();
    return this.applySaved(
      path,
      lockedWrite(path, () => saveClientConfig(path, input, 'config', owner)),
      trigger,
    );
  }

  /**
   * A change to some keys of the stored file (`{set, unset}`), the rest kept as the file has it (not the
   * configuration in use, which carries command-line flags), then saved and applied as `saveConfig` does.
   * The file is read and written under its lock: a `config set` writing it at the same time keeps its key.
   */
  patchConfig(input: unknown, trigger: ReloadTrigger, owner = true): ConfigSaveResult {
    const path = this.parts.configPath();
    const saved = lockedWrite(path, () => {
      const next = patchedConfig(path, input);
      return next.ok ? saveClientConfig(path, next.value, 'config', owner) : next;
    });
    return this.applySaved(path, saved, trigger);
  }

  /** A write's answer: the daemon reloads what was saved and says what applied and what waits for a restart. */
  private applySaved(path: string, saved: ClientSaveResult, trigger: ReloadTrigger): ConfigSaveResult {
    if (!saved.ok) return { ok: false, reason: saved.reason, errors: saved.errors };
    const r = this.reloadConfig(trigger);
    return {
      ok: true,
      saved: path,
      config: maskConfig(saved.config),
      reloaded: r?.ok === true,
      applied: r?.ok ? r.applied : [],
      restartRequired: r?.ok ? r.restartRequired : [],
      ...(r && !r.ok ? { reloadErrors: r.errors } : {}),
    };
  }

  /**
   * The shells' own small memory in the data directory (what the menu bar already showed once): keys under
   * `app.` only, values up to 1 KiB; nothing of the daemon's state is reachable this way.
   */
  shellMeta(): { getMeta(key: string): string | null; setMeta(key: string, value: string): void } {
    const check = (key: string): void => {
      if (!/^app\.[a-z0-9.-]{1,64}$/.test(key)) throw new RangeError(`"${key}" is not a shell key (app.*)`);
    };
    return {
      getMeta: (key) => {
        check(key);
        return this.parts.timeline.getMeta(key);
      },
      setMeta: (key, value) => {
        check(key);
        this.parts.timeline.setMeta(key, value.slice(0, 1024));
      },
    };
  }

  private guard(): GuardControls {
    if (!this.parts.guard) throw new ServiceUnavailable('this daemon has no guard decision to change');
    return this.parts.guard;
  }
}

/** A configuration write under the file's lock; a lock held too long by another writer is a failed write. */
function lockedWrite(path: string, write: () => ClientSaveResult): ClientSaveResult {
  try {
    return withFileLock(path, write);
  } catch (e) {
    return { ok: false, reason: 'write-failed', errors: [`config: ${(e as Error).message}`] };
  }
}
