import { execFile } from 'node:child_process';
import type { RiskLevel } from '../../../shared/risk.js';
import type { Logger } from '../logger.js';
import type { DesktopNotifier } from './desktop-notifier.js';

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
 * Headless notifications: a log line, a desktop banner where there is a desktop (see desktop-notifier.ts), and
 * an optional user program run with an argument array and the notification in its environment
 * (EXO_SENTINEL_TITLE, EXO_SENTINEL_BODY, EXO_SENTINEL_LEVEL, EXO_SENTINEL_TOPIC). The result is not ok when the
 * banner or the program failed, and says why.
 */
export class HeadlessNotifier implements Notifier {
  constructor(
    private readonly logger: Logger,
    private readonly command: string[] | null,
    private readonly timeoutMs = 10_000,
    private readonly desktop: Pick<DesktopNotifier, 'notify'> | null = null,
  ) {}

  async notify(n: Notification): Promise<{ ok: boolean; detail: string }> {
    this.logger.warn({ notification: n }, `${n.title}: ${n.body}`);
    const [banner, program] = await Promise.all([
      this.desktop ? this.desktop.notify(n) : null,
      this.runCommand(n),
    ]);
    const details = ['logged'];
    if (banner && (banner.shown || !banner.ok)) details.push(banner.detail);
    if (program) details.push(program.detail);
    return { ok: (banner?.ok ?? true) && (program?.ok ?? true), detail: details.join('; ') };
  }

  private runCommand(n: Notification): Promise<{ ok: boolean; detail: string } | null> {
    if (!this.command) return Promise.resolve(null);
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
          else resolve({ ok: true, detail: `ran ${file}` });
        },
      );
    });
  }
}
