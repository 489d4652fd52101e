import type { ReportRecord } from '../../../shared/reports.js';
import { NOT_A_PANIC } from './report-ingester.js';

/**
 * Why a new ledger row gets no line of its own. A fixed set: an outsider who fills a report directory
 * chooses names, contents and bug types, never how many groups there are.
 */
export type TallyKind =
  | 'unreadable'
  | 'not-a-file'
  | 'not-a-panic'
  | 'other-report'
  | 'unwatched-crash'
  /** Reports past the ones told one by one in this scan (see ReportTally's `own`). */
  | 'more-reports';

/** What each kind is, for people ("3 report files <text>"). */
export const TALLY_TEXT: Record<TallyKind, string> = {
  unreadable: 'present but unreadable',
  'not-a-file': 'not read (not a regular file, or a link out of the directory)',
  'not-a-panic': 'skipped: named as reports but with no kernel panic in them',
  'other-report': 'skipped: reports of a bug_type exo-sentinel does not read',
  'unwatched-crash': 'skipped: crashes of processes exo-sentinel does not watch',
  'more-reports': 'added past the ones named one by one (exo-sentinel panics list shows them)',
};

/** Why a row is not told on its own: null for a report that is (a panic, a JetsamEvent, a watched crash). */
export function skipKind(r: ReportRecord): Exclude<TallyKind, 'more-reports'> | null {
  if (r.status === 'unreadable') return 'unreadable';
  if (r.status !== 'skipped') return null;
  if (r.category === 'crash') return 'unwatched-crash';
  if (r.category === null) return 'not-a-file';
  if (r.problem === NOT_A_PANIC || r.bugType === null || r.bugType === '210') return 'not-a-panic';
  return 'other-report';
}

/** One kind's tally: how many, a few of them, the first one's problem. */
export interface TallyGroup {
  kind: TallyKind;
  count: number;
  /** The first paths (at most `maxExamples`). */
  examples: string[];
  /** The first row's problem (the advice for an unreadable file). */
  problem: string | null;
}

/**
 * New ledger rows between two flushes (a scan): the first `own` reports worth a line each are let through;
 * skipped and unreadable rows, and reports past those, are counted by kind with a few example paths.
 * Memory is bounded by the number of kinds, whatever the number of files.
 */
export class ReportTally {
  private readonly groups = new Map<TallyKind, TallyGroup>();
  private told = 0;

  constructor(
    private readonly own = 50,
    private readonly maxExamples = 5,
  ) {}

  /** Counts the row, or returns true when it is to be told on its own. */
  add(r: ReportRecord): boolean {
    const kind = skipKind(r) ?? (this.told < this.own ? null : 'more-reports');
    if (kind === null) {
      this.told++;
      return true;
    }
    let g = this.groups.get(kind);
    if (!g) {
      g = { kind, count: 0, examples: [], problem: r.problem };
      this.groups.set(kind, g);
    }
    g.count++;
    if (g.examples.length < this.maxExamples) g.examples.push(r.path);
    return false;
  }

  get empty(): boolean {
    return this.groups.size === 0;
  }

  /** The groups counted since the last take (in the order first seen), and a fresh start. */
  take(): TallyGroup[] {
    const out = [...this.groups.values()];
    this.groups.clear();
    this.told = 0;
    return out;
  }
}
