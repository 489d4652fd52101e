/**
 * Child process for the memory test: opens a fresh store, ingests one report file through the real
 * ReportIngester and prints, as one JSON line, the RSS before, the peak RSS after (getrusage ru_maxrss),
 * and what the ledger recorded. Usage: node --import tsx ingest-rss-child.ts <report file> <data dir>
 */
import { dirname } from 'node:path';
import { ReportIngester } from '../../src/main/core/panics/report-ingester.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { ReportStore } from '../../src/main/core/store/report-store.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';

const [file, dataDir] = process.argv.slice(2);
if (!file || !dataDir) throw new Error('usage: ingest-rss-child.ts <report file> <data dir>');
const db = openDatabase(`${dataDir}/timeline.db`);
const ingester = new ReportIngester(new ReportStore(db), new TimelineStore(db));
// Settle start-up allocations so the baseline is the resident set the daemon idles at.
(globalThis as { gc?: () => void }).gc?.();
const rssBefore = process.memoryUsage.rss();
const peakBefore = process.resourceUsage().maxRSS * 1024;
const started = performance.now();
const rec = ingester.ingestFile(file, dirname(file));
const ms = performance.now() - started;
const peakAfter = process.resourceUsage().maxRSS * 1024;
db.close();
process.stdout.write(
  `${JSON.stringify({
    rssBefore,
    peakBefore,
    peakAfter,
    ms,
    status: rec?.status ?? null,
    category: rec?.category ?? null,
    kind: rec?.kind ?? null,
    pid: rec?.pid ?? null,
    truncatedRead: rec?.info?.['truncatedRead'] ?? null,
  })}\n`,
);
