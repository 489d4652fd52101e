import type { RiskLevel } from '../../shared/risk.js';

/**
 * `exo-sentinel status --exit-status`: the exit code is the level, for scripts and monitoring (the shape of a
 * Nagios/Icinga check): 0 ok, 1 elevated, 2 high, 3 critical, 4 unknown (this machine could not be read, the
 * configuration or the command line is wrong, or anything else failed).
 */
export const LEVEL_EXIT_CODES: Readonly<Record<RiskLevel, number>> = {
  ok: 0,
  elevated: 1,
  high: 2,
  critical: 3,
};
export const EXIT_UNKNOWN = 4;

export const exitCodeForLevel = (level: RiskLevel | null | undefined): number =>
  (level ? LEVEL_EXIT_CODES[level] : undefined) ?? EXIT_UNKNOWN;

/** Whether the command line asks for the level as the exit code (read before parsing, for parse errors too). */
export const asksExitStatus = (argv: readonly string[]): boolean =>
  argv.includes('status') && argv.some((a) => a === '--exit-status' || a.startsWith('--exit-status='));
