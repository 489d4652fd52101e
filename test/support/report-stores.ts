import { ReportIngester } from '../../src/main/core/panics/report-ingester.js';
import { openDatabase } from '../../src/main/core/store/database.js';
import { ReportStore } from '../../src/main/core/store/report-store.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';

/** A real SQLite ledger at `path` and an ingester over it whose clock reads `now`. */
export function reportStores(path: string, now: number) {
  const db = openDatabase(path);
  const reports = new ReportStore(db);
  return { db, reports, ingester: new ReportIngester(reports, new TimelineStore(db), () => now) };
}
