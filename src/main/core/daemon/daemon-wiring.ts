import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TimelineEvent } from '../../../shared/events.js';
import type { ReportRecord } from '../../../shared/reports.js';
import { ApiServer } from '../api/api-server.js';
import { loadOrCreateToken, tokenNoticeText } from '../api/api-token.js';
import { TokenFileWatch } from '../api/api-token-watch.js';
import type { Metrics } from '../api/metrics.js';
import { shedText } from '../api/shed-tally.js';
import type { Config } from '../config/config-schema.js';
import type { EventCollector } from '../event-collector.js';
import { exoHome } from '../exo/exo-pidfile.js';
import { GuardServer } from '../guard/guard-server.js';
import type { Logger } from '../logger.js';
import { defaultReportDirs, ReportIngester } from '../panics/report-ingester.js';
import { scanLimitedText } from '../panics/report-scan.js';
import { ReportWatcher } from '../panics/report-watcher.js';
import type { SentinelService } from '../service/sentinel-service.js';
import type { ReportStore } from '../store/report-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { randomBytesFromOs } from '../util/node-crypto.js';

/** The daemon cannot start as configured, for a reason the message says whole (no other prefix needed). */
export class StartRefused extends Error {}

/** The admission-control guard in front of EXO (null when turned off); its refusals and waits are metrics. */
export function buildGuard(config: Config, events: EventCollector, metrics: Metrics): GuardServer | null {
  if (!config.guard.enabled) return null;
  let guard: GuardServer;
  try {
    guard = newGuard(config, events, metrics);
  } catch (e) {
    // A CA file that is not one, an EXO URL that is not http(s): said as the guard's, not the timeline's.
    throw new StartRefused(`the guard cannot start: ${(e as Error).message} (fix it, or --no-guard)`);
  }
  metrics.attachGuard(() => guard.stats);
  return guard;
}

function newGuard(config: Config, events: EventCollector, metrics: Metrics): GuardServer {
  return new GuardServer(
    config.guard,
    config.exo.url,
    (e) => events.push(e.kind, e.severity, e.message, e.data, e.time),
    config.exo.home ?? exoHome(),
    undefined,
    {
      refused: (reason) => metrics.guardRefusals.inc({ reason }),
      queueWait: (seconds) => metrics.guardQueueWait.observe(seconds),
    },
  );
}

/**
 * The API token. What was wrong with its file (readable by others, another user's, a link…) and what was done
 * is a warning in the log and the timeline, never with the token; when no token can be stored, this run uses
 * one that is not saved, and says so.
 */
function apiToken(path: string, logger: Logger, events: EventCollector): string {
  const load = loadOrCreateToken(path);
  const warn = tokenWarning(logger, events);
  for (const n of load.notices) warn(tokenNoticeText(n), { ...n });
  if (load.ok) return load.token;
  warn(`${load.error}: this run uses an API token that is not saved`, { path, problem: load.error });
  return randomBytesFromOs(24).toString('base64url');
}

const tokenWarning =
  (logger: Logger, events: EventCollector) =>
  (message: string, data: Record<string, unknown>): void => {
    logger.warn(data, message);
    events.push('api.token-file', 'warning', message, data);
  };

/** The local HTTP API and the built dashboard (null when turned off): one shell of the service. */
export function buildApi(
  config: Config,
  tokenPath: string,
  logger: Logger,
  events: EventCollector,
  metrics: Metrics,
  service: SentinelService,
): ApiServer | null {
  if (!config.api.enabled) return null;
  const dashboard = fileURLToPath(new URL('../../../renderer/', import.meta.url));
  const token = apiToken(tokenPath, logger, events);
  const warn = tokenWarning(logger, events);
  // The file is looked at again while the API runs: a token others can read by now is replaced.
  const tokenWatch = new TokenFileWatch(tokenPath, token, {
    changed: (next, why) => {
      api.setToken(next);
      warn(`the API token changed: ${why}; clients beyond loopback need the new one`, { path: tokenPath });
    },
    notice: (n) => warn(tokenNoticeText(n), { ...n }),
    failed: (error) => warn(error, { path: tokenPath, problem: error }),
  });
  const api: ApiServer = new ApiServer({
    config: config.api,
    token,
    tokenWatch,
    metrics,
    service,
    dashboardDir: existsSync(`${dashboard}index.html`) ? dashboard : null,
    // Connections closed and live clients dropped to keep the API reachable: one line per window, not each.
    onShed: (counts, windowMs) => {
      logger.warn({ apiShed: counts }, shedText(counts, windowMs));
      metrics.countShed(counts);
    },
  });
  return api;
}

/** The report directories' watcher (the shell's, else the configured, else the platform's directories). */
export function buildReportWatcher(p: {
  dirs: string[] | undefined;
  config: Config;
  reports: ReportStore;
  store: TimelineStore;
  now: () => number;
  events: EventCollector;
  onReport: (r: ReportRecord) => void;
  onScanEnd: (watched: boolean) => void;
}): ReportWatcher {
  return new ReportWatcher(
    p.dirs ?? p.config.reports.dirs ?? defaultReportDirs(),
    new ReportIngester(p.reports, p.store, p.now),
    {
      onReport: p.onReport,
      onScanEnd: p.onScanEnd,
      onDirectoryProblem: (dir, problem) =>
        p.events.push('report.directory-problem', 'warning', `report directory ${dir}: ${problem}`, {
          dir,
          problem,
        }),
      onScanLimited: (dir, l) =>
        p.events.push('report.scan-limited', 'warning', `report directory ${dir}: ${scanLimitedText(l)}`, {
          dir,
          ...l,
        }),
    },
    p.config.reports.rescanSeconds * 1000,
  );
}

/** A fault caught at an entry point: an event and a log line; the daemon carries on. */
export function containFault(logger: Logger, events: EventCollector, where: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  try {
    logger.error({ err: e, where }, `fault in ${where}: ${message}`);
    events.push('daemon.fault', 'error', `fault in ${where}: ${message}`, {
      where,
      error: message,
      stack: e instanceof Error ? e.stack : null,
    });
  } catch {
    // Reporting a fault must not raise another.
  }
}

/** A fault the process is about to exit on, written at once (not with the next tick). Best effort. */
export function writeFaultNow(store: TimelineStore, now: number, where: string, e: unknown): boolean {
  const message = e instanceof Error ? e.message : String(e);
  const event: TimelineEvent = {
    time: now,
    kind: 'daemon.fault',
    severity: 'critical',
    message: `unhandled fault (${where}): ${message}`,
    data: { where, error: message, stack: e instanceof Error ? e.stack : null },
  };
  try {
    store.writeEvent(event);
    return true;
  } catch {
    return false;
  }
}
