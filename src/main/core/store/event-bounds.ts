/**
 * How much of an event the timeline stores. Events carry text from outside (a client's request fields, EXO's
 * answers, process command lines, report strings); every producer bounds what it copies, and this is the last
 * bound before the row is written: an event is kept for days and read back whole by every page of events, so
 * one oversized event costs on every read after it.
 */

/** Characters of an event's message stored; past it the message is cut and ends with "…". */
export const EVENT_MESSAGE_CHARS = 2000;
/** Characters of an event's data (as JSON) stored; past it, its strings are cut (below), then it is replaced. */
export const EVENT_DATA_CHARS = 16 * 1024;
/** Characters kept of each string of data too large to store whole. */
export const EVENT_DATA_STRING_CHARS = 200;
/** Depth of data walked when its strings are cut; anything deeper is left out. */
const DATA_DEPTH = 8;

/**
 * `text` cut to `max` characters, ending with "…" when cut; never splits a surrogate pair. The cut is a copy
 * of its own: a slice of a string keeps the whole string alive in V8 (a 4 KB piece of a 1.8 MB command line
 * held all 1.8 MB for as long as it was kept).
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const c = text.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return Buffer.from(`${text.slice(0, end)}…`, 'utf8').toString('utf8');
}

export const boundedMessage = (message: string): string => cutText(message, EVENT_MESSAGE_CHARS);

function cutStrings(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return cutText(v, EVENT_DATA_STRING_CHARS);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= DATA_DEPTH) return null;
  if (Array.isArray(v)) return v.slice(0, 64).map((x) => cutStrings(x, depth + 1));
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [k, x] of Object.entries(v)) {
    if (n++ >= 64) break;
    out[cutText(k, EVENT_DATA_STRING_CHARS)] = cutStrings(x, depth + 1);
  }
  return out;
}

/**
 * An event's data as stored: its JSON when it fits, else the same data with every string cut to
 * {@link EVENT_DATA_STRING_CHARS} (and at most 64 items per array or object), else only how large it was.
 */
export function boundedData(data: Record<string, unknown> | undefined): string | null {
  if (!data) return null;
  const whole = JSON.stringify(data);
  if (whole.length <= EVENT_DATA_CHARS) return whole;
  const cut = JSON.stringify({ ...(cutStrings(data, 0) as Record<string, unknown>), clipped: true });
  if (cut.length <= EVENT_DATA_CHARS) return cut;
  return JSON.stringify({ clipped: true, chars: whole.length });
}

/** Characters of a process's command line stored (the pid map, its `process.started` event). */
export const ARGV_CHARS = 4096;
const ARG_CHARS = 1024;
const ARGS = 64;

function fits(argv: readonly string[]): boolean {
  if (argv.length > ARGS) return false;
  let total = 0;
  for (const a of argv) {
    if (a.length > ARG_CHARS) return false;
    total += a.length;
  }
  return total <= ARGV_CHARS;
}

/**
 * A command line as stored: at most {@link ARGS} arguments of at most 1024 characters, 4096 in all; "…" as
 * the last argument says more was left out (the array itself when it fits). Any local user chooses a watched
 * process's arguments: 1.8 MB of them on a process started twice a second stored ~3.7 MB of timeline per
 * process, kept 30 days.
 */
export function boundedArgv(argv: string[]): string[] {
  // It fits: the same array (nothing is allocated for the short command lines of every tick).
  if (fits(argv)) return argv;
  const out: string[] = [];
  let total = 0;
  for (const a of argv) {
    const room = Math.min(ARG_CHARS, ARGV_CHARS - total);
    if (out.length >= ARGS || room < 2) {
      out.push('…');
      break;
    }
    const kept = cutText(a, room);
    out.push(kept);
    total += kept.length;
  }
  return out;
}
