import type { Sample } from '../../../shared/sample.js';
import type { StatusView } from '../../../shared/status-view.js';
import { readGuardOverride } from '../actions/guard-override.js';
import { readGuardProfile } from '../actions/guard-profile.js';
import { readHold } from '../actions/post-panic-hold.js';
import type { ConfigReloadState } from '../config/config-reload.js';
import type { Config } from '../config/config-schema.js';
import type { GuardServer } from '../guard/guard-server.js';
import { summarisePanics } from '../panics/panic-summary.js';
import type { MachineIdentity, PlatformProbe } from '../probes/probe-types.js';
import { assessPlatform, modelEvidence } from '../risk/platform-advisory.js';
import type { RiskPipeline } from '../risk/risk-pipeline.js';
import type { Advisory } from '../service/sentinel-service.js';
import type { ReportStore } from '../store/report-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { StorageStatus } from '../store/write-buffer.js';
import { VERSION } from '../version.js';
import type { GuardDecision } from './guard-decision.js';

/** What the status view is read from: the daemon's parts, asked at each call. */
export interface ViewParts {
  store: TimelineStore;
  reports: ReportStore;
  risk: RiskPipeline;
  guard: GuardServer | null;
  decision: GuardDecision;
  probe: PlatformProbe;
  config: () => Config;
  dataDir: string;
  startedAt: number;
  ticks: () => number;
  /** The last tick's sample (else the latest stored one). */
  latest: () => Sample | null;
  storage: () => StorageStatus;
  reload: () => ConfigReloadState | null;
}

/** The daemon's live view, as `/api/v1/status` serves it. */
export function buildStatusView(p: ViewParts, now: number): StatusView {
  const identity = p.store.getMeta('identity');
  const config = p.config();
  return {
    time: now,
    identity: identity ? JSON.parse(identity) : null,
    sample: p.latest() ?? p.store.latestSample(),
    risk: p.risk.state,
    guardMode: p.decision.mode,
    guardOverride: readGuardOverride(p.store),
    guardProfile: readGuardProfile(p.store, config.actions.guardProfile),
    guardModeSource: p.decision.decide().modeSource,
    wakeHold: p.decision.wakeHoldView(now),
    hold: readHold(p.store),
    exo: p.risk.monitor.snapshot,
    guard: p.guard?.address ? { ...p.guard.address, ...p.guard.stats, upstream: config.exo.url } : null,
    daemon: {
      pid: process.pid,
      version: VERSION,
      startedAt: p.startedAt,
      ticks: p.ticks(),
      dataDir: p.dataDir,
      platform: process.platform,
    },
    probes: p.probe.describe?.() ?? null,
    panics: summarisePanics(p.reports, now),
    storage: p.storage(),
    config: p.reload(),
  };
}

/** The platform advisory for this machine (its identity as stored at start) and the loaded models' reports. */
export function buildAdvisory(store: TimelineStore, risk: RiskPipeline): Advisory {
  const stored = store.getMeta('identity');
  const id = stored ? (JSON.parse(stored) as MachineIdentity) : null;
  const platform = assessPlatform({
    platform: id?.platform ?? process.platform,
    chip: id?.chip ?? null,
    memoryBytes: id?.memoryBytes ?? null,
    osVersion: id?.osVersion ?? null,
    osBuild: id?.osBuild ?? null,
    iogpuFamilyVersion: id?.iogpuFamilyVersion ?? null,
  });
  const models = [
    ...new Set(risk.monitor.snapshot.instances.map((i) => i.modelId).filter((m): m is string => m !== null)),
  ];
  return { platform, models: models.flatMap((m) => modelEvidence(m)) };
}
