import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { RAW_LIMIT_MS } from '../../../shared/api-contracts.js';
import type { TimelineEvent } from '../../../shared/events.js';
import type { Sample } from '../../../shared/sample.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { openDatabase } from '../../core/store/database.js';
import { SAMPLE_COLUMNS } from '../../core/store/migrations.js';
import { type MinuteRow, TimelineStore } from '../../core/store/timeline-store.js';
import { renderEvents, renderTimeline, sampleCsvRow, TIMELINE_CSV_COLUMNS } from '../output.js';
import { duration, EXIT_FAILURE, EXIT_USAGE, timestamp } from '../usage-error.js';

interface TimelineFlags {
  since?: number;
  from?: number;
  to?: number;
  json?: boolean;
  csv?: boolean;
  resolution?: 'raw' | 'minute' | 'auto';
  limit?: number;
  before?: number;
  dataDir?: string;
}

/** Events shown at most (newest first); `--before <id>` pages to older ones. */
const EVENT_LIMIT = 1000;

const positiveInt =
  (flag: string, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > max)
      throw new InvalidArgumentError(`${flag} expects a whole number from 1 to ${max}, got "${v}"`);
    return n;
  };

export function registerTimeline(program: Command): void {
  program
    .command('timeline')
    .description('print the stored timeline (default: the last 15 minutes)')
    .option('--since <duration>', 'how far back: 90s, 15m, 2h, 7d', duration)
    .option('--from <time>', 'start (ISO 8601 or epoch ms)', timestamp)
    .option('--to <time>', 'end (ISO 8601 or epoch ms; default now)', timestamp)
    .option('--resolution <r>', 'raw, minute or auto (default auto)', (v: string) => {
      if (v !== 'raw' && v !== 'minute' && v !== 'auto')
        throw new InvalidArgumentError(`expected raw, minute or auto, got "${v}"`);
      return v;
    })
    .option(
      '--limit <n>',
      `events shown at most, newest first (default and most ${EVENT_LIMIT})`,
      positiveInt('--limit', EVENT_LIMIT),
    )
    .option(
      '--before <id>',
      'only events older than this event id (the cursor printed after a page)',
      positiveInt('--before', Number.MAX_SAFE_INTEGER),
    )
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV')
    .action((_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<TimelineFlags>();
      const range = rangeOf(f);
      if (!range) {
        process.exitCode = EXIT_USAGE;
        return;
      }
      const dataDir = resolveDataDir(f.dataDir);
      const dbPath = paths(dataDir).database;
      if (!existsSync(dbPath)) {
        process.stderr.write(
          `exo-sentinel: no timeline in ${dataDir} yet; start it with: exo-sentinel daemon\n`,
        );
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const db = openDatabase(dbPath, { readonly: true });
      try {
        printTimeline(new TimelineStore(db), f, range);
      } finally {
        db.close();
      }
    });
}

/** The range the flags ask for; null (said on stderr) when they contradict each other. */
function rangeOf(f: TimelineFlags): { from: number; to: number } | null {
  if (f.json && f.csv) {
    process.stderr.write('exo-sentinel timeline: choose one of --json and --csv\n');
    return null;
  }
  if (f.since !== undefined && f.from !== undefined) {
    process.stderr.write('exo-sentinel timeline: use --since or --from, not both\n');
    return null;
  }
  const to = f.to ?? Date.now();
  const from = f.from ?? to - (f.since ?? 15 * 60_000);
  if (from > to) {
    process.stderr.write(
      `exo-sentinel timeline: --from (${new Date(from).toISOString()}) is after --to (${new Date(to).toISOString()})\n`,
    );
    return null;
  }
  return { from, to };
}

type EventsPage = { events: TimelineEvent[]; eventsTruncated: boolean; eventsNext: number | null };

function printTimeline(
  store: TimelineStore,
  f: TimelineFlags,
  { from, to }: { from: number; to: number },
): void {
  const resolution =
    f.resolution && f.resolution !== 'auto' ? f.resolution : to - from <= RAW_LIMIT_MS ? 'raw' : 'minute';
  // Newest first and bounded: the newest events are the ones a person looks for.
  const page = store.eventPage({ from, to, before: f.before, limit: f.limit ?? EVENT_LIMIT });
  const events: EventsPage = {
    events: page.events,
    eventsTruncated: page.next !== null,
    eventsNext: page.next,
  };
  if (resolution === 'minute') printMinutes(store.minuteSamples(from, to), f, { from, to }, events);
  else printSamples(store.samples(from, to, true), f, { from, to }, events);
}

function printMinutes(
  rows: MinuteRow[],
  f: TimelineFlags,
  range: { from: number; to: number },
  e: EventsPage,
): void {
  const { from, to } = range;
  if (f.json) {
    process.stdout.write(
      `${JSON.stringify({ from, to, resolution: 'minute', minutes: rows, ...e }, null, 2)}\n`,
    );
    return;
  }
  if (f.csv) {
    const cols = SAMPLE_COLUMNS.flatMap((c) => [`${c}_min`, `${c}_avg`, `${c}_max`]);
    process.stdout.write(`time,n,${cols.join(',')}\n`);
    for (const r of rows) {
      const vals = SAMPLE_COLUMNS.flatMap((c) => [r.values[c]?.min, r.values[c]?.avg, r.values[c]?.max]);
      process.stdout.write(
        `${new Date(r.time).toISOString()},${r.count},${vals.map((v) => v ?? '').join(',')}\n`,
      );
    }
    return;
  }
  process.stdout.write(
    `${rows.length} minutes from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}\n`,
  );
  for (const r of rows) {
    const free = r.values.free_percent;
    process.stdout.write(
      `${new Date(r.time).toISOString().slice(0, 16)}  n=${r.count}  free ${free?.min ?? '—'}..${free?.max ?? '—'}%  wired max ${r.values.mem_wired?.max ?? '—'}\n`,
    );
  }
}

function printSamples(
  samples: Sample[],
  f: TimelineFlags,
  range: { from: number; to: number },
  e: EventsPage,
): void {
  const { from, to } = range;
  if (f.json) {
    process.stdout.write(`${JSON.stringify({ from, to, resolution: 'raw', samples, ...e }, null, 2)}\n`);
    return;
  }
  if (f.csv) {
    process.stdout.write(`${TIMELINE_CSV_COLUMNS.join(',')}\n`);
    for (const s of samples) process.stdout.write(`${sampleCsvRow(s)}\n`);
    return;
  }
  process.stdout.write(`${renderTimeline(samples)}\n`);
  const olderHint =
    e.eventsNext === null
      ? ''
      : `(newest ${e.events.length} events shown; older ones: --before ${e.eventsNext})\n`;
  if (e.events.length)
    process.stdout.write(`\nevents, newest first\n${renderEvents(e.events)}\n${olderHint}`);
}
