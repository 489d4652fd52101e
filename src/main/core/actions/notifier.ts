import { execFile } from 'node:child_process';
import type { RiskLevel } from '../../../shared/risk.js';
import type { Logger } from '../logger.js';

export interface Notification {
  title: string;
  body: string;
  level: RiskLevel;
  /** What it is about: level, panic, runner-death, advisory. */
  topic: string;
}

/** The port the shells implement: the menu-bar app shows banners; the headless daemon logs and may run a program. */
export interface Notifier {
  notify(n: Notification): Promise<{ ok: boolean; detail: string }>;
}

/**
 * Headless notifications: a log line, plus an optional user program run with an argument array and the
 * notification in its environment (EXO_SENTINEL_TITLE, EXO_SENTINEL_BODY, EXO_SENTINEL_LEVEL, EXO_SENTINEL_TOPIC).
 */
export class HeadlessNotifier implements Notifier {
  constructor(
    private readonly logger: Logger,
    private readonly command: string[] | null,
    private readonly timeoutMs = 10_000,
  ) {}

  async notify(n: Notification): Promise<{ ok: boolean; detail: string }> {
    this.logger.warn({ notification: n }, `${n.title}: ${n.body}`);
    if (!this.command) return { ok: true, detail: 'logged' };
    const [file, ...args] = this.command;
    return new Promise((resolve) => {
      execFile(
        file!,
        args,
        {
          timeout: this.timeoutMs,
          env: {
            ...process.env,
            EXO_SENTINEL_TITLE: n.title,
            EXO_SENTINEL_BODY: n.body,
            EXO_SENTINEL_LEVEL: n.level,
            EXO_SENTINEL_TOPIC: n.topic,
          },
        },
        (error, _stdout, stderr) => {
          if (error) resolve({ ok: false, detail: `${file}: ${String(stderr).trim() || error.message}` });
          else resolve({ ok: true, detail: `logged; ran ${file}` });
        },
      );
    });
  }
}
