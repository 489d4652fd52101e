import type { Notification, NotificationConstructorOptions } from 'electron';
import { levelRank, type RiskLevel } from '../../shared/risk.js';

export type NotificationLike = Pick<Notification, 'show' | 'on'>;

/** An alert a banner could not show: kept in the menu bar until the person opens it. */
export interface StickyAlert {
  title: string;
  body: string;
  view: string;
  time: number;
  /** Called once the alert has been seen (its banner shown, or the alert opened from the menu). */
  onSeen?: () => void;
}

/** What is known about banners: `failed` once macOS refused one (unsigned app, or notifications not allowed). */
export type BannerState = 'unknown' | 'shown' | 'failed' | 'unsupported';

export interface NotificationDeps {
  create(options: NotificationConstructorOptions): NotificationLike;
  isSupported(): boolean;
  /** Clicking a notification opens this dashboard view. */
  open(view: string): void;
  /** A banner could not be shown (unsupported, or `failed`): the alert goes to the menu bar instead. */
  fallback(alert: StickyAlert): void;
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
 * Banners still waiting for the system are kept here: Electron drops a `Notification` (with its `click` and
 * `failed` handlers) when nothing references it (electron#12690, #16922). macOS does not always say `close` for a
 * banner that went to Notification Center, so only the newest ones are kept.
 */
const MAX_LIVE = 32;

/**
 * Banners for what a person must know now: a level rising, a new panic, an EXO runner dying, and the
 * platform advisory at first start. Rate-limited per topic. Each banner stays referenced until it is closed,
 * clicked or failed; a `failed` one (every banner of an unsigned build, or with notifications not allowed)
 * becomes a sticky alert in the menu bar.
 */
export class NotificationController {
  private readonly last = new Map<string, number>();
  private readonly live = new Set<NotificationLike>();
  sent = 0;
  suppressed = 0;
  state: BannerState = 'unknown';

  constructor(private readonly deps: NotificationDeps) {}

  /** Banners handed to the system and not yet closed, clicked or failed. */
  get pending(): number {
    return this.live.size;
  }

  /** Shows a banner unless one on this topic was shown too recently. `onSeen` runs when it is seen. */
  show(topic: string, title: string, body: string, view: string, onSeen?: () => void): boolean {
    const now = this.deps.now();
    const last = this.last.get(topic);
    if (last !== undefined && now - last < (MIN_INTERVAL_MS[topic] ?? 60_000)) {
      this.suppressed++;
      return false;
    }
    this.last.set(topic, now);
    const alert: StickyAlert = { title, body, view, time: now, ...(onSeen ? { onSeen } : {}) };
    if (!this.deps.isSupported()) {
      this.state = 'unsupported';
      this.deps.fallback(alert);
      this.deps.log(`notifications unsupported: ${title}: ${body}`);
      return false;
    }
    const n = this.deps.create({ title, body, silent: false });
    const settle = (): void => {
      this.live.delete(n);
    };
    n.on('show', () => {
      this.state = 'shown';
      onSeen?.();
    });
    n.on('click', () => {
      settle();
      this.deps.open(view);
    });
    n.on('close', settle);
    n.on('failed', (_e, error) => {
      settle();
      this.state = 'failed';
      this.deps.fallback(alert);
      this.deps.log(`notification failed (${error}): ${title}: ${body}`);
    });
    this.live.add(n);
    if (this.live.size > MAX_LIVE) this.live.delete(this.live.values().next().value as NotificationLike);
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

  /** `onSeen` runs when the banner shows (or its menu-bar alert is opened), never merely when it is sent. */
  advisory(summary: string, onSeen?: () => void): boolean {
    return this.show('advisory', 'exo-sentinel: platform advisory', summary, 'Advisory', onSeen);
  }
}
