import { InvalidArgumentError } from 'commander';
import { parseDuration, parseTime } from '../core/util/format.js';

/** Exit codes: 0 ok, 1 the command failed, 2 the command line was wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const positiveNumber =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };

/** A whole number within [min, max] (a count of lines, a limit). */
export const wholeNumber =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a whole number from ${min} to ${max}, got "${value.slice(0, 60)}"`,
      );
    }
    return n;
  };

export const duration = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0)
    throw new InvalidArgumentError(
      `expected a duration like 90s, 15m, 2h or 7d (at most 100 years), got "${value.slice(0, 60)}"`,
    );
  return ms;
};

export const timestamp = (value: string): number => {
  const t = parseTime(value);
  if (t === null)
    throw new InvalidArgumentError(
      `expected an ISO 8601 time (2026-11-26T03:00:00Z) or epoch ms a date can hold, got "${value.slice(0, 60)}"`,
    );
  return t;
};

export const httpUrl = (value: string): string => {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected a URL like http://127.0.0.1:52415, got "${value}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidArgumentError(`expected an http:// or https:// URL, got "${value}"`);
  return value.replace(/\/+$/, '');
};

export const listenAddress = (value: string): string => {
  if (!/^(?:\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(value.trim()) || Number(value.split(':').pop()) > 65535) {
    throw new InvalidArgumentError(`expected HOST:PORT such as 127.0.0.1:52416, got "${value}"`);
  }
  return value.trim();
};
