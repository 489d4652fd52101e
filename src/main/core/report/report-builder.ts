import type { ReportRecord } from '../../../shared/reports.js';
import { readExoVersion } from '../exo/exo-version.js';
import type { MachineIdentity } from '../probes/probe-types.js';
import type { ReportStore } from '../store/report-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { VERSION } from '../version.js';
import { type CrashReportInput, renderCrashReport } from './crash-report.js';

const NOISE = new Set(['probe.unavailable']);

/** Gathers what a crash report needs from the stores and renders it. */
export function buildCrashReport(
  report: ReportRecord,
  timeline: TimelineStore,
  reports: ReportStore,
  now: number,
  options: { exoAppPlist?: string } = {},
): string {
  const stored = timeline.getMeta('identity');
  const identity = stored ? (JSON.parse(stored) as MachineIdentity) : null;
  // Without a panic time, anchor to the last sample before the report was written (after the reboot).
  let anchor = report.panicTime;
  if (anchor === null) {
    anchor = timeline.lastSampleTime(report.mtime, report.mtime - 7 * 86_400_000);
  }
  const samples = anchor === null ? [] : timeline.samples(anchor - 15 * 60_000, anchor, true);
  const events =
    anchor === null ? [] : timeline.events(anchor - 60 * 60_000, anchor).filter((e) => !NOISE.has(e.kind));
  const exoMain = timeline
    .allProcesses()
    .filter((p) => p.role === 'exo-main' && (anchor === null || p.firstSeen <= anchor))
    .sort((a, b) => b.lastSeen - a.lastSeen)[0];
  const kind = report.kind ?? 'unknown';
  const input: CrashReportInput = {
    report,
    identity,
    exoVersion: readExoVersion({
      ...(options.exoAppPlist ? { appPlist: options.exoAppPlist } : {}),
      ...(exoMain ? { exoArgv: exoMain.argv } : {}),
    }),
    samples,
    events,
    anchor,
    panicsOfKind: {
      total: reports.countPanics(kind),
      last72h: reports.countPanics(kind, now - 72 * 3_600_000),
    },
    generatedAt: now,
    version: VERSION,
  };
  return renderCrashReport(input);
}
