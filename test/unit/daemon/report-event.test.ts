import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordReportEvent } from '../../../src/main/core/daemon/timeline-events.js';
import { EventCollector } from '../../../src/main/core/event-collector.js';
import type { Logger } from '../../../src/main/core/logger.js';
import type { ReportRecord } from '../../../src/shared/reports.js';

describe("a report's event and log line", () => {
  it('carry no newline or escape from a file name or a process name anyone can choose', () => {
    const lines: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => lines.push(msg) } as unknown as Logger;
    const events = new EventCollector(() => 0);
    const evil = 'evil\u001b]0;title\u0007\u001b[2J\nFAKE.ips: ingested crash other\r\u2028x';
    const report = {
      id: 1,
      path: `/reports/${evil}.ips`,
      name: `${evil}.ips`,
      status: 'ingested',
      category: 'crash',
      kind: 'metalCheckError',
      panicTime: 0,
      pid: 42,
      processName: `python\n${evil}`,
      attribution: null,
    } as unknown as ReportRecord;
    recordReportEvent(report, events, logger);
    recordReportEvent(
      { ...report, status: 'unreadable', problem: 'mode 0600' } as ReportRecord,
      events,
      logger,
    );
    const said = [...lines, ...events.drain().map((e) => e.message)];
    assert.equal(said.length, 4);
    for (const text of said) assert.doesNotMatch(text, /[\u0000-\u001f\u007f\u2028]/, JSON.stringify(text));
    assert.match(
      said[0]!,
      /^report evil ]0;title \[2J FAKE\.ips: ingested crash other x\.ips: ingested crash/,
    );
  });
});
