import type { Notification, NotificationConstructorOptions } from 'electron';
import { levelRank, type RiskLevel } from '../../shared/risk.js';

export type NotificationLike = Pick<Notification, 'show' | 'on'>;

export interface NotificationDeps {
  create(options: NotificationConstructorOptions): NotificationLike;
  isSupported(): boolean;
  /** Clicking a notification opens this dashboard view. */
  open(view: string): void;
  /** When banners cannot be shown (unsupported, or `failed`: unsigned builds get none). */
  fallback(title: string, body: string): void;
  log(message: string): void;
  now(): number;
}

/** Minimum time between two notifications on one topic. */
const MIN_INTERVAL_MS: Record<string, number> = {
  level: 60_000,
  panic: 5_000,
  runner: 60_000,
  advisory: Number.POSITIVE_INFINITY,
};

/**
 * Banners for what a person must know now: a level rising, a new panic, an EXO runner dying, and the
 * platform advisory at first start. Rate-limited per topic; a `failed` banner falls back to the tray.
 */
export class NotificationController {
  private readonly last = new Map<string, number>();
  sent = 0;
  suppressed = 0;

  constructor(private readonly deps: NotificationDeps) {}

  /** Shows a banner unless one on this topic was shown too recently. */
  show(topic: string, title: string, body: string, view: string): boolean {
    const now = this.deps.now();
    const last = this.last.get(topic);
    if (last !== undefined && now - last < (MIN_INTERVAL_MS[topic] ?? 60_000)) {
      this.suppressed++;
      return false;
    }
    this.last.set(topic, now);
    if (!this.deps.isSupported()) {
      this.deps.fallback(title, body);
      this.deps.log(`notifications unsupported: ${title}: ${body}`);
      return false;
    }
    const n = this.deps.create({ title, body, silent: false });
    n.on('click', () => this.deps.open(view));
    n.on('failed', (_e, error) => {
      this.deps.fallback(title, body);
      this.deps.log(`notification failed (${error}): ${title}: ${body}`);
    });
    n.show();
    this.sent++;
    return true;
  }

  levelChanged(previous: RiskLevel, next: RiskLevel, reason: string | null): boolean {
    if (levelRank(next) <= levelRank(previous)) return false;
    return this.show('level', `EXO risk ${next.toUpperCase()}`, reason ?? 'see the dashboard', 'Overview');
  }

  /** Clicking opens that report in the dashboard when its id is known. */
  panic(kind: string | null, when: string, reportId?: number): boolean {
    return this.show(
      'panic',
      'Kernel panic recorded',
      `${kind ?? 'unknown'} at ${when}. The crash report is ready to file.`,
      reportId === undefined ? 'Panics' : `Panics:${reportId}`,
    );
  }

  runnerDied(message: string): boolean {
    return this.show('runner', 'An EXO runner died', message, 'Overview');
  }

  advisory(summary: string): boolean {
    return this.show('advisory', 'exo-sentinel: platform advisory', summary, 'Advisory');
  }
}
