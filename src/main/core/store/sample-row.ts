/**
 * Sample ↔ row, by column name: one table of {column, read, write} per stored table. A column is written
 * from the sample and read back into it by the same entry, so a reading added to `Sample` is stored by adding
 * one line here (and the column, in a migration: test/unit/store/sample-row.test.ts fails on either alone).
 * Numbers read back are narrowed with `num` (a NULL or a value that is not finite is no reading).
 */
import { num } from '../../../shared/narrow.js';
import {
  isCeilingSource,
  type MemoryReading,
  type ProcessReading,
  type ProcessRole,
  type Sample,
} from '../../../shared/sample.js';

/** A row as better-sqlite3 returns it. */
export type Row = Record<string, number | string | null>;
export type Cell = number | string | null;

export interface ColumnMap<T> {
  column: string;
  /** The value stored for this column. */
  write: (value: T) => Cell;
  /** Sets the field(s) this column holds on `into` from the stored value (undefined when the row lacks it). */
  read: (stored: Cell | undefined, into: T) => void;
}

type NumericMemoryKey = Exclude<keyof MemoryReading, 'pressureLevel'>;
type NumericGpuKey =
  | 'inUseBytes'
  | 'allocBytes'
  | 'ceilingBytes'
  | 'utilization'
  | 'sampledAt'
  | 'recoveryCount';

const memory = (column: string, key: NumericMemoryKey): ColumnMap<Sample> => ({
  column,
  write: (s) => s.memory[key],
  read: (v, s) => {
    s.memory[key] = num(v);
  },
});

const gpu = (column: string, key: NumericGpuKey): ColumnMap<Sample> => ({
  column,
  write: (s) => s.gpu[key] ?? null,
  read: (v, s) => {
    s.gpu[key] = num(v);
  },
});

/** The `samples` table: every column, in no particular order (statements name their columns). */
export const SAMPLE_ROW: readonly ColumnMap<Sample>[] = [
  {
    column: 'ts',
    write: (s) => s.time,
    read: (v, s) => {
      s.time = v as number;
    },
  },
  memory('mem_total', 'total'),
  memory('mem_usable', 'usable'),
  memory('mem_free', 'free'),
  memory('mem_active', 'active'),
  memory('mem_inactive', 'inactive'),
  memory('mem_speculative', 'speculative'),
  memory('mem_wired', 'wired'),
  memory('mem_compressed', 'compressed'),
  memory('swap_used', 'swapUsed'),
  memory('swap_total', 'swapTotal'),
  {
    column: 'pressure_level',
    write: (s) => s.memory.pressureLevel,
    read: (v, s) => {
      const pl = num(v);
      s.memory.pressureLevel = pl === 1 || pl === 2 || pl === 4 ? pl : null;
    },
  },
  memory('free_percent', 'freePercent'),
  gpu('gpu_in_use', 'inUseBytes'),
  gpu('gpu_alloc', 'allocBytes'),
  gpu('gpu_ceiling', 'ceilingBytes'),
  gpu('gpu_util', 'utilization'),
  gpu('gpu_sampled_at', 'sampledAt'),
  gpu('gpu_recovery_count', 'recoveryCount'),
  {
    column: 'gpu_ceiling_source',
    write: (s) => s.gpu.ceilingSource ?? null,
    read: (v, s) => {
      s.gpu.ceilingSource = isCeilingSource(v) ? v : null;
    },
  },
  {
    column: 'exo_reachable',
    write: (s) => (s.exo.reachable === null ? null : s.exo.reachable ? 1 : 0),
    read: (v, s) => {
      s.exo.reachable = v === null || v === undefined ? null : v === 1;
    },
  },
  {
    column: 'exo_in_flight',
    write: (s) => s.exo.inFlight,
    read: (v, s) => {
      s.exo.inFlight = num(v);
    },
  },
  {
    column: 'risk_level',
    write: (s) => s.riskLevel ?? null,
    read: (v, s) => {
      s.riskLevel = num(v);
    },
  },
];

/** The `process_samples` table (one row per watched process per tick). */
export const PROCESS_ROW: readonly ColumnMap<ProcessRow>[] = [
  {
    column: 'ts',
    write: (p) => p.ts,
    read: (v, p) => {
      p.ts = v as number;
    },
  },
  {
    column: 'pid',
    write: (p) => p.pid,
    read: (v, p) => {
      p.pid = v as number;
    },
  },
  {
    column: 'start_time',
    write: (p) => p.startTime,
    read: (v, p) => {
      p.startTime = num(v);
    },
  },
  {
    column: 'role',
    write: (p) => p.role,
    read: (v, p) => {
      p.role = v as ProcessRole;
    },
  },
  {
    column: 'rss',
    write: (p) => p.rss,
    read: (v, p) => {
      p.rss = num(v);
    },
  },
  {
    column: 'phys_footprint',
    write: (p) => p.physFootprint,
    read: (v, p) => {
      p.physFootprint = num(v);
    },
  },
  {
    column: 'cpu_percent',
    write: (p) => p.cpuPercent,
    read: (v, p) => {
      p.cpuPercent = num(v);
    },
  },
  {
    column: 'threads',
    write: (p) => p.threads,
    read: (v, p) => {
      p.threads = num(v);
    },
  },
];

/**
 * `INSERT INTO <table> (…) VALUES (…) ON CONFLICT (<key>) DO NOTHING`, naming every column of the map. A row
 * already stored at the same key is kept: after the wall clock was set back, new ticks land on the very
 * milliseconds of stored ones (ticks fire a few ms after each second), and replacing them merged readings of
 * two real moments and destroyed history, the minutes before a panic among them.
 */
export const insertSql = <T>(table: string, map: readonly ColumnMap<T>[], key: string): string =>
  `INSERT INTO ${table} (${map.map((c) => c.column).join(', ')}) VALUES (${map.map(() => '?').join(', ')}) ON CONFLICT (${key}) DO NOTHING`;

export const rowValues = <T>(map: readonly ColumnMap<T>[], value: T): Cell[] =>
  map.map((c) => c.write(value));

/** A sample with every reading unknown, its keys in the order the API and the CLI print them. */
function blankSample(processes: ProcessReading[]): Sample {
  return {
    time: 0,
    memory: {
      total: null,
      usable: null,
      free: null,
      active: null,
      inactive: null,
      speculative: null,
      wired: null,
      compressed: null,
      swapUsed: null,
      swapTotal: null,
      pressureLevel: null,
      freePercent: null,
    },
    gpu: {
      inUseBytes: null,
      allocBytes: null,
      ceilingBytes: null,
      utilization: null,
      sampledAt: null,
      recoveryCount: null,
      ceilingSource: null,
    },
    processes,
    exo: { reachable: null, inFlight: null },
    riskLevel: null,
  };
}

export function rowToSample(r: Row, processes: ProcessReading[] = []): Sample {
  const s = blankSample(processes);
  for (const c of SAMPLE_ROW) c.read(r[c.column], s);
  return s;
}

type ProcessRow = ProcessReading & { ts: number };

/** A process reading from its row (the parent pid is not stored per tick: null). */
export function rowToProcessReading(r: Row): ProcessReading {
  const p: ProcessRow = {
    pid: 0,
    ppid: null,
    role: 'exo-other',
    startTime: null,
    rss: null,
    physFootprint: null,
    cpuPercent: null,
    threads: null,
    ts: 0,
  };
  for (const c of PROCESS_ROW) c.read(r[c.column], p);
  const { ts: _ts, ...reading } = p;
  return reading;
}
