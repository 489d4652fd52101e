import type {
  AckResult,
  ClusterView,
  GuardModeResult,
  GuardProfileChoice,
  GuardProfileView,
} from '../../shared/api-contracts.js';
import type { GuardMode } from '../../shared/risk.js';
import type { StatusView } from '../../shared/status-view.js';
import type { GuardProfile } from '../core/actions/guard-profile.js';

type Answer<T> = T | Promise<T>;

/**
 * What the Electron shell's IPC asks of the in-process daemon: its service's calls (daemon-backend.ts), the
 * same answers the HTTP API gives. The shapes are the service's (src/shared/api-contracts.ts); this
 * interface only names the channels, so a test can stand in for the daemon.
 */
export interface AppBackend {
  status(): StatusView;
  /** A bounded page of the range: `{resolution, samples|minutes, truncated, next}`. */
  timeline(from: number, to: number): Answer<object>;
  /** A page of events, newest first: `{events, truncated, next}` (`next`: the `before` of the page after). */
  events(kind: string, from: number, before?: number): Answer<object>;
  /** A page of reports, newest first: `{reports, truncated, next}`. */
  panics(before?: number): object;
  panicReport(id: number): string | null;
  cluster(): Promise<ClusterView>;
  advisory(): object;
  config(): object;
  /** The configuration file's JSON Schema (the same as GET /api/v1/config/schema). */
  configSchema(): object;
  /** Saves and applies a configuration: `applied` and `restartRequired` name keys (the daemon's reload). */
  saveConfig(config: unknown): {
    ok: boolean;
    errors: string[];
    applied?: string[];
    restartRequired?: string[];
    reloadErrors?: string[];
  };
  /** Changes some keys of the stored file (`{set, unset}`) and keeps the rest; answers as `saveConfig`. */
  patchConfig(patch: unknown): ReturnType<AppBackend['saveConfig']>;
  ack(): AckResult;
  /** Pins the guard's mode; null follows the risk level again. */
  setGuardMode(mode: GuardMode | null): GuardModeResult;
  /** The guard profile in effect and the configured one: `{profile, configured, profiles}`. */
  guardProfile(): GuardProfileView;
  /** Chooses the guard profile (the same call as `exo-sentinel guard profile` and the API's PUT). */
  setGuardProfile(profile: GuardProfile): GuardProfileChoice;
}
