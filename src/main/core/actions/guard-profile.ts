import { GUARD_PROFILES, type GuardProfile } from '../../../shared/api-contracts.js';
import { GuardProfileSchema } from '../../../shared/guard-schemas.js';
import type { GuardMode } from '../../../shared/risk.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { AuditStore } from './audit-store.js';

/**
 * How the guard reads the evidence. `protect`: concurrency is the best-evidenced trigger of the IOGPU panic
 * (mlx#3186: two streams under the wired limit panicked 3/3 within 108 s, the same session sequentially ran
 * 111 min clean), so on an affected platform while EXO's wired limit is active, generation requests are
 * serialised whatever the level. `balanced`: the level alone chooses the mode. `observe`: record only, the
 * guard never holds back a request.
 */
export { GUARD_PROFILES, type GuardProfile, GuardProfileSchema };

const isProfile = (v: unknown): v is GuardProfile => (GUARD_PROFILES as readonly unknown[]).includes(v);

const PROFILE_KEY = 'guard.profile';
const NOTICE_KEY = 'guard.profile-notice';

const MODE_ORDER: GuardMode[] = ['open', 'serialise', 'refuse-new', 'cancel-newest'];

export interface ProfileFacts {
  /** The platform is affected (advisory), or the configuration applies the profile on any platform. */
  affected: boolean;
  /** EXO wired the Metal working set and has a model loaded. */
  wiredLimitActive: boolean;
}

export interface ProfileDecision {
  mode: GuardMode;
  /** The profile, not the level, chose this mode. */
  byProfile: boolean;
}

/** The mode a profile gives, from the mode the level (and a post-panic hold) calls for. */
export function profileMode(profile: GuardProfile, byLevel: GuardMode, facts: ProfileFacts): ProfileDecision {
  if (profile === 'observe') return { mode: 'open', byProfile: byLevel !== 'open' };
  if (
    profile === 'protect' &&
    facts.affected &&
    facts.wiredLimitActive &&
    MODE_ORDER.indexOf(byLevel) < MODE_ORDER.indexOf('serialise')
  )
    return { mode: 'serialise', byProfile: true };
  return { mode: byLevel, byProfile: false };
}

/** The one-time notice when `protect` first serialises: why, what it costs, how to choose otherwise. */
export const PROTECT_NOTICE =
  'exo-sentinel now serialises generation requests (one in flight at a time) while EXO has wired the Metal working set on this macOS build: ' +
  'concurrency under the wired limit is the best-evidenced trigger of the IOGPU kernel panic (mlx#3186: two streams panicked 3 of 3 times within 108 s; the same session one request at a time ran 111 min clean). ' +
  'It costs throughput: concurrent clients wait their turn. `exo-sentinel guard profile balanced` serialises only when the risk level asks; `exo-sentinel guard profile observe` records without acting.';

/** The profile chosen by hand (CLI, API), else the configured one. */
export function readGuardProfile(store: TimelineStore, configured: GuardProfile): GuardProfile {
  const v = store.getMeta(PROFILE_KEY);
  return isProfile(v) ? v : configured;
}

/** Chooses the profile (kept in the store: a running daemon reads it each tick); audited. False: no change. */
export function setGuardProfile(
  store: TimelineStore,
  audit: AuditStore,
  profile: GuardProfile,
  configured: GuardProfile,
  now: number,
  by: string,
): boolean {
  const before = readGuardProfile(store, configured);
  if (before === profile && store.getMeta(PROFILE_KEY) === profile) return false;
  store.setMeta(PROFILE_KEY, profile);
  const reason = `guard profile ${profile} chosen by ${by} (was ${before})`;
  audit.record({
    time: now,
    action: 'guard-profile',
    level: 'manual',
    reason,
    result: 'done',
    dryRun: false,
    detail: { profile, previous: before, by },
  });
  store.writeEvent({
    time: now,
    kind: 'guard.profile',
    severity: profile === 'observe' ? 'warning' : 'info',
    message: reason,
    data: { profile, from: before, by },
  });
  return true;
}

/** True once: the first time the protect profile serialises on this machine (the notice is then recorded). */
export function takeProtectNotice(store: TimelineStore): boolean {
  if (store.getMeta(NOTICE_KEY)) return false;
  store.setMeta(NOTICE_KEY, '1');
  return true;
}
