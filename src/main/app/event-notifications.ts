import type { TimelineEvent } from '../../shared/events.js';
import type { PlatformAssessment } from '../core/risk/platform-advisory.js';
import type { NotificationController } from './notification-controller.js';

type Notes = Pick<NotificationController, 'panic' | 'runnerDied' | 'advisory'>;

/**
 * Banners for what the daemon just wrote to the timeline: a new kernel panic (its own panic time, and a
 * click that opens that report) and a dead EXO runner. Level rises come through the action policy instead.
 */
export function notifyTimelineEvents(
  events: readonly TimelineEvent[],
  notes: Notes,
  formatTime: (ms: number) => string = (ms) => new Date(ms).toLocaleString(),
): void {
  for (const e of events) {
    if (e.kind === 'panic.detected') {
      const d = e.data ?? {};
      // The report's panic time (epoch ms); the detection time when the report has none.
      const at = typeof d['panicTime'] === 'number' ? d['panicTime'] : e.time;
      const id = typeof d['reportId'] === 'number' ? d['reportId'] : undefined;
      notes.panic(typeof d['kind'] === 'string' ? d['kind'] : null, formatTime(at), id);
    } else if (e.kind === 'exo.runner-failed' || e.kind === 'exo.runner-terminated') {
      notes.runnerDied(e.message);
    }
  }
}

const ADVISORY_SHOWN = 'app.advisory-shown';

/**
 * The platform advisory, once per data directory: at the app's first start on a machine known to be affected.
 * It is recorded as shown only when it was seen (its banner's `show`, or its menu-bar alert opened), so a banner
 * that failed or was never displayed is announced again at the next start.
 */
export function announceAdvisoryOnce(
  meta: { getMeta(key: string): string | null; setMeta(key: string, value: string): void },
  advisory: Pick<PlatformAssessment, 'affected' | 'summary'>,
  notes: Notes,
  now: () => number,
): boolean {
  if (!advisory.affected || meta.getMeta(ADVISORY_SHOWN)) return false;
  return notes.advisory(advisory.summary, () => {
    if (!meta.getMeta(ADVISORY_SHOWN)) meta.setMeta(ADVISORY_SHOWN, String(now()));
  });
}
