import type { ReportRecord } from '../../../shared/reports.js';
import type { EventCollector } from '../event-collector.js';
import { NEW_WATCHED } from '../exo/watch-admission.js';
import { MAX_WATCHED } from '../exo/watch-limit.js';
import type { Logger } from '../logger.js';
import { isIogpuKind } from '../panics/panic-classifier.js';
import type { TickResult } from '../sampler.js';
import { boundedArgv, cutText } from '../store/event-bounds.js';
import { plainText } from '../util/format.js';

/** A new report in the ledger becomes a timeline event (written with the next tick) and a log line. */
export function recordReportEvent(r: ReportRecord, events: EventCollector, logger: Logger): void {
  // A file name is anyone's to choose: no newline or escape of it reaches a terminal or a log line.
  const name = plainText(r.name, 300);
  const processName = r.processName === null ? null : plainText(r.processName, 200);
  const at = r.panicTime ? new Date(r.panicTime).toISOString() : 'an unknown time';
  const who = r.attribution
    ? ` — ${plainText(r.attribution.explanation, 600)}`
    : r.pid !== null
      ? ` (pid ${r.pid}: ${processName})`
      : '';
  const data = {
    reportId: r.id,
    path: r.path,
    kind: r.kind,
    panicTime: r.panicTime,
    pid: r.pid,
    verdict: r.attribution?.verdict ?? null,
  };
  if (r.status === 'unreadable') {
    events.push(
      'report.unreadable',
      'warning',
      `${name} is present but unreadable: ${plainText(r.problem ?? '', 600)}`,
      data,
    );
  } else if (r.status === 'ingested' && r.category === 'panic') {
    const severity = r.kind && isIogpuKind(r.kind as never) ? 'critical' : 'warning';
    events.push('panic.detected', severity, `kernel panic (${r.kind}) at ${at}${who}`, data);
  } else if (r.status === 'ingested' && r.category === 'jetsam') {
    const killed = ((r.info?.['killed'] as Array<{ name: string; reason: string }> | undefined) ?? []).map(
      (k) => `${k.name} (${k.reason})`,
    );
    events.push(
      'jetsam.detected',
      'warning',
      `JetsamEvent at ${at}: largest ${String(r.info?.['largestProcess'] ?? '?')}${killed.length ? `; killed ${killed.join(', ')}` : ''}`,
      data,
    );
  } else if (r.status === 'ingested' && r.category === 'crash') {
    events.push(
      'crash.detected',
      'warning',
      `${processName ?? '?'} (pid ${r.pid ?? '?'}) crashed (${r.kind}) at ${at}${who}`,
      data,
    );
  }
  logger.warn(
    { report: data, status: r.status },
    `report ${name}: ${r.status} ${r.category ?? ''} ${r.kind ?? ''}`,
  );
}

/** EXO's processes that appeared, exited or changed role in this tick, as timeline events. */
export function recordProcessEvents(changes: TickResult['changes'], events: EventCollector): void {
  for (const c of changes) {
    const e = c.entry;
    const what = `${c.role} pid ${e.pid}`;
    if (c.kind === 'started')
      events.push('process.started', 'info', `${what} appeared: ${e.argv.join(' ').slice(0, 200)}`, {
        pid: e.pid,
        role: c.role,
        startTime: e.startTime,
        argv: boundedArgv(e.argv),
        executable: e.executable === null ? null : cutText(e.executable, 1024),
      });
    else if (c.kind === 'exited')
      events.push(
        'process.exited',
        c.role === 'exo-runner' || c.role === 'exo-main' ? 'warning' : 'info',
        `${what} exited`,
        { pid: e.pid, role: c.role, startTime: e.startTime },
      );
    else
      events.push('process.role-changed', 'info', `pid ${e.pid} is now ${c.role} (was ${c.previous})`, {
        pid: e.pid,
        role: c.role,
        previous: c.previous,
      });
  }
}

/**
 * Says when more processes match than are watched (watch-limit.ts), and when that ends: once each way, not
 * every tick. Returns whether the limit bites now.
 */
export function recordWatchLimit(leftOut: number, wasLimited: boolean, events: EventCollector): boolean {
  if (leftOut > 0 && !wasLimited)
    events.push(
      'watch.limit',
      'warning',
      `${leftOut} more process(es) match EXO or an MLX server pattern than the ${MAX_WATCHED} watched: EXO's own are watched first, then those already watched, then the longest running; the rest are not sampled`,
      { leftOut, max: MAX_WATCHED },
    );
  else if (leftOut === 0 && wasLimited)
    events.push(
      'watch.limit-ended',
      'info',
      `every matching process is watched again (at most ${MAX_WATCHED})`,
      {
        max: MAX_WATCHED,
      },
    );
  return leftOut > 0;
}

/**
 * Says, at most once a minute (monotonic), that new matching processes started faster than they are taken
 * (watch-admission.ts): how many waited at most at one tick.
 */
export class DeferredWatch {
  private most = 0;
  private lastSaid = Number.NEGATIVE_INFINITY;

  note(deferred: number, monotonicMs: number, events: EventCollector): void {
    this.most = Math.max(this.most, deferred);
    if (this.most === 0 || monotonicMs - this.lastSaid < 60_000) return;
    events.push(
      'watch.deferred',
      'warning',
      `up to ${this.most} new process(es) matching EXO or an MLX server pattern waited to be watched: more started than are taken (${NEW_WATCHED.own.perMinute} a minute of this user's and root's, ${NEW_WATCHED.foreign.perMinute} of another user's); they are watched once the rate allows`,
      {
        waiting: this.most,
        perMinute: NEW_WATCHED.own.perMinute,
        foreignPerMinute: NEW_WATCHED.foreign.perMinute,
      },
    );
    this.most = 0;
    this.lastSaid = monotonicMs;
  }
}
