import { isIogpuKind, type PanicKind } from '../../panics/panic-classifier.js';
import type { MachineIdentity } from '../../probes/probe-types.js';
import type { Db } from '../../store/database.js';
import { TimelineStore } from '../../store/timeline-store.js';
import { assessPlatform } from '../platform-advisory.js';
import type { ReplayEvent, ReplayHold, ReplayPanic, ReplaySource, ReplayTick } from './replay-source.js';

/** Event kinds the risk context reads, plus EXO's instance events (the wired limit needs a loaded model). */
const CONTEXT_KINDS = [
  'exo.wired-limit-set',
  'exo.kv-evicted',
  'exo.model-load',
  'exo.instance-added',
  'exo.instance-present',
  'exo.instance-removed',
  'exo.restarted',
  'exo.node-started',
  'exo.log-rotated',
  'power.wake',
];

/** The advisory's verdict for the machine that recorded the timeline (its stored identity). */
function affectedFromIdentity(stored: string | null): boolean {
  try {
    const id = stored ? (JSON.parse(stored) as Partial<MachineIdentity>) : null;
    if (!id?.platform) return false;
    return (
      assessPlatform({
        platform: id.platform,
        chip: id.chip ?? null,
        memoryBytes: id.memoryBytes ?? null,
        osVersion: id.osVersion ?? null,
        osBuild: id.osBuild ?? null,
        iogpuFamilyVersion: id.iogpuFamilyVersion ?? null,
      }).affected === true
    );
  } catch {
    return false;
  }
}

/** How far before `from` events are read, so a wired limit set (or a model loaded) earlier still counts. */
const LOOKBACK_MS = 24 * 3_600_000;
const PAGE = 2000;

type InstanceEvent = { time: number; kind: string; id: string };

/** The events the risk context reads (from a day before `from`), and EXO's instance events apart. */
function readContextEvents(
  db: Db,
  from: number,
  to: number,
): { events: ReplayEvent[]; instanceEvents: InstanceEvent[] } {
  const events: ReplayEvent[] = [];
  const instanceEvents: InstanceEvent[] = [];
  const rows = db
    .prepare(
      `SELECT ts, kind, data FROM events WHERE ts >= ? AND ts <= ? AND kind IN (${CONTEXT_KINDS.map(() => '?').join(',')})
       ORDER BY ts, id`,
    )
    .iterate(from - LOOKBACK_MS, to, ...CONTEXT_KINDS) as IterableIterator<{
    ts: number;
    kind: string;
    data: string | null;
  }>;
  for (const r of rows) {
    if (r.kind.startsWith('exo.instance-')) {
      let id = '';
      try {
        id = String((JSON.parse(r.data ?? '{}') as { instanceId?: unknown }).instanceId ?? '');
      } catch {}
      instanceEvents.push({ time: r.ts, kind: r.kind, id });
    }
    if (r.kind !== 'exo.instance-present') events.push({ time: r.ts, kind: r.kind });
  }
  return { events, instanceEvents };
}

/** The post-panic holds up to `to`: each from its start to its acknowledgement (null: still on). */
function readHolds(db: Db, to: number): ReplayHold[] {
  const holds: ReplayHold[] = [];
  const rows = db
    .prepare(
      "SELECT ts, kind, message FROM events WHERE ts <= ? AND kind IN ('hold.started', 'hold.acknowledged') ORDER BY ts, id",
    )
    .all(to) as Array<{ ts: number; kind: string; message: string }>;
  for (const h of rows) {
    const open = holds.find((x) => x.until === null);
    if (h.kind === 'hold.started' && !open) holds.push({ since: h.ts, until: null, reason: h.message });
    else if (h.kind === 'hold.acknowledged' && open) open.until = h.ts;
  }
  return holds;
}

/** The panics in the range, and the IOGPU panics before it (they count for the recent-panic signal). */
function readPanics(db: Db, from: number, to: number): { panics: ReplayPanic[]; priorIogpuPanics: number[] } {
  const rows = db
    .prepare(
      `SELECT coalesce(panic_time, mtime) AS t, coalesce(kind, 'unknown') AS kind FROM reports
       WHERE category = 'panic' AND status = 'ingested' AND coalesce(panic_time, mtime) <= ? ORDER BY t`,
    )
    .all(to) as Array<{ t: number; kind: string }>;
  return {
    panics: rows.filter((p) => p.t >= from).map((p) => ({ time: p.t, kind: p.kind })),
    priorIogpuPanics: rows.filter((p) => p.t < from && isIogpuKind(p.kind as PanicKind)).map((p) => p.t),
  };
}

/** The stored samples page by page, each with EXO's reachability, in-flight count and live instances. */
function tickReader(
  store: TimelineStore,
  from: number,
  to: number,
  instanceEvents: InstanceEvent[],
): () => Generator<ReplayTick> {
  return function* (): Generator<ReplayTick> {
    const live = new Set<string>();
    let ie = 0;
    let cursor: number | null = from;
    while (cursor !== null) {
      const page = store.samplePage(cursor, to, PAGE, true);
      for (const sample of page.rows) {
        while (ie < instanceEvents.length && instanceEvents[ie]!.time <= sample.time) {
          const e = instanceEvents[ie++]!;
          if (e.kind === 'exo.instance-removed') live.delete(e.id);
          else live.add(e.id);
        }
        const reachable = sample.exo.reachable === true;
        yield {
          time: sample.time,
          sample,
          exo: {
            reachable,
            inFlight: reachable ? (sample.exo.inFlight ?? 0) : 0,
            instances: reachable ? live.size : 0,
            largestPromptTokens: null,
            kvInFlightBytes: null,
          },
        };
      }
      cursor = page.next;
    }
  };
}

/**
 * A recorded timeline as a replay source: the stored 1 s samples (with process readings), EXO's in-flight
 * count per tick, the events the risk context reads, the panics and the post-panic holds. Read only.
 */
export function dbSource(db: Db, label: string, from: number, to: number): ReplaySource {
  const store = new TimelineStore(db);
  const { events, instanceEvents } = readContextEvents(db, from, to);
  const { panics, priorIogpuPanics } = readPanics(db, from, to);
  return {
    label,
    from,
    to,
    ticks: tickReader(store, from, to, instanceEvents),
    events,
    panics,
    priorIogpuPanics,
    holds: readHolds(db, to),
    platformAffected: affectedFromIdentity(store.getMeta('identity')),
    maxTickGapMs: 30_000,
    notes: [
      'prompt sizes and in-flight KV are not recorded: the long-prompt and KV-headroom signals are off in a timeline replay',
    ],
  };
}
