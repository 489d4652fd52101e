import type { PostPanicHold } from '../../../shared/risk.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { AuditStore } from './audit-store.js';

const KEY = 'post-panic-hold';

/** The hold lives in the database, so `exo-sentinel ack` (another process) ends it for the daemon too. */
export function readHold(store: TimelineStore): PostPanicHold | null {
  const v = store.getMeta(KEY);
  if (!v) return null;
  try {
    const h = JSON.parse(v) as PostPanicHold | null;
    return h && typeof h.since === 'number' ? h : null;
  } catch {
    return null;
  }
}

export function writeHold(store: TimelineStore, hold: PostPanicHold | null): void {
  store.setMeta(KEY, JSON.stringify(hold));
}

/** Ends a hold: the person has seen the panic. Returns the hold that ended, or null if there was none. */
export function acknowledgeHold(
  store: TimelineStore,
  audit: AuditStore,
  now: number,
  by: string,
): PostPanicHold | null {
  const hold = readHold(store);
  if (!hold) return null;
  writeHold(store, null);
  audit.record({
    time: now,
    action: 'hold-end',
    level: 'ok',
    reason: `acknowledged by ${by}`,
    result: 'done',
    dryRun: false,
    detail: { ...hold },
  });
  store.writeEvent({
    time: now,
    kind: 'hold.acknowledged',
    severity: 'info',
    message: `post-panic hold (since ${new Date(hold.since).toISOString()}) acknowledged by ${by}`,
    data: { ...hold, by },
  });
  return hold;
}
