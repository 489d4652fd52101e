import type { GuardMode } from '../../shared/risk.js';
import type { GuardProfile } from '../core/actions/guard-profile.js';

/** What the Electron shell asks of the in-process daemon (the same answers the HTTP API gives). */
export interface AppBackend {
  status(): Record<string, unknown>;
  /** A bounded page of the range: `{resolution, samples|minutes, truncated, next}`. */
  timeline(from: number, to: number): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** A page of events, newest first: `{events, truncated, next}` (`next`: the `before` of the page after). */
  events(
    kind: string,
    from: number,
    before?: number,
  ): Record<string, unknown> | Promise<Record<string, unknown>>;
  /** A page of reports, newest first: `{reports, truncated, next}`. */
  panics(before?: number): Record<string, unknown>;
  panicReport(id: number): string | null;
  cluster(): Promise<Record<string, unknown>>;
  advisory(): Record<string, unknown>;
  config(): Record<string, unknown>;
  /** The configuration file's JSON Schema (the same as GET /api/v1/config/schema). */
  configSchema(): Record<string, unknown>;
  /** Saves and applies a configuration: `applied` and `restartRequired` name keys (the daemon's reload). */
  saveConfig(config: unknown): {
    ok: boolean;
    errors: string[];
    applied?: string[];
    restartRequired?: string[];
    reloadErrors?: string[];
  };
  ack(): Record<string, unknown>;
  /** Pins the guard's mode; null follows the risk level again. */
  setGuardMode(mode: GuardMode | null): Record<string, unknown>;
  /** The guard profile in effect and the configured one: `{profile, configured, profiles}`. */
  guardProfile(): Record<string, unknown>;
  /** Chooses the guard profile (the same call as `exo-sentinel guard profile` and the API's PUT). */
  setGuardProfile(profile: GuardProfile): Record<string, unknown>;
}
