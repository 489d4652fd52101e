import { basename } from 'node:path';
import type { ReportRecord } from '../../../shared/reports.js';
import type { EventCollector } from '../event-collector.js';
import type { Logger } from '../logger.js';
import { ReportTally, TALLY_TEXT, type TallyGroup } from '../panics/report-tally.js';
import { recordReportEvent } from './timeline-events.js';

/** The kinds whose summary is also a timeline event (the others are routine files macOS writes). */
const EVENT_KINDS: Partial<Record<TallyGroup['kind'], string>> = {
  unreadable: 'report.unreadable',
  'not-a-file': 'report.not-read',
  'more-reports': 'report.more',
};

export interface ReportNoticesDeps {
  events: EventCollector;
  logger: Logger;
  /** A scan runs: its end flushes (see flush), the timer does not. */
  scanning: () => boolean;
  /** Rows that arrive outside a scan (the directory watch) are summed up this long after the first. */
  quietMs?: number;
  /** Reports told one by one per scan (report-tally.ts). */
  own?: number;
}

/**
 * What new ledger rows say in the log and the timeline, bounded: a panic, a JetsamEvent or a watched crash
 * is an event and a line of its own (the first `own` of a scan); skipped and unreadable files, and reports
 * past those, are one line (and for some kinds one event) per kind per scan, with the count and a few
 * names. Each file is told at debug level. A directory an outsider fills with 100k files costs a handful of
 * lines, not 100k: the log is the record of what happened before a panic, and must not rotate it away.
 * The ledger keeps each file once, so a rescan of the same files says nothing again.
 */
export class ReportNotices {
  private readonly tally: ReportTally;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly d: ReportNoticesDeps) {
    this.tally = new ReportTally(d.own);
  }

  add(r: ReportRecord): void {
    if (this.tally.add(r)) {
      recordReportEvent(r, this.d.events, this.d.logger);
      return;
    }
    this.d.logger.debug(
      { report: { path: r.path, status: r.status, category: r.category, bugType: r.bugType } },
      `report ${r.name}: ${r.status}${r.problem ? `: ${r.problem}` : ''}`,
    );
    if (this.timer === null && !this.d.scanning()) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.d.scanning()) this.flush();
      }, this.d.quietMs ?? 10_000);
      this.timer.unref();
    }
  }

  /** One line (and event) per kind counted since the last flush. Called at the end of each scan. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const g of this.tally.take()) this.tell(g);
  }

  private tell(g: TallyGroup): void {
    const names = g.examples.map((p) => basename(p));
    const more = g.count > names.length ? `, … (${g.count - names.length} more)` : '';
    const problem = g.kind === 'unreadable' && g.problem ? `: ${g.problem}` : '';
    const message = `${g.count} report file${g.count === 1 ? '' : 's'} ${TALLY_TEXT[g.kind]}: ${names.join(', ')}${more}${problem}`;
    const data = { kind: g.kind, count: g.count, examples: g.examples, problem: g.problem };
    const event = EVENT_KINDS[g.kind];
    if (event) this.d.events.push(event, 'warning', message, data);
    if (event) this.d.logger.warn({ reports: data }, message);
    else this.d.logger.info({ reports: data }, message);
  }
}
