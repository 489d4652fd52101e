import type { ProcessRole } from './sample.js';

export type ReportStatus = 'ingested' | 'unreadable' | 'skipped';
export type ReportCategory = 'panic' | 'jetsam' | 'crash' | 'other';

/** Who the panicked (or crashed) pid was, from the pid map recorded before the crash. */
export interface Attribution {
  /** exo-runner, exo-main, mlx-server, … or `other` when the pid was not a watched process. */
  verdict: ProcessRole | 'other' | 'unknown';
  confidence: 'exact' | 'probable' | 'none';
  explanation: string;
  process: {
    pid: number;
    role: ProcessRole;
    argv: string[];
    executable: string | null;
    startTime: number | null;
    lastSeen: number;
  } | null;
}

/** One diagnostic report file as the scan ledger knows it. */
export interface ReportRecord {
  id: number;
  path: string;
  name: string;
  dir: string;
  size: number;
  mtime: number;
  status: ReportStatus;
  /** Why it is unreadable or skipped, and what would fix it. */
  problem: string | null;
  category: ReportCategory | null;
  bugType: string | null;
  /** Panic kind (completeMemory, …) or crash cause (metalCheckError, …). */
  kind: string | null;
  /** Epoch ms of the panic or crash, from the report body; null if it does not say. */
  panicTime: number | null;
  pid: number | null;
  processName: string | null;
  attribution: Attribution | null;
  info: Record<string, unknown> | null;
  ingestedAt: number;
}
