import { existsSync } from 'node:fs';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { type Db, openDatabase } from '../../core/store/database.js';
import { ReportStore } from '../../core/store/report-store.js';
import { TimelineStore } from '../../core/store/timeline-store.js';
import { debugClient } from '../daemon-client.js';
import { describeStoreProblem } from '../store-problem.js';

export interface Stores {
  db: Db;
  timeline: TimelineStore;
  reports: ReportStore;
  dataDir: string;
}

/**
 * Opens the data directory's database for a CLI command. Read commands open it read-only (SQLite's read-only
 * open, and `query_only`) and need it to exist; `write` creates it (a scan may run before any daemon has).
 * Commands that change state open it for writing only when no daemon of the directory runs with its API
 * (daemon-client.ts): the daemon is the one writer.
 */
export function openStores(
  dataDirFlag: string | undefined,
  mode: 'read' | 'write',
): Stores | { error: string } {
  const dataDir = resolveDataDir(dataDirFlag);
  const dbPath = paths(dataDir).database;
  if (mode === 'read' && !existsSync(dbPath)) {
    return { error: `no timeline in ${dataDir} yet; start it with: exo-sentinel daemon` };
  }
  try {
    const db = openDatabase(dbPath, { readonly: mode === 'read' });
    debugClient(`opened ${dbPath} ${mode === 'read' ? 'read-only' : 'for writing'}`);
    return { db, timeline: new TimelineStore(db), reports: new ReportStore(db), dataDir };
  } catch (e) {
    return { error: describeStoreProblem(e, dbPath) ?? `cannot open ${dbPath}: ${(e as Error).message}` };
  }
}
