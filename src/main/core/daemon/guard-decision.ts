import type { GuardModeResult, GuardProfileChoice, GuardProfileView } from '../../../shared/api-contracts.js';
import type { GuardMode } from '../../../shared/risk.js';
import type { AuditStore } from '../actions/audit-store.js';
import { pinGuardMode, readGuardOverride } from '../actions/guard-override.js';
import {
  GUARD_PROFILES,
  type GuardProfile,
  PROTECT_NOTICE,
  profileMode,
  readGuardProfile,
  setGuardProfile,
  takeProtectNotice,
} from '../actions/guard-profile.js';
import { readHold } from '../actions/post-panic-hold.js';
import {
  boundedWakeHold,
  readWakeHold,
  type WakeHold,
  wakeHoldActive,
  wakeHoldReason,
  wakeNotice,
  withWakeHold,
  writeWakeHold,
} from '../actions/wake-hold.js';
import type { Config } from '../config/config-schema.js';
import type { EventCollector } from '../event-collector.js';
import type { ModeSource, WakeHoldView } from '../guard/admission.js';
import type { GuardServer } from '../guard/guard-server.js';
import type { Logger } from '../logger.js';
import type { RiskPipeline } from '../risk/risk-pipeline.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { Clock } from './clock.js';

export interface GuardDecisionDeps {
  store: TimelineStore;
  audit: AuditStore;
  risk: RiskPipeline;
  guard: GuardServer | null;
  config: () => Config;
  events: EventCollector;
  logger: Logger;
  clock: Clock;
  /** Whether the advisory calls this platform affected (asked once). */
  platformAffected: () => boolean;
  /** A fault caught at an entry point: an event and a log line. */
  contain: (where: string, e: unknown) => void;
}

export type ModeDecision = { mode: GuardMode; modeSource: ModeSource; wakeHold: WakeHoldView | null };

/**
 * Who chooses the guard's admission mode, in one place: a hand pin, else the guard profile (protect
 * serialises while EXO's wired limit is active on an affected platform; observe never holds back), else the
 * sleep/wake hold, else the post-panic hold (when it is stricter), else the risk level. Pins and profiles
 * chosen here are kept in the store, audited, and applied to the guard at once.
 */
export class GuardDecision {
  private platformAffected: boolean | null = null;
  /** The sleep/wake hold, read from the store once (a hold left asleep by a stopped daemon counts from now). */
  private wakeHold: WakeHold | null | undefined = undefined;
  private wakeHoldWasActive = false;

  constructor(private readonly deps: GuardDecisionDeps) {}

  /** The mode in force (a CLI pin made while a daemon without its API runs is read here, at each tick). */
  get mode(): GuardMode {
    return this.decide().mode;
  }

  decide(): ModeDecision {
    const { store, clock, events } = this.deps;
    const pin = readGuardOverride(store);
    if (pin) return { mode: pin, modeSource: 'pin', wakeHold: null };
    const now = clock.now();
    const bounded = boundedWakeHold(this.currentWakeHold(), now, this.wakeHoldSeconds);
    if (bounded) this.keepWakeHold(bounded);
    const profile = readGuardProfile(store, this.deps.config().actions.guardProfile);
    const held = withWakeHold(this.levelProfile(profile), this.currentWakeHold(), now, profile);
    const active = held.modeSource === 'wake-hold';
    if (this.wakeHoldWasActive && !wakeHoldActive(this.currentWakeHold(), now))
      events.push(
        'guard.wake-hold-ended',
        'info',
        'the sleep/wake hold ended: new generation requests are admitted again',
        {},
      );
    this.wakeHoldWasActive = active;
    const v = active ? this.wakeHoldView(now) : null;
    // The guard counts Retry-After down on Date.now(); the hold ends on the daemon's clock.
    const until = v === null || v.until === null ? null : v.until - now + Date.now();
    return { ...held, wakeHold: v ? { reason: v.reason, until } : null };
  }

  /** The mode the profile and the level (and the post-panic hold) call for. */
  private levelProfile(profile: GuardProfile): { mode: GuardMode; modeSource: ModeSource } {
    const { risk, store, events } = this.deps;
    const mode = risk.guardMode;
    const actions = this.deps.config().actions;
    const byLevel = actions.guardModes[risk.state.level];
    this.platformAffected ??= this.deps.platformAffected();
    const p = profileMode(profile, mode, {
      affected: actions.guardProfilePlatforms === 'any' || this.platformAffected,
      wiredLimitActive: risk.wiredLimitActive,
    });
    if (p.byProfile) {
      if (profile === 'protect' && takeProtectNotice(store))
        events.push('guard.profile-notice', 'warning', PROTECT_NOTICE, { profile });
      return { mode: p.mode, modeSource: 'profile' };
    }
    return { mode, modeSource: readHold(store) && mode !== byLevel ? 'hold' : 'level' };
  }

  /** Applies the decided mode to the guard at once (not at the next tick, not behind a notification). */
  apply(): void {
    this.deps.guard?.update(this.decide());
  }

  /** The guard profile in effect (chosen by hand, else configured) and the configured one. */
  profileView(): GuardProfileView {
    const configured = this.deps.config().actions.guardProfile;
    return { profile: readGuardProfile(this.deps.store, configured), configured, profiles: GUARD_PROFILES };
  }

  /** Chooses the profile as `exo-sentinel guard profile` does (kept, audited, a `guard.profile` event). */
  chooseProfile(profile: GuardProfile, by: string): GuardProfileChoice {
    const { store, audit, clock } = this.deps;
    const configured = this.deps.config().actions.guardProfile;
    const changed = setGuardProfile(store, audit, profile, configured, clock.now(), by);
    if (changed) this.apply();
    return { profile: readGuardProfile(store, configured), configured, changed, guardMode: this.mode };
  }

  /** Pins the guard to a mode (null: back to following the level); applied at once. */
  pin(mode: GuardMode | null, by: string): GuardModeResult {
    const { store, audit, risk, clock } = this.deps;
    if (pinGuardMode(store, audit, mode, risk.guardMode, clock.now(), by)) this.apply();
    return { guardMode: this.mode, guardOverride: mode };
  }

  get wakeHoldSeconds(): number {
    return this.deps.config().guard.wakeHoldSeconds;
  }

  currentWakeHold(): WakeHold | null {
    if (this.wakeHold === undefined) {
      let h: WakeHold | null = null;
      try {
        h = readWakeHold(this.deps.store);
      } catch {
        h = null;
      }
      // Running again means awake: a sleep notice with no wake (the process ended asleep) is a wake now.
      if (h && h.until === null) h = wakeNotice(h, this.deps.clock.now(), this.wakeHoldSeconds, h.via);
      this.wakeHold = h;
    }
    return this.wakeHold;
  }

  /** A hold brought back within its length (the wall clock was set back): kept and stored, not announced. */
  private keepWakeHold(h: WakeHold): void {
    this.wakeHold = h;
    try {
      writeWakeHold(this.deps.store, h);
    } catch (e) {
      this.deps.logger.warn({ err: e }, `the sleep/wake hold could not be stored: ${(e as Error).message}`);
    }
  }

  /** Starts (or times) the sleep/wake hold: persisted, in the timeline, applied to the guard at once. */
  startWakeHold(h: WakeHold): void {
    if (this.wakeHoldSeconds <= 0) return;
    this.wakeHold = h;
    try {
      writeWakeHold(this.deps.store, h);
    } catch (e) {
      this.deps.logger.warn({ err: e }, `the sleep/wake hold could not be stored: ${(e as Error).message}`);
    }
    this.deps.events.push('guard.wake-hold', 'info', wakeHoldReason(h, this.wakeHoldSeconds), { ...h });
    try {
      this.apply();
    } catch (e) {
      this.deps.contain('wake-hold', e);
    }
  }

  /** The hold as the status, the API and the guard show it; null when it does not hold. */
  wakeHoldView(now: number = this.deps.clock.now()): (WakeHoldView & WakeHold) | null {
    const h = this.currentWakeHold();
    if (!h || !wakeHoldActive(h, now)) return null;
    return { ...h, reason: wakeHoldReason(h, this.wakeHoldSeconds) };
  }
}
