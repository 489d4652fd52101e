/**
 * What a person may send to steer the guard, validated the same way by the HTTP API, the app's IPC and the
 * CLI. Uses zod: import it from main and the CLI, never from the renderer or the preload (their bundles stay
 * free of it).
 */
import { z } from 'zod/v3';
import { GUARD_PROFILES } from './api-contracts.js';
import { GUARD_MODES, type GuardMode } from './risk.js';

/** A guard mode, or `auto` (→ null) to follow the level. */
export const GuardChoice = z
  .enum(['auto', ...GUARD_MODES])
  .transform((v): GuardMode | null => (v === 'auto' ? null : v));

export const GuardProfileSchema = z.enum(GUARD_PROFILES);
