/**
 * Versioned schema. Each entry runs once, in order, inside a transaction; `PRAGMA user_version` records
 * how far a database has come. Never edit a shipped migration: add the next one.
 */

/** Sample columns stored per tick, in the order of the `samples` table. */
export const SAMPLE_COLUMNS = [
  'mem_total',
  'mem_usable',
  'mem_free',
  'mem_active',
  'mem_inactive',
  'mem_speculative',
  'mem_wired',
  'mem_compressed',
  'swap_used',
  'swap_total',
  'pressure_level',
  'free_percent',
  'gpu_in_use',
  'gpu_alloc',
  'gpu_ceiling',
  'gpu_util',
] as const;

export type SampleColumn = (typeof SAMPLE_COLUMNS)[number];

const minuteColumns = SAMPLE_COLUMNS.map((c) => `${c}_min REAL, ${c}_avg REAL, ${c}_max REAL`).join(',\n  ');

export const MIGRATIONS: string[] = [
  // 1: the timeline.
  `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE samples (
  ts INTEGER PRIMARY KEY,
  ${SAMPLE_COLUMNS.map((c) => `${c} REAL`).join(',\n  ')},
  gpu_sampled_at INTEGER
);
CREATE TABLE process_samples (
  ts INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  start_time INTEGER,
  role TEXT NOT NULL,
  rss REAL,
  phys_footprint REAL,
  cpu_percent REAL,
  threads INTEGER,
  PRIMARY KEY (ts, pid)
) WITHOUT ROWID;
CREATE TABLE processes (
  id INTEGER PRIMARY KEY,
  pid INTEGER NOT NULL,
  start_time INTEGER,
  role TEXT NOT NULL,
  ppid INTEGER,
  argv TEXT NOT NULL,
  executable TEXT,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  exited_at INTEGER,
  UNIQUE (pid, start_time)
);
CREATE INDEX processes_pid ON processes (pid, last_seen);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  data TEXT
);
CREATE INDEX events_ts ON events (ts);
CREATE INDEX events_kind ON events (kind, ts);
CREATE TABLE samples_minute (
  ts INTEGER PRIMARY KEY,
  n INTEGER NOT NULL,
  ${minuteColumns}
);
CREATE TABLE process_samples_minute (
  ts INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  start_time INTEGER,
  role TEXT NOT NULL,
  n INTEGER NOT NULL,
  rss_max REAL,
  phys_footprint_avg REAL,
  phys_footprint_max REAL,
  cpu_percent_avg REAL,
  PRIMARY KEY (ts, pid)
) WITHOUT ROWID;
`,
  // 2: diagnostic reports (kernel panics, JetsamEvents, crashes of watched processes) and the scan ledger.
  `
CREATE TABLE reports (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  name TEXT NOT NULL,
  dir TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime INTEGER NOT NULL,
  sha256 TEXT,
  status TEXT NOT NULL,
  problem TEXT,
  category TEXT,
  bug_type TEXT,
  kind TEXT,
  panic_time INTEGER,
  pid INTEGER,
  process_name TEXT,
  attribution TEXT,
  info TEXT,
  ingested_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX reports_sha ON reports (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX reports_file ON reports (path, mtime, size);
CREATE INDEX reports_kind ON reports (category, kind, panic_time);
`,
  // 3: EXO and the level in the timeline; the audit trail of actions.
  `
ALTER TABLE samples ADD COLUMN exo_reachable INTEGER;
ALTER TABLE samples ADD COLUMN exo_in_flight INTEGER;
ALTER TABLE samples ADD COLUMN risk_level INTEGER;
CREATE TABLE actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  action TEXT NOT NULL,
  level TEXT NOT NULL,
  reason TEXT NOT NULL,
  result TEXT NOT NULL,
  dry_run INTEGER NOT NULL DEFAULT 0,
  detail TEXT
);
CREATE INDEX actions_ts ON actions (ts);
`,
  // 4: the per-minute roll-up keeps the level (max) and EXO (reachable all minute?, in-flight avg/max), so
  // the raw window can be short; minutes already rolled up are filled in from whatever raw rows remain.
  // Actions get an index by kind for retention by action.
  `
ALTER TABLE samples_minute ADD COLUMN risk_level_max INTEGER;
ALTER TABLE samples_minute ADD COLUMN exo_reachable_min INTEGER;
ALTER TABLE samples_minute ADD COLUMN exo_in_flight_avg REAL;
ALTER TABLE samples_minute ADD COLUMN exo_in_flight_max INTEGER;
UPDATE samples_minute SET
  risk_level_max = (SELECT max(s.risk_level) FROM samples s WHERE s.ts >= samples_minute.ts AND s.ts < samples_minute.ts + 60000),
  exo_reachable_min = (SELECT min(s.exo_reachable) FROM samples s WHERE s.ts >= samples_minute.ts AND s.ts < samples_minute.ts + 60000),
  exo_in_flight_avg = (SELECT avg(s.exo_in_flight) FROM samples s WHERE s.ts >= samples_minute.ts AND s.ts < samples_minute.ts + 60000),
  exo_in_flight_max = (SELECT max(s.exo_in_flight) FROM samples s WHERE s.ts >= samples_minute.ts AND s.ts < samples_minute.ts + 60000);
CREATE INDEX actions_action ON actions (action, ts);
`,
  // 5: the GPU's recovery counter (IOAccelerator recoveryCount: GPU hangs and resets since boot), per tick
  // and as the minute's highest value; columns named, never positional.
  `
ALTER TABLE samples ADD COLUMN gpu_recovery_count INTEGER;
ALTER TABLE samples_minute ADD COLUMN gpu_recovery_count_max INTEGER;
UPDATE samples_minute SET
  gpu_recovery_count_max = (SELECT max(s.gpu_recovery_count) FROM samples s WHERE s.ts >= samples_minute.ts AND s.ts < samples_minute.ts + 60000);
`,
  // 6: where the tick's Metal ceiling came from (metal, wired-limit-sysctl, config, mlx-python, exo-python,
  // estimate; NULL when none was known or before this migration), so an estimated ceiling is told apart later.
  `
ALTER TABLE samples ADD COLUMN gpu_ceiling_source TEXT;
`,
  // 7: the ceiling's source in the per-minute roll-up too (the source at the minute's last tick), so a GPU
  // ratio read from minutes after the raw window is still known to rest on a read or an estimated ceiling;
  // minutes already rolled up are filled in from whatever raw rows remain.
  `
ALTER TABLE samples_minute ADD COLUMN gpu_ceiling_source TEXT;
UPDATE samples_minute SET
  gpu_ceiling_source = (SELECT s.gpu_ceiling_source FROM samples s WHERE s.ts >= samples_minute.ts AND s.ts < samples_minute.ts + 60000 ORDER BY s.ts DESC LIMIT 1);
`,
];
