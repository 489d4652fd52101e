import { opendir } from 'node:fs/promises';
import { sortInTurns } from '../util/turns.js';
import { readabilityAdvice } from './report-file-reader.js';
import { nameOfKey, panicNameStamp, priorityKey } from './report-priority.js';

/** A scan looks at most this many report names per directory (sorting them stays a few tens of ms). */
export const MAX_LISTED_NAMES = 100_000;
/** Past the cap, entries are still counted (to say how many were left out) up to this many. */
const MAX_COUNTED_ENTRIES = 1_000_000;

export type Listing =
  | {
      ok: true;
      /** Names as macOS names a panic report (report-priority.ts), newest first by the time in the name. */
      first: string[];
      /** The other report names, sorted. With `first`, at most `maxNames`. */
      names: string[];
      /** Report names left out by the cap (counted up to MAX_COUNTED_ENTRIES entries). */
      unlisted: number;
    }
  | { ok: false; error: string };

function listingError(dir: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${dir} does not exist`;
  if (code === 'EACCES' || code === 'EPERM') return readabilityAdvice(dir);
  return `${dir}: ${(e as Error).message}`;
}

/**
 * The report names in a directory, read off the main thread a few hundred entries at a time and never
 * more than `maxNames` kept, then sorted a few ms at a time: a directory stuffed with millions of files
 * costs bounded memory, and the event loop is free between batches. Panic-named files are kept before
 * others when the cap is reached: files an outsider dropped under other names cannot crowd out a panic.
 */
export async function listReportNames(
  dir: string,
  pattern: RegExp,
  maxNames = MAX_LISTED_NAMES,
): Promise<Listing> {
  const first: string[] = [];
  const names: string[] = [];
  let unlisted = 0;
  let seen = 0;
  try {
    const handle = await opendir(dir, { bufferSize: 256 });
    for await (const entry of handle) {
      if (++seen > MAX_COUNTED_ENTRIES) break;
      if (!pattern.test(entry.name)) continue;
      const stamp = panicNameStamp(entry.name);
      if (first.length + names.length < maxNames) {
        if (stamp === null) names.push(entry.name);
        else first.push(priorityKey(stamp, entry.name));
      } else {
        unlisted++;
        if (stamp !== null && names.length > 0) {
          names.pop();
          first.push(priorityKey(stamp, entry.name));
        }
      }
    }
  } catch (e) {
    return { ok: false, error: listingError(dir, e) };
  }
  const newestFirst = (await sortInTurns(first)).reverse().map(nameOfKey);
  return { ok: true, first: newestFirst, names: await sortInTurns(names), unlisted };
}
